"""`code`: run the model's program against the benchmark's tests in the code sandbox (over HTTP).

For each row the code is extracted from the generation (`nemo_skills.evaluation.code.extraction`), then tested:

* a row with `test_script` (HumanEval's `check(...)`, MBPP's asserts): the solution runs, then the script in the
  same namespace; `is_correct` when the script finishes without an exception within `timeout_s`;
* a problem whose test file entry has `io_tests` (LiveCodeBench): every case must pass, public ones first.
  stdin cases run the program once per case with the input on stdin, `timeout_s` each, and compare stdout
  line by line (numbers by value); functional cases call `Solution().<fn_name>(*args)` with `timeout_s` per call;
* a problem with `plus_tests` (EvalPlus): differential testing against the reference solution, per input
  max(`min_time_limit_s`, `time_limit_factor` x the reference's time). Without a `test_script` the base inputs
  decide `is_correct` (MBPP+); `is_correct_plus` (written only for problems with `plus_tests`) needs `is_correct`
  and every base and plus input to pass.

For HumanEval/MBPP rows the row's `prompt` runs before the extracted code (`prepend_prompt`), so the imports and
helpers of the prompt exist and a bare function body completes the prompt's signature. LiveCodeBench programs get
LiveCodeBench's import prelude. Fields written: `code` ("" when none was found), `is_correct`, `is_correct_plus`,
`test_status` (passed | failed | timeout | error | no_code), `plus_status` (the same, or not_run), `error` (short).

A program that fails, crashes or runs out of time is just incorrect. An unreachable sandbox, a sandbox error, a
reference solution that fails, or a problem without any tests fails the whole run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext, generation_text

LOG = logging.getLogger(__name__)
HOST_ENV = "NEMO_SKILLS_SANDBOX_HOST"
PORT_ENV = "NEMO_SKILLS_SANDBOX_PORT"
CLIENT_TIMEOUT_PREFIX = "Client timed out"
FUNCTIONAL_BATCH_BYTES = 4 << 20
FUNCTIONAL_BATCH_CASES = 50


@dataclass
class CodeEvalConfig:
    sandbox_host: Optional[str] = None  # default: $NEMO_SKILLS_SANDBOX_HOST, else 127.0.0.1
    sandbox_port: Optional[int] = None  # default: $NEMO_SKILLS_SANDBOX_PORT, else 6000
    sandbox_wait_s: float = 120.0  # wait this long for the sandbox to answer /health, then fail
    max_concurrency: int = 16  # programs in the sandbox at once (never more than its worker slots)
    timeout_s: float = 10.0  # a test script, one stdin case, or one functional call
    min_time_limit_s: float = 1.0  # EvalPlus: per-input limit max(min_time_limit_s, time_limit_factor x reference)
    time_limit_factor: float = 4.0
    evalplus_timeout_s: float = 300.0  # wall limit of one EvalPlus run (reference and candidate, every input)
    run_plus_tests: bool = True  # False: no EvalPlus plus inputs, no is_correct_plus
    prepend_prompt: bool = True  # run the row's `prompt` before the code (HumanEval/MBPP)
    test_file: Optional[str] = None  # default: <data_file>.tests.jsonl beside the prepared split, when present
    max_problems_in_memory: int = 64  # test-file entries held at once


@dataclass
class _Item:
    index: int
    problem_id: str
    row: dict[str, Any]
    code: str


@dataclass(frozen=True)
class _Outcome:
    status: str  # passed | failed | timeout | error | not_run
    error: str | None = None


class GradingError(RuntimeError):
    """The grading itself went wrong (sandbox, reference solution, test data), not the model's program."""


def _tail(text: str, limit: int = 200) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    return last if len(last) <= limit else last[: limit - 3] + "..."


def _process_outcome(result: Any) -> _Outcome:
    """What a run that reported nothing says about the program."""
    if result.process_status == "timeout":
        return _Outcome("timeout", "wall-time limit")
    if result.process_status == "completed":
        return _Outcome("error", "exited without reporting a result")
    return _Outcome("error", _tail(result.stderr) or f"exit code {result.exit_code}")


class _Runner:
    def __init__(self, client: Any, slots: asyncio.Semaphore, config: CodeEvalConfig, where: str):
        self.client = client
        self.slots = slots
        self.config = config
        self.where = where

    async def execute(self, program: str, timeout: float, std_input: str | None = None) -> Any:
        from nemo_skills.code_execution.client import SandboxError

        for _ in range(3):
            async with self.slots:
                result = await self.client.execute(program, language="python", timeout=timeout, std_input=std_input)
            if not (result.process_status == "timeout" and (result.stderr or "").startswith(CLIENT_TIMEOUT_PREFIX)):
                return result
            LOG.warning("%s: the sandbox did not answer within %.0f s; retrying the run.", self.where, timeout)
        raise SandboxError(f"the sandbox kept not answering within {timeout:.0f} s (+ grace); is it overloaded?")

    async def harness(self, payload: dict[str, Any], timeout: float) -> tuple[list[dict[str, Any]], Any]:
        from nemo_skills.evaluation.code.programs import harness_program, parse_results

        program, nonce = harness_program(payload)
        result = await self.execute(program, timeout)
        lines = parse_results(result.stdout, nonce)
        for line in lines:
            if line.get("status") == "harness_error":
                raise GradingError(f"{self.where}: the test harness failed: {line.get('error')}")
        return lines, result

    async def script(self, solution: str, test: str) -> _Outcome:
        payload = {"mode": "script", "solution": solution, "test": test, "time_limit": self.config.timeout_s}
        lines, result = await self.harness(payload, 2 * self.config.timeout_s + 5)
        if not lines:
            return _process_outcome(result)
        return _Outcome(lines[-1]["status"], lines[-1].get("error"))

    async def evalplus(
        self, solution: str, spec: dict[str, Any], stages: list[str], problem: str
    ) -> dict[str, _Outcome]:
        cfg = self.config
        payload = {
            "mode": "evalplus",
            "reference": spec["reference"],
            "solution": solution,
            "entry_point": spec["entry_point"],
            "atol": spec.get("atol") or 0,
            "oracle": spec.get("oracle") or "exact",
            "input_transform": spec.get("input_transform"),
            "min_time_limit": cfg.min_time_limit_s,
            "time_limit_factor": cfg.time_limit_factor,
            "load_time_limit": cfg.timeout_s,
            "stages": [[stage, spec[f"{stage}_inputs"]] for stage in stages],
        }
        lines, result = await self.harness(payload, cfg.evalplus_timeout_s)
        outcomes: dict[str, _Outcome] = {}
        reference_done = False
        for line in lines:
            if line.get("status") == "reference_error":
                raise GradingError(f"{self.where}: the reference solution of {problem} failed: {line.get('error')}")
            if line.get("stage") == "reference":
                reference_done = True
                continue
            outcomes[line["stage"]] = _Outcome(line["status"], line.get("error"))
        if not reference_done:
            raise GradingError(
                f"{self.where}: the reference solution of {problem} did not finish "
                f"({_process_outcome(result).error}); raise ++eval_config.evalplus_timeout_s."
            )
        missing = _process_outcome(result)
        for stage in stages:
            if stage not in outcomes:
                outcomes[stage] = missing
                missing = _Outcome("not_run")
            elif outcomes[stage].status != "passed":
                missing = _Outcome("not_run")
        return outcomes

    async def stdin_cases(self, code: str, cases: list[dict[str, str]]) -> _Outcome:
        from nemo_skills.evaluation.code.programs import LCB_PRELUDE, assemble, stdout_matches

        program = assemble(LCB_PRELUDE, code)
        for index, case in enumerate(cases):
            result = await self.execute(program, self.config.timeout_s, std_input=case["input"])
            if result.process_status != "completed":
                outcome = _process_outcome(result)
                return _Outcome(outcome.status, f"test {index}: {outcome.error}")
            if result.truncated:
                return _Outcome("failed", f"test {index}: output over the sandbox's limit")
            if not stdout_matches(result.stdout, case["output"]):
                return _Outcome("failed", f"test {index}: wrong answer")
        return _Outcome("passed")

    async def functional_cases(self, code: str, fn_name: str, cases: list[dict[str, str]]) -> _Outcome:
        from nemo_skills.evaluation.code.programs import LCB_PRELUDE, assemble

        solution = assemble(LCB_PRELUDE, code)
        start = 0
        while start < len(cases):
            end, size = start, 0
            while end < len(cases) and end - start < FUNCTIONAL_BATCH_CASES:
                size += len(cases[end]["input"]) + len(cases[end]["output"])
                if end > start and size > FUNCTIONAL_BATCH_BYTES:
                    break
                end += 1
            payload = {
                "mode": "functional",
                "solution": solution,
                "fn_name": fn_name,
                "cases": cases[start:end],
                "offset": start,
                "time_limit": self.config.timeout_s,
            }
            lines, result = await self.harness(payload, self.config.timeout_s * (end - start + 2) + 5)
            if not lines:
                outcome = _process_outcome(result)
                return _Outcome(outcome.status, f"tests {start}-{end - 1}: {outcome.error}")
            if lines[-1]["status"] != "passed":
                return _Outcome(lines[-1]["status"], lines[-1].get("error"))
            start = end
        return _Outcome("passed")


@EVALUATORS.register("code")
class CodeEvaluator(Evaluator):
    Config = CodeEvalConfig
    output_fields = ("code", "is_correct", "is_correct_plus", "test_status", "plus_status", "error")

    def sandbox_url(self) -> str:
        host = self.config.sandbox_host or os.environ.get(HOST_ENV) or "127.0.0.1"
        port = self.config.sandbox_port or os.environ.get(PORT_ENV) or 6000
        return f"http://{host}:{port}"

    def test_file(self, context: GradingContext) -> Path | None:
        from nemo_skills.dataset.code_tests import code_tests_file

        if self.config.test_file:
            path = Path(self.config.test_file)
            if not path.is_file():
                raise InputError(f"++eval_config.test_file={path} does not exist.")
            return path
        if context.data_file:
            path = code_tests_file(context.data_file)
            return path if path.is_file() else None
        return None

    def grade(self, rows: list[dict[str, Any]], context: GradingContext) -> list[dict[str, Any]]:
        from nemo_skills.dataset.code_tests import code_tests_file
        from nemo_skills.evaluation.code.extraction import extract_code

        if not rows:
            return []
        items = []
        for index, row in enumerate(rows):
            if row.get("id") is None:
                raise InputError(f"{context.where}: row {index + 1} has no `id`; code benchmarks need one.")
            text = generation_text(row, context.generation_key, f"{context.where}:{index + 1}")
            code, _ = extract_code(text)
            items.append(_Item(index, str(row["id"]), row, code))
        test_file = self.test_file(context)
        if test_file is None:
            where = f"no {code_tests_file(context.data_file)}" if context.data_file else "++data_file not given"
            LOG.info("%s: no test file (%s); grading with the rows' own tests only.", context.where, where)
        start = time.monotonic()
        results = asyncio.run(self._grade(items, test_file, context.where))
        LOG.info("%s: graded %d rows in the sandbox in %.1f s.", context.where, len(items), time.monotonic() - start)
        return results

    async def _wait_for_sandbox(self, url: str) -> dict[str, Any]:
        from nemo_skills.code_execution.client import SandboxClient, SandboxError

        deadline = time.monotonic() + self.config.sandbox_wait_s
        async with SandboxClient(url, max_retries=0) as probe:
            while True:
                try:
                    return await probe.health(timeout=5.0)
                except (SandboxError, asyncio.TimeoutError, OSError) as error:
                    if time.monotonic() > deadline:
                        raise SandboxError(
                            f"no code sandbox answered at {url} within {self.config.sandbox_wait_s:g} s ({error}). "
                            "Start one (python -m nemo_skills.code_execution.server) or point "
                            f"++eval_config.sandbox_host/sandbox_port (or {HOST_ENV}/{PORT_ENV}) at it."
                        ) from None
                await asyncio.sleep(0.5)

    async def _grade(self, items: list[_Item], test_file: Path | None, where: str) -> list[dict[str, Any]]:
        from nemo_skills.code_execution.client import SandboxClient
        from nemo_skills.dataset.code_tests import iter_test_entries

        url = self.sandbox_url()
        health = await self._wait_for_sandbox(url)
        if "python" not in health.get("languages", ["python"]):
            raise GradingError(f"the sandbox at {url} cannot run python (languages: {health.get('languages')}).")
        workers = int((health.get("workers") or {}).get("total") or 1)
        concurrency = max(1, min(self.config.max_concurrency, workers))
        results: list[dict[str, Any] | None] = [None] * len(items)
        by_problem: dict[str, list[_Item]] = defaultdict(list)
        for item in items:
            by_problem[item.problem_id].append(item)
        problem_slots = asyncio.Semaphore(max(1, self.config.max_problems_in_memory))
        tasks: list[asyncio.Task] = []

        async with SandboxClient(url, max_retries=3) as client:
            runner = _Runner(client, asyncio.Semaphore(concurrency), self.config, where)

            async def grade_problem(problem_items: list[_Item], entry: dict[str, Any] | None) -> None:
                try:
                    outcomes = await asyncio.gather(*(self._grade_item(runner, item, entry) for item in problem_items))
                    for item, outcome in zip(problem_items, outcomes, strict=True):
                        results[item.index] = outcome
                finally:
                    problem_slots.release()

            async def schedule(problem_items: list[_Item], entry: dict[str, Any] | None) -> None:
                await problem_slots.acquire()
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        problem_slots.release()
                        raise task.exception()
                tasks.append(asyncio.create_task(grade_problem(problem_items, entry)))

            try:
                found: set[str] = set()
                if test_file is not None:
                    for entry in iter_test_entries(test_file, set(by_problem)):
                        problem = str(entry["id"])
                        if problem in found:
                            raise InputError(f"{test_file}: problem {problem} appears twice.")
                        found.add(problem)
                        await schedule(by_problem[problem], entry)
                for problem, problem_items in by_problem.items():
                    if problem not in found:
                        await schedule(problem_items, None)
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        assert all(result is not None for result in results)
        return results  # type: ignore[return-value]

    async def _grade_item(self, runner: _Runner, item: _Item, entry: dict[str, Any] | None) -> dict[str, Any]:
        from nemo_skills.evaluation.code.programs import assemble

        row, cfg = item.row, self.config
        plus_spec = (entry or {}).get("plus_tests")
        io_tests = (entry or {}).get("io_tests")
        script = row.get("test_script")
        if not script and not io_tests and not plus_spec:
            raise InputError(
                f"{runner.where}: problem {item.problem_id} has no tests: no `test_script` in the row and no entry in "
                "the test file (pass ++data_file=<prepared split .jsonl> or ++eval_config.test_file=...)."
            )
        writes_plus = plus_spec is not None and cfg.run_plus_tests
        result: dict[str, Any] = {"code": item.code, "is_correct": False, "test_status": "no_code", "error": None}
        if writes_plus:
            result.update(is_correct_plus=False, plus_status="not_run")
        if not item.code:
            result["error"] = "no code found in the generation"
            return result

        prompt = row.get("prompt") if cfg.prepend_prompt and not io_tests else None
        solution = assemble(prompt or "", item.code)
        plus_outcome: _Outcome | None = None
        if script:
            base = await runner.script(solution, script)
            if writes_plus and base.status == "passed":
                outcomes = await runner.evalplus(solution, plus_spec, ["base", "plus"], item.problem_id)
                failed = [o for o in outcomes.values() if o.status != "passed"]
                plus_outcome = failed[0] if failed else _Outcome("passed")
        elif io_tests:
            cases = io_tests["cases"]
            if io_tests.get("testtype") == "functional":
                base = await runner.functional_cases(item.code, io_tests["fn_name"], cases)
            else:
                base = await runner.stdin_cases(item.code, cases)
        else:
            stages = ["base", "plus"] if writes_plus else ["base"]
            outcomes = await runner.evalplus(solution, plus_spec, stages, item.problem_id)
            base = outcomes["base"]
            if writes_plus:
                plus_outcome = outcomes["plus"]

        result["is_correct"] = base.status == "passed"
        result["test_status"] = base.status
        result["error"] = base.error
        if writes_plus and plus_outcome is not None:
            result["plus_status"] = plus_outcome.status
            result["is_correct_plus"] = result["is_correct"] and plus_outcome.status == "passed"
            if result["is_correct"] and plus_outcome.error:
                result["error"] = f"plus: {plus_outcome.error}"
        return result
