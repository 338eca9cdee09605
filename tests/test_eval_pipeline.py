"""`ns eval` end to end on this machine (executor none) against a scripted stub model whose answers make every
metric exact; resuming; the errors users meet before anything runs."""

from __future__ import annotations

import json

import pytest

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.evaluation.evaluate import graded_record_path
from nemo_skills.pipeline.common import ServerOptions
from nemo_skills.pipeline.eval import run_eval
from nemo_skills.pipeline.eval_plan import EvalPlan, parse_benchmarks
from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic
from tests.stub import run_stub

PROBLEMS = [
    {"id": "p1", "problem": "What is 2+3?", "expected_answer": "5"},
    {"id": "p2", "problem": "What is 10-4?", "expected_answer": "6"},
    {"id": "p3", "problem": "What is 7*3?", "expected_answer": "21"},
]
# per problem, the answer of seed 0 and seed 1
ANSWERS = [
    {"match": "What is 2+3?", "responses": ["It is \\boxed{5}.", "So \\boxed{5.0}"]},
    {"match": "What is 10-4?", "responses": ["\\boxed{7}", "\\boxed{6}"]},
    {
        "match": "What is 7*3?",
        "responses": ["I do not know.", "7*3 = \\boxed{2"],
        "finish_reasons": ["stop", "length"],
    },
]


@pytest.fixture
def scripted_stub(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    with run_stub("--answers", str(answers)) as stub:
        yield stub


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    (folder / "gsm8k").mkdir(parents=True)
    write_jsonl_atomic(folder / "gsm8k" / "test.jsonl", PROBLEMS)
    return folder


def plan(tmp_path, stub, data_dir, **kwargs) -> EvalPlan:
    values = dict(
        benchmarks="gsm8k:2",
        output_dir=str(tmp_path / "out"),
        server=ServerOptions(server_type="vllm", model="stub-model", server_address=stub.base_url),
        data_dir=str(data_dir),
        overrides=["++inference.temperature=0.7", "++progress_bar=False"],
    )
    values.update(kwargs)
    return EvalPlan(**values)


def test_eval_generates_grades_and_summarizes_exactly(tmp_path, scripted_stub, data_dir):
    run_eval(plan(tmp_path, scripted_stub, data_dir))
    results = tmp_path / "out" / "eval-results"
    seed1 = read_jsonl(results / "gsm8k" / "output-rs1.jsonl")
    assert [(r["predicted_answer"], r["symbolic_correct"]) for r in seed1] == [
        ("5.0", True),
        ("6", True),
        (None, False),
    ]
    assert seed1[2]["finish_reason"] == "length"
    metrics = json.loads((results / "metrics.json").read_text())["gsm8k"]
    average = metrics["pass@1[avg-of-2]"]
    # seed 0: 1/3 correct, seed 1: 2/3 correct
    assert average["num_entries"] == 3
    assert average["symbolic_correct"] == pytest.approx(50.0)
    assert average["no_answer"] == pytest.approx(100 / 3)  # p3 seed 0 and p3 seed 1 have no answer: 2 of 6
    assert average["truncated"] == pytest.approx(100 / 6)
    assert average["symbolic_correct_completed_only"] == pytest.approx(60.0)  # 3 of the 5 completed samples
    assert metrics["majority@2"]["symbolic_correct"] == pytest.approx(50.0)  # p1 1, p2 tie 0.5, p3 0
    assert metrics["pass@2"]["symbolic_correct"] == pytest.approx(200 / 3)
    # a second run finds everything done
    assert run_eval(plan(tmp_path, scripted_stub, data_dir)) is None


def test_a_run_killed_after_generation_resumes_with_grading_only(tmp_path, scripted_stub, data_dir):
    run_eval(plan(tmp_path, scripted_stub, data_dir))
    folder = tmp_path / "out" / "eval-results" / "gsm8k"
    graded_record_path(folder / "output-rs0.jsonl").unlink()  # as if killed between generation and grading
    completions = scripted_stub.stats()["completions"]
    run_eval(plan(tmp_path, scripted_stub, data_dir))
    assert scripted_stub.stats()["completions"] == completions  # nothing regenerated
    assert graded_record_path(folder / "output-rs0.jsonl").is_file()


def test_greedy_run_writes_output_jsonl(tmp_path, scripted_stub, data_dir):
    run_eval(plan(tmp_path, scripted_stub, data_dir, benchmarks="gsm8k", overrides=["++progress_bar=False"]))
    rows = read_jsonl(tmp_path / "out" / "eval-results" / "gsm8k" / "output.jsonl")
    assert [r["symbolic_correct"] for r in rows] == [True, False, False]
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())
    assert list(metrics["gsm8k"]) == ["pass@1"]
    assert metrics["gsm8k"]["pass@1"]["symbolic_correct"] == pytest.approx(100 / 3)


def test_chunked_run_grades_the_merged_file(tmp_path, scripted_stub, data_dir):
    run_eval(plan(tmp_path, scripted_stub, data_dir, num_chunks=2))
    folder = tmp_path / "out" / "eval-results" / "gsm8k"
    assert sorted(p.name for p in folder.glob("output-rs*.jsonl")) == ["output-rs0.jsonl", "output-rs1.jsonl"]
    assert all(graded_record_path(folder / f"output-rs{s}.jsonl").is_file() for s in (0, 1))
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())
    assert metrics["gsm8k"]["pass@1[avg-of-2]"]["symbolic_correct"] == pytest.approx(50.0)


def test_errors_before_anything_runs(tmp_path, data_dir):
    server = ServerOptions(server_type="vllm", model="m", server_address="http://127.0.0.1:1/v1")
    base = dict(output_dir=str(tmp_path / "o"), server=server, data_dir=str(data_dir))
    with pytest.raises(ConfigError, match="temperature 0"):
        run_eval(EvalPlan(benchmarks="gsm8k:4", **base))
    with pytest.raises(InputError, match="ns prepare_data math-500"):
        run_eval(EvalPlan(benchmarks="math-500", **base))
    with pytest.raises(ConfigError, match="Unknown benchmark 'gsm8'"):
        run_eval(EvalPlan(benchmarks="gsm8", **base))
    with pytest.raises(ConfigError, match="inference.temprature"):
        run_eval(EvalPlan(benchmarks="gsm8k", overrides=["++inference.temprature=0.5"], **base))
    with pytest.raises(ConfigError, match="eval_config.no_such_key|no_such_key"):
        run_eval(EvalPlan(benchmarks="gsm8k", extra_eval_args=["++eval_config.no_such_key=1"], **base))
    assert not (tmp_path / "o").exists()


def test_parse_benchmarks():
    assert parse_benchmarks("gsm8k:4,math-500") == [("gsm8k", 4), ("math-500", None)]
    with pytest.raises(ConfigError, match="more than once"):
        parse_benchmarks("gsm8k,gsm8k:2")
    with pytest.raises(ConfigError, match="Cannot parse benchmark"):
        parse_benchmarks("gsm8k:x")


def test_dry_run_prints_the_plan(tmp_path, data_dir, capsys):
    server = ServerOptions(server_type="vllm", model="m", server_address="http://127.0.0.1:1/v1")
    plan_ = EvalPlan(benchmarks="gsm8k", output_dir=str(tmp_path / "o"), server=server, data_dir=str(data_dir))
    plan_.job.dry_run = True
    run_eval(plan_)
    out = capsys.readouterr().out
    assert "nemo_skills.inference.generate" in out and "nemo_skills.evaluation.evaluate" in out
    assert "nemo_skills.evaluation.summarize" in out and "++eval_type=math" in out
    assert not (tmp_path / "o" / "eval-results").exists()


def judged_setup(tmp_path, benchmark: str, rows: list[dict], answers: list[dict]):
    folder = tmp_path / "data" / benchmark
    folder.mkdir(parents=True)
    write_jsonl_atomic(folder / ("verified.jsonl" if benchmark == "simpleqa" else "test.jsonl"), rows)
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    return tmp_path / "data", tmp_path / "answers.json"


def judged_plan(tmp_path, stub, data_dir, benchmarks):
    from nemo_skills.pipeline.eval_plan import JudgeOptions

    return EvalPlan(
        benchmarks=benchmarks,
        output_dir=str(tmp_path / "out"),
        server=ServerOptions(server_type="vllm", model="stub-model", server_address=stub.base_url),
        judge=JudgeOptions(
            judge_model="stub-model",
            judge_server_type="vllm",
            judge_server_address=stub.base_url,
            extra_judge_args="++progress_bar=False",
        ),
        data_dir=str(data_dir),
        overrides=["++progress_bar=False"],
    )


def test_simpleqa_runs_the_judge_and_scores_its_verdicts(tmp_path):
    rows = [
        {"id": "q1", "problem": "Capital of France?", "expected_answer": "Paris"},
        {"id": "q2", "problem": "Capital of Peru?", "expected_answer": "Lima"},
        {"id": "q3", "problem": "Capital of Chad?", "expected_answer": "N'Djamena"},
        {"id": "q4", "problem": "Capital of Mali?", "expected_answer": "Bamako"},
    ]
    answers = [  # judge prompts first: they hold the model's response, which the main prompts do not
        {"match": "Response: RESP-Paris", "responses": ["It matches.\nA"]},
        {"match": "Response: RESP-Cusco", "responses": ["Grade: B"]},
        {"match": "Response: RESP-unsure", "responses": ["C"]},
        {"match": "Response: RESP-garbled", "responses": ["I cannot decide between A and B"]},
        {"match": "Capital of France?", "responses": ["RESP-Paris"]},
        {"match": "Capital of Peru?", "responses": ["RESP-Cusco"]},
        {"match": "Capital of Chad?", "responses": ["RESP-unsure"]},
        {"match": "Capital of Mali?", "responses": ["RESP-garbled"]},
    ]
    data_dir, answers_file = judged_setup(tmp_path, "simpleqa", rows, answers)
    with run_stub("--answers", str(answers_file)) as stub:
        run_eval(judged_plan(tmp_path, stub, data_dir, "simpleqa"))
    final = read_jsonl(tmp_path / "out" / "eval-results" / "simpleqa" / "output.jsonl")
    assert [r["judge_grade"] for r in final] == ["correct", "incorrect", "not_attempted", "invalid"]
    assert final[0]["generation"] == "RESP-Paris" and final[0]["judgement"] == "It matches.\nA"
    assert (tmp_path / "out" / "tmp-eval-results" / "simpleqa" / "output.jsonl").is_file()
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())["simpleqa"]["pass@1"]
    assert metrics["correct"] == 25.0 and metrics["incorrect"] == 25.0 and metrics["not_attempted"] == 25.0
    assert metrics["invalid_judgements"] == 25.0 and metrics["accuracy_given_attempted"] == 50.0


def test_arena_hard_plays_both_orders(tmp_path):
    rows = [
        {"id": "a1", "problem": "Write a haiku", "baseline_answer": "BASE-1"},
        {"id": "a2", "problem": "Explain TCP", "baseline_answer": "BASE-2"},
    ]
    answers = [
        # game 1: A = baseline, B = model; game 2 (swapped): A = model, B = baseline
        {"match": "ASSISTANT A =====\nBASE-1", "responses": ["Final verdict: [[B>>A]]"]},
        {"match": "ASSISTANT A =====\nMODEL-1", "responses": ["Final verdict: [[A>B]]"]},
        {"match": "ASSISTANT A =====\nBASE-2", "responses": ["Final verdict: [[A=B]]"]},
        {"match": "ASSISTANT A =====\nMODEL-2", "responses": ["no verdict"]},
        {"match": "Write a haiku", "responses": ["MODEL-1"]},
        {"match": "Explain TCP", "responses": ["MODEL-2"]},
    ]
    data_dir, answers_file = judged_setup(tmp_path, "arena-hard", rows, answers)
    with run_stub("--answers", str(answers_file)) as stub:
        run_eval(judged_plan(tmp_path, stub, data_dir, "arena-hard"))
    final = read_jsonl(tmp_path / "out" / "eval-results" / "arena-hard" / "output.jsonl")
    assert [r["arena_outcomes"] for r in final] == [["strong_win", "win"], ["tie", "invalid"]]
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())["arena-hard"]["pass@1"]
    # battles: strong win x3 (3 points), win (1), tie (0.5): 4.5 points over weight 5
    assert metrics["score"] == pytest.approx(90.0) and metrics["invalid_scores"] == 1
    assert metrics["ci95_low"] <= 90.0 <= metrics["ci95_high"]


def test_ns_eval_killed_mid_generation_resumes_without_losing_or_repeating(tmp_path):
    """`kill -9` of the whole `ns eval` process group mid-run, then the same command again."""
    import os
    import signal
    import subprocess
    import time

    from tests.test_cli import NS

    count = 60
    folder = tmp_path / "data" / "gsm8k"
    folder.mkdir(parents=True)
    rows = [{"id": i, "problem": f"What is {i} plus zero?", "expected_answer": str(i)} for i in range(count)]
    write_jsonl_atomic(folder / "test.jsonl", rows)
    answers = [{"match": f"What is {i} plus zero?", "responses": [f"\\boxed{{{i}}}"]} for i in range(count)]
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    progress = tmp_path / "out" / "eval-results" / "gsm8k" / "output.jsonl-async"
    with run_stub("--answers", str(tmp_path / "answers.json"), "--delay_s", "0.1") as stub:
        argv = [
            *NS,
            "eval",
            "--benchmarks=gsm8k",
            f"--output_dir={tmp_path / 'out'}",
            f"--data_dir={tmp_path / 'data'}",
            f"--server_address={stub.base_url}",
            "--model=stub-model",
            "++progress_bar=False",
        ]
        process = subprocess.Popen(
            [*argv, "++max_concurrent_requests=2"], start_new_session=True, stdout=subprocess.DEVNULL
        )
        deadline = time.time() + 60
        while time.time() < deadline and (not progress.exists() or progress.read_text().count("\n") < 10):
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # nemo-run starts the job detached from the `ns` process: kill it too, as a machine crash would
        subprocess.run(["pkill", "-9", "-f", f"{tmp_path / 'out'}/"], check=False)
        time.sleep(0.5)
        saved = progress.read_text().count("\n")
        assert 10 <= saved < count
        sent_before = stub.stats()["completions"]
        result = subprocess.run([*argv, "++max_concurrent_requests=16"], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        resent = stub.stats()["completions"] - sent_before
    assert count - saved <= resent <= count - saved + 2  # at most the requests in flight at the kill are repeated
    final = read_jsonl(tmp_path / "out" / "eval-results" / "gsm8k" / "output.jsonl")
    assert [r["id"] for r in final] == list(range(count)) and all(r["symbolic_correct"] for r in final)
    assert "100.00%" in result.stdout
