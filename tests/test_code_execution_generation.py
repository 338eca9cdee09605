"""Generation with code execution: a scripted model writes a block, the real sandbox runs it, the model continues."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_skills.errors import ServerError
from nemo_skills.inference.code_execution import CodeExecutionConfig, format_output, open_code_block
from nemo_skills.inference.generate import GenerateConfig, generate
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.inference.server.local import free_port
from nemo_skills.inference.server.wait import wait_for_server
from nemo_skills.prompt.config import CodeTags, load_code_tags
from tests.stub import run_stub


@pytest.fixture(scope="module")
def sandbox_port():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "nemo_skills.code_execution.server", "--port", str(port)])
    try:
        wait_for_server(f"http://127.0.0.1:{port}", timeout_s=60, process=process, health_paths=("/health",))
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def config(tmp_path: Path, base_url: str, sandbox_port: int, **inference) -> GenerateConfig:
    input_file = tmp_path / "in.jsonl"
    input_file.write_text("".join(json.dumps({"problem": f"What is 6 times 7? ({i})"}) + "\n" for i in range(3)))
    return GenerateConfig(
        input_file=str(input_file),
        output_file=str(tmp_path / "out.jsonl"),
        prompt_config="generic/math",
        server=ServerConfig(server_type="vllm", base_url=base_url, model="stub-model"),
        inference=InferenceConfig(**inference),
        code_execution=True,
        code_execution_config=CodeExecutionConfig(sandbox_port=sandbox_port),
        progress_bar=False,
    )


@pytest.mark.parametrize("endpoint_type", ["chat", "text"])
def test_code_block_is_executed_and_the_model_continues(tmp_path, sandbox_port, endpoint_type):
    with run_stub("--script", "code") as stub:
        cfg = config(tmp_path, stub.base_url, sandbox_port, endpoint_type=endpoint_type, tokens_to_generate=200)
        if endpoint_type == "text":
            cfg.prompt_format = "openai"
            cfg.prompt_config = None
            rows = [{"messages": [{"role": "user", "content": "What is 6 times 7?"}]}]
            Path(cfg.input_file).write_text("".join(json.dumps(row) + "\n" for row in rows))
            tokenizer_dir = tmp_path / "tokenizer"
            from tests.test_prompts import CHAT_TEMPLATE, save_tiny_tokenizer  # built offline

            save_tiny_tokenizer(tokenizer_dir, CHAT_TEMPLATE)
            cfg.tokenizer = str(tokenizer_dir)
        generate(cfg)
        requests = stub.stats()["completions"]
    rows = [json.loads(line) for line in Path(cfg.output_file).read_text().splitlines()]
    for row in rows:
        assert row["generation"] == (
            "Let me compute it.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\nSo the answer is \\boxed{42}."
        )
        assert row["code_rounds_executed"] == 1 and row["num_code_timeouts"] == 0
    assert requests == 2 * len(rows)  # one request before the code runs, one after


def test_execution_budget_is_respected(tmp_path, sandbox_port):
    with run_stub("--script", "code") as stub:
        cfg = config(tmp_path, stub.base_url, sandbox_port)
        cfg.code_execution_config.max_code_executions = 0
        generate(cfg)
    row = json.loads(Path(cfg.output_file).read_text().splitlines()[0])
    assert row["code_rounds_executed"] == 0 and row["generation"].endswith("print(6 * 7)\n")


def test_missing_sandbox_fails_loudly(tmp_path):
    with run_stub("--script", "code") as stub:
        cfg = config(tmp_path, stub.base_url, free_port())
        with pytest.raises(ServerError, match="No code sandbox at http://127.0.0.1"):
            generate(cfg)


def test_open_block_and_output_formats():
    tags = CodeTags()
    assert open_code_block("a\n```python\nx = 1\n", tags) == "x = 1\n"
    assert open_code_block("```python\nx\n```\ndone", tags) is None
    assert open_code_block("no code", tags) is None
    assert format_output("42\n", "", "completed", tags, 100) == "```output\n42\n```\n"
    assert format_output("x" * 10, "", "completed", tags, 4) == "```output\nxxxx\n<output cut>\n```\n"
    assert "Execution timed out" in format_output("", "", "timeout", tags, 100)
    llama = format_output("1\n", "oops\n", "error", load_code_tags("llama3"), 100)
    assert llama == (
        "<|start_header_id|>ipython<|end_header_id|>[status] error\n[stdout]\n1\n[/stdout]\n"
        "[stderr]\noops\n[/stderr]\n<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
    )
