"""Generation end to end against the fast stub server, including injected faults and crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nemo_skills.errors import ConfigError, InputError, ServerError
from nemo_skills.inference.generate import GenerateConfig, generate
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.inference.output_files import chunk_output_file
from nemo_skills.utils.overrides import config_from_dict
from tests.stub import run_stub


def write_input(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"problem": f"question {i}", "id": i}) + "\n" for i in range(count)))
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def config(tmp_path: Path, base_url: str, count: int = 20, **overrides) -> GenerateConfig:
    server = overrides.pop(
        "server", ServerConfig(server_type="vllm", base_url=base_url, model="stub-model", retry_backoff_s=0.01)
    )
    return GenerateConfig(
        input_file=str(write_input(tmp_path / "input.jsonl", count)),
        output_file=str(tmp_path / "out" / "output.jsonl"),
        prompt_config="generic/default",
        server=server,
        progress_bar=False,
        **overrides,
    )


def assert_complete(output_file: Path, count: int) -> list[dict]:
    rows = read_output(output_file)
    assert [row["id"] for row in rows] == list(range(count))
    for row in rows:
        assert row["generation"] == f"echo: question {row['id']}"
        assert row["finish_reason"] == "stop"
        assert row["num_generated_tokens"] == 3
        assert row["generation_time"] >= 0
        assert "_async_position" not in row and "_input_hash" not in row
    assert Path(f"{output_file}.done").exists()
    assert not Path(f"{output_file}-async").exists()
    return rows


@pytest.fixture(scope="module")
def stub():
    with run_stub() as handle:
        yield handle


def test_generates_every_row_in_input_order(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=50, max_concurrent_requests=8)
    summary = generate(cfg)
    assert summary.num_generated == 50 and summary.num_resumed == 0
    assert_complete(Path(cfg.output_file), 50)


def test_second_run_is_a_no_op_and_rerun_starts_over(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=5)
    generate(cfg)
    assert generate(cfg).already_done
    cfg.skip_filled = False
    assert generate(cfg).num_generated == 5


@pytest.mark.parametrize("fault", ["429", "500", "reset"])
def test_run_survives_injected_faults(tmp_path, fault):
    with run_stub("--fault", fault, "--fault_every", "3") as faulty:
        cfg = config(tmp_path, faulty.base_url, count=30, max_concurrent_requests=4)
        summary = generate(cfg)
        assert faulty.stats()["faults"] >= 10
    assert summary.retries >= 10
    assert_complete(Path(cfg.output_file), 30)


def test_run_survives_requests_that_time_out(tmp_path):
    with run_stub("--fault", "hang", "--fault_every", "4", "--hang_s", "30") as hanging:
        cfg = config(
            tmp_path, hanging.base_url, count=12, max_concurrent_requests=4, inference=InferenceConfig(timeout=0.5)
        )
        summary = generate(cfg)
    assert summary.retries >= 3
    assert_complete(Path(cfg.output_file), 12)


def test_unreachable_server_fails_naming_url_and_error(tmp_path):
    from nemo_skills.inference.server.local import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    server = ServerConfig(server_type="vllm", base_url=url, model="m", max_retries=2, retry_backoff_s=0.01)
    cfg = config(tmp_path, url, count=3, server=server)
    started = time.time()
    with pytest.raises(ServerError, match=r"127\.0\.0\.1.*failed after 3 attempts; last error: .*Connect"):
        generate(cfg)
    assert time.time() - started < 10
    assert not Path(cfg.output_file).exists()


def test_truncated_generations_are_marked(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=3, inference=InferenceConfig(tokens_to_generate=2))
    generate(cfg)
    rows = read_output(Path(cfg.output_file))
    assert all(row["finish_reason"] == "length" and row["generation"] == "echo: question" for row in rows)


def test_text_endpoint_without_token_budget_is_refused(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, inference=InferenceConfig(endpoint_type="text"), tokenizer="unused")
    with pytest.raises(ConfigError, match="tokens_to_generate"):
        generate(cfg)


def test_missing_prompt_field_names_field_and_line(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=3)
    with open(cfg.input_file, "a") as handle:
        handle.write(json.dumps({"question": "no problem field"}) + "\n")
    with pytest.raises(InputError, match=r"input\.jsonl:4: the row has no field 'problem'"):
        generate(cfg)
    assert stub.stats()["completions"] >= 0  # nothing was sent for this run: the check happens before requests


def test_malformed_jsonl_names_line(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=2)
    with open(cfg.input_file, "a") as handle:
        handle.write('{"problem": "unterminated\n')
    with pytest.raises(InputError, match=r"input\.jsonl:3: not valid JSON"):
        generate(cfg)


def test_chunks_merge_into_the_unchunked_order(tmp_path, stub):
    base = config(tmp_path, stub.base_url, count=11)
    for chunk_id in (2, 0, 1):  # finishing order does not matter
        cfg = config(tmp_path, stub.base_url, count=11, num_chunks=3, chunk_id=chunk_id)
        generate(cfg)
    assert_complete(Path(base.output_file), 11)
    assert not chunk_output_file(base.output_file, 0).exists()


def test_openai_prompt_format_uses_row_messages(tmp_path, stub):
    path = tmp_path / "messages.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"hi {i}"}], "id": i} for i in range(3)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    cfg = config(tmp_path, stub.base_url, prompt_format="openai", prompt_suffix="!")
    cfg.prompt_config = None
    cfg.input_file = str(path)
    generate(cfg)
    assert [row["generation"] for row in read_output(Path(cfg.output_file))] == [
        "echo: hi 0!",
        "echo: hi 1!",
        "echo: hi 2!",
    ]


def test_dry_run_sends_nothing(tmp_path, stub, capsys):
    before = stub.stats()["completions"]
    cfg = config(tmp_path, stub.base_url, count=4, dry_run=True)
    generate(cfg)
    out = capsys.readouterr().out
    assert "4 requests to send" in out and "question 0" in out
    assert stub.stats()["completions"] == before
    assert not Path(cfg.output_file).exists()


def generate_argv(cfg_dir: Path, base_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "nemo_skills.inference.generate",
        f"++input_file={cfg_dir / 'input.jsonl'}",
        f"++output_file={cfg_dir / 'out' / 'output.jsonl'}",
        "++prompt_config=generic/default",
        "++server.server_type=vllm",
        f"++server.base_url={base_url}",
        "++server.model=stub-model",
        "++progress_bar=False",
        *extra,
    ]


def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    count = 200
    write_input(tmp_path / "input.jsonl", count)
    progress_file = tmp_path / "out" / "output.jsonl-async"
    with run_stub("--delay_s", "0.05") as slow:
        process = subprocess.Popen(generate_argv(tmp_path, slow.base_url, "++max_concurrent_requests=4"))
        deadline = time.time() + 30
        while time.time() < deadline and (not progress_file.exists() or progress_file.read_text().count("\n") < 40):
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        saved = progress_file.read_text().count("\n")
        assert 40 <= saved < count
        sent_before = slow.stats()["completions"]
        subprocess.run(generate_argv(tmp_path, slow.base_url, "++max_concurrent_requests=16"), check=True)
        resent = slow.stats()["completions"] - sent_before
    assert resent == count - saved  # only what was not saved is asked again
    assert_complete(tmp_path / "out" / "output.jsonl", count)


def test_torn_progress_line_is_repaired_on_resume(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=6, max_samples=3)
    generate(cfg)  # first three rows finished...
    output = Path(cfg.output_file)
    partial = output.with_name(output.name + "-async")
    lines = output.read_text().splitlines()
    # rebuild a progress file as a killed run would leave it: two whole records and a torn third
    from nemo_skills.inference.resume import ProgressFile, input_hash

    raw = Path(cfg.input_file).read_bytes().splitlines()
    output.unlink()
    Path(f"{output}.done").unlink()
    progress = ProgressFile(output)
    for position in range(2):
        progress.append(position, input_hash(raw[position]), json.loads(lines[position]))
    progress.close()
    with partial.open("a") as handle:
        handle.write('{"generation": "torn')
    cfg.max_samples = -1
    summary = generate(cfg)
    assert summary.num_resumed == 2 and summary.num_generated == 4
    assert_complete(output, 6)


def test_changed_input_rows_are_regenerated(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=4)
    generate(cfg)
    output = Path(cfg.output_file)
    Path(f"{output}.done").unlink()
    from nemo_skills.inference.resume import ProgressFile, input_hash

    rows = read_output(output)
    output.unlink()
    raw = Path(cfg.input_file).read_bytes().splitlines()
    progress = ProgressFile(output)
    for position, row in enumerate(rows):
        progress.append(position, input_hash(raw[position]), row)
    progress.close()
    lines = Path(cfg.input_file).read_text().splitlines()
    lines[1] = json.dumps({"problem": "question 1", "id": 1, "note": "edited"})
    Path(cfg.input_file).write_text("\n".join(lines) + "\n")
    summary = generate(cfg)
    assert summary.num_resumed == 3 and summary.num_generated == 1
    assert read_output(output)[1]["note"] == "edited"


def test_dry_run_never_deletes_progress(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=3)
    generate(cfg)
    cfg.skip_filled, cfg.dry_run = False, True
    generate(cfg)
    assert Path(f"{cfg.output_file}.done").exists()
    assert len(read_output(Path(cfg.output_file))) == 3


def test_rerun_of_chunks_rebuilds_the_merged_file(tmp_path, stub):
    for chunk_id in range(2):
        generate(config(tmp_path, stub.base_url, count=4, num_chunks=2, chunk_id=chunk_id))
    output = Path(config(tmp_path, stub.base_url, count=4).output_file)
    first_mtime = output.stat().st_mtime_ns
    for chunk_id in range(2):
        generate(config(tmp_path, stub.base_url, count=4, num_chunks=2, chunk_id=chunk_id, skip_filled=False))
    assert output.stat().st_mtime_ns != first_mtime
    assert_complete(output, 4)


def test_examples_type_slot_missing_from_a_row_fails_before_requests(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=2, examples_type="{topic}")
    with pytest.raises(InputError, match="no field 'topic'"):
        generate(cfg)


def test_chat_template_kwargs_travel_with_chat_requests(tmp_path):
    from nemo_skills.inference.generate import GenerationTask

    cfg = config(tmp_path, "http://127.0.0.1:1/v1", chat_template_kwargs={"enable_thinking": False})
    GenerationTask(cfg)
    assert cfg.inference.extra_body == {"chat_template_kwargs": {"enable_thinking": False}}
    twice = config(
        tmp_path,
        "http://127.0.0.1:1/v1",
        chat_template_kwargs={"a": 1},
        inference=InferenceConfig(extra_body={"chat_template_kwargs": {"a": 2}}),
    )
    with pytest.raises(ConfigError, match="once"):
        GenerationTask(twice)


def test_openai_messages_system_override():
    from nemo_skills.inference.generate import openai_messages

    rows = [{"role": "system", "content": "old"}, {"role": "user", "content": "q"}]
    assert openai_messages(rows, "new", "")[0] == {"role": "system", "content": "new"}
    assert openai_messages(rows, "", "") == [{"role": "user", "content": "q"}]
    assert openai_messages(rows[1:], None, " A:") == [{"role": "user", "content": "q A:"}]
    assert rows[0]["content"] == "old"  # the row itself is not modified


def test_run_record_describes_the_run(tmp_path, stub):
    cfg = config(tmp_path, stub.base_url, count=3, inference=InferenceConfig(temperature=0.5))
    generate(cfg)
    record = json.loads(Path(f"{cfg.output_file}.run.json").read_text())
    assert record["kind"] == "generation" and record["record_version"] == 1
    assert record["config"]["inference"]["temperature"] == 0.5
    assert record["config"]["server"]["base_url"] == stub.base_url
    assert record["summary"]["num_generated"] == 3
    rebuilt = config_from_dict(GenerateConfig, record["config"])
    assert rebuilt == cfg


def test_a_second_writer_of_the_same_output_is_refused(tmp_path, stub):
    from nemo_skills.inference.generate import exclusive_writer

    cfg = config(tmp_path, stub.base_url, count=3)
    output = Path(cfg.output_file)
    output.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_writer(output):
        with pytest.raises(ConfigError, match=r"is being generated by pid \d+ on"):
            generate(cfg)
    assert generate(cfg).num_generated == 3  # free again once the first writer is gone
