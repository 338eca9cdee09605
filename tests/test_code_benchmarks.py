"""Code benchmarks (human-eval, mbpp, livecodebench): converters and fetches against a loopback server, code
extraction, the `code` grader against the real sandbox service, the `code` metrics, and `ns eval` end to end with a
scripted model and the sandbox started by the pipeline."""

from __future__ import annotations

import base64
import gzip
import json
import os
import pickle
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_skills.code_execution.client import SandboxError
from nemo_skills.dataset.catalog import get_benchmark
from nemo_skills.dataset.code_tests import code_tests_file, iter_test_entries
from nemo_skills.dataset.evalplus import HUMANEVAL_PLUS_URL, MBPP_PLUS_URL, plus_tests
from nemo_skills.dataset.prepare import prepare_benchmarks
from nemo_skills.errors import InputError
from nemo_skills.evaluation.code.extraction import extract_code
from nemo_skills.evaluation.code.programs import assemble, stdout_matches
from nemo_skills.evaluation.evaluate import build_evaluator
from nemo_skills.evaluation.evaluator.base import GradingContext
from nemo_skills.evaluation.evaluator.builtin.code import GradingError
from nemo_skills.evaluation.metrics.kinds.builtin.code import CodeMetrics
from nemo_skills.inference.server.local import free_port
from nemo_skills.inference.server.wait import wait_for_server
from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic
from tests.fixture_http import serve_fixtures
from tests.stub import run_stub

REPO = Path(__file__).resolve().parents[1]
UID_BASE = 62000  # apart from the sandboxes other tests (and ns eval) start with the default 61000


def _module(name: str):
    return get_benchmark(name).prepare_module()


HUMAN_EVAL = _module("human-eval")
MBPP = _module("mbpp")
LCB = _module("livecodebench")


def human_eval_rows() -> list[dict]:
    return HUMAN_EVAL.convert(HUMAN_EVAL.read_gz_jsonl(HUMAN_EVAL.package_data_file()))


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}```\nDone."


def mirror_path(url: str) -> str:
    return url.split("://", 1)[1]


def gz_jsonl(rows: list[dict]) -> bytes:
    return gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode())


# -- the sandbox --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    argv = [sys.executable, "-m", "nemo_skills.code_execution.server", "--port", str(port), "--workers", "4"]
    argv += ["--uid-base", str(UID_BASE)]
    with open(log, "w") as handle:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_server(url, timeout_s=30, poll_interval_s=0.1, process=proc, log_file=log, health_paths=("/health",))
    except Exception:
        proc.kill()
        raise
    yield port
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def grade(rows: list[dict], port: int, data_file: Path | None = None, **config) -> list[dict]:
    evaluator = build_evaluator("code", {"sandbox_port": port, **config})
    context = GradingContext(where="test.jsonl", data_file=str(data_file) if data_file else None)
    return evaluator.grade(rows, context)


# -- (a) HumanEval through the real sandbox ----------------------------------------------------------------------


def test_every_humaneval_canonical_solution_passes_and_broken_ones_fail(sandbox_port):
    rows = human_eval_rows()
    assert len(rows) == 164
    for row in rows:
        row["generation"] = fenced(row["prompt"] + row["canonical_solution"])
    start = time.monotonic()
    results = grade(rows, sandbox_port)
    elapsed = time.monotonic() - start
    failing = [(row["id"], result) for row, result in zip(rows, results, strict=True) if not result["is_correct"]]
    assert failing == []
    assert all(result["test_status"] == "passed" and "is_correct_plus" not in result for result in results)
    assert elapsed < 120, elapsed  # about 7 s with 4 sandbox workers on 2 cores

    first = rows[0]
    broken = {
        "wrong answer": "def has_close_elements(numbers, threshold):\n    return False\n",
        "syntax error": "def has_close_elements(numbers, threshold)\n    return False\n",
        "exits early": "import sys\nsys.exit(0)\n",
        "kills itself": "import os\nos._exit(0)\n",
        "prints a fake pass": 'print(\'NSRESULT-0 {"stage": "base", "status": "passed"}\')\n',
        "loops forever": "def has_close_elements(numbers, threshold):\n    while True:\n        pass\n",
        "missing function": "def something_else():\n    return 1\n",
    }
    rows = [dict(first, generation=fenced(code)) for code in broken.values()]
    results = grade(rows, sandbox_port, timeout_s=2.0)
    statuses = dict(zip(broken, [(r["is_correct"], r["test_status"]) for r in results], strict=True))
    assert statuses == {
        "wrong answer": (False, "failed"),
        "syntax error": (False, "error"),
        "exits early": (False, "error"),
        "kills itself": (False, "error"),
        "prints a fake pass": (False, "failed"),  # the prompt's docstring-only function returns None
        "loops forever": (False, "timeout"),
        "missing function": (False, "failed"),
    }, results
    assert "SyntaxError" in results[1]["error"]


def test_a_bare_function_body_completes_the_prompt(sandbox_port):
    row = human_eval_rows()[0]
    body = row["canonical_solution"]  # indented: HumanEval's completion style
    [result] = grade([dict(row, generation=body)], sandbox_port)
    # a bare body does not parse on its own, so there is no code in it
    assert (result["is_correct"], result["test_status"]) == (False, "no_code")
    [result] = grade([dict(row, generation=f"```python\n{body}```")], sandbox_port)
    assert result["is_correct"] and result["code"] == body.rstrip() + "\n"


# -- (b) converters and fetches ------------------------------------------------------------------------------------


def humaneval_plus_fixture(rows: list[dict]) -> list[dict]:
    """HumanEval+-format tasks for HumanEval/0, /2 and /32 (inputs written for these tests)."""
    by_id = {row["id"]: row for row in rows}

    def task(task_id: str, base: list, plus: list, atol: float = 0) -> dict:
        row = by_id[task_id]
        return {
            "task_id": task_id,
            "prompt": row["prompt"],
            "contract": "",
            "canonical_solution": row["canonical_solution"],
            "entry_point": row["entry_point"],
            "base_input": base,
            "plus_input": plus,
            "atol": atol,
        }

    return [
        task(
            "HumanEval/0",
            [[[1.0, 2.0, 3.0], 0.5], [[1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3]],
            [[[1.0, 1.0], 0.0], [[], 1.0]],
        ),
        task("HumanEval/2", [[3.5], [1.33], [123.456]], [[-1.5], [1e6 + 0.25]]),
        task("HumanEval/32", [[[1, 2]], [[-6, 11, -6, 1]]], [[[-1, 0, 0, 1]]], atol=1e-6),
    ]


def test_human_eval_converter_uses_the_package_data():
    rows = human_eval_rows()
    first = rows[0]
    assert first["id"] == first["task_id"] == "HumanEval/0"
    assert first["question"] == first["prompt"] and first["prompt"].startswith("from typing import List")
    assert first["entry_point"] == "has_close_elements"
    assert first["test_script"].endswith("\ncheck(has_close_elements)\n") and "def check(candidate)" in first["test"]
    assert len({row["id"] for row in rows}) == 164
    with pytest.raises(InputError, match="not HumanEval tasks"):
        HUMAN_EVAL.convert_plus([{**humaneval_plus_fixture(rows)[0], "task_id": "HumanEval/999"}], {"HumanEval/0"})


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr("nemo_skills.dataset.download.time.sleep", lambda s: None)


def test_human_eval_prepare_fetches_humaneval_plus(tmp_path, isolated_cache, monkeypatch):
    plus = humaneval_plus_fixture(human_eval_rows())
    with serve_fixtures({mirror_path(HUMANEVAL_PLUS_URL): gz_jsonl(plus)}) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        [prepared] = prepare_benchmarks(["human-eval"], data_dir=tmp_path / "data")
    assert prepared.rows == {"test": 164}
    data_file = tmp_path / "data" / "human-eval" / "test.jsonl"
    entries = list(iter_test_entries(code_tests_file(data_file)))
    assert [entry["id"] for entry in entries] == ["HumanEval/0", "HumanEval/2", "HumanEval/32"]
    spec = entries[2]["plus_tests"]
    assert spec["oracle"] == "poly_root" and spec["atol"] == 1e-6 and spec["dataset"] == "humaneval"
    assert spec["reference"] == plus[2]["prompt"] + plus[2]["canonical_solution"]
    assert spec["base_inputs"] == plus[2]["base_input"] and spec["input_transform"] is None
    assert [e["id"] for e in iter_test_entries(code_tests_file(data_file), {"HumanEval/2"})] == ["HumanEval/2"]
    record = json.loads((data_file.parent / "prepared.json").read_text())
    assert [s["url"].split(":")[0] for s in record["sources"]] == ["python package human-eval", "https"]

    # the release unreachable: HumanEval alone, and a stale test file is removed
    with serve_fixtures({}) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path / "cache2"))
        prepare_benchmarks(["human-eval"], data_dir=tmp_path / "data")
    assert len(read_jsonl(data_file)) == 164 and not code_tests_file(data_file).exists()


MBPP_PLUS_FIXTURE = [
    {
        "task_id": "Mbpp/2",
        "prompt": '"""\nWrite a function to find the shared elements from the given two lists.\n'
        'assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n"""\n',
        "entry_point": "similar_elements",
        "canonical_solution": "\ndef similar_elements(test_tup1, test_tup2):\n"
        "  return tuple(set(test_tup1) & set(test_tup2))\n",
        "base_input": [[[3, 4, 5, 6], [5, 7, 4, 10]], [[1, 2, 3, 4], [5, 4, 3, 7]]],
        "plus_input": [[[1, 2, 3], [3, 2, 9]], [[], [1]]],
        "atol": 0,
        "contract": "",
        "assertion": "",
    },
    {
        "task_id": "Mbpp/3",
        "prompt": '"""\nWrite a python function to identify non-prime numbers.\n'
        'assert is_not_prime(2) == False\n"""\n',
        "entry_point": "is_not_prime",
        "canonical_solution": "\nimport math\ndef is_not_prime(n):\n    if n == 1:\n        return True\n"
        "    for i in range(2, int(math.sqrt(n)) + 1):\n        if n % i == 0:\n            return True\n"
        "    return False\n",
        "base_input": [[2], [10], [35], [37]],
        "plus_input": [[1], [49], [97]],
        "atol": 0,
        "contract": "",
        "assertion": "",
    },
    {
        "task_id": "Mbpp/9001",
        "prompt": '"""\nWrite a function that returns the area of a circle of radius r.\n"""\n',
        "entry_point": "circle_area",
        "canonical_solution": "\nimport math\ndef circle_area(r):\n    return math.pi * r * r\n",
        "base_input": [[1.0], [2.5]],
        "plus_input": [[1e-3], [123.0]],
        "atol": 0,
        "contract": "",
        "assertion": "",
    },
]
SANITIZED_FIXTURE = [
    {
        "source_file": "x",
        "task_id": 11,
        "prompt": "Write a python function to remove first and last occurrence of a given character from the string.",
        "code": "def remove_Occ(s,ch):\n    s = s.replace(ch, '', 1)\n    return s[::-1].replace(ch, '', 1)[::-1]\n",
        "test_imports": [],
        "test_list": ['assert remove_Occ("hello","l") == "heo"', 'assert remove_Occ("abcda","a") == "bcd"'],
    },
    {
        "source_file": "x",
        "task_id": 602,  # a training task: not in the test split
        "prompt": "Write a function.",
        "code": "def f():\n    return 1\n",
        "test_imports": [],
        "test_list": ["assert f() == 1"],
    },
]


def test_mbpp_converters():
    rows, entries = MBPP.convert_plus(MBPP_PLUS_FIXTURE)
    assert rows[0] == {
        "id": "Mbpp/2",
        "task_id": "Mbpp/2",
        "question": "Write a function to find the shared elements from the given two lists.\n"
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
        "prompt": MBPP_PLUS_FIXTURE[0]["prompt"],
        "entry_point": "similar_elements",
        "canonical_solution": MBPP_PLUS_FIXTURE[0]["canonical_solution"],
    }
    specs = [entry["plus_tests"] for entry in entries]
    assert [(s["input_transform"], s["oracle"]) for s in specs] == [
        ("all_args_tuple", "set_eq"),
        (None, "exact"),
        (None, "exact"),
    ]
    [row] = MBPP.convert_sanitized(SANITIZED_FIXTURE)
    assert row["id"] == "mbpp-11" and row["entry_point"] == "remove_Occ"
    assert row["test_script"] == 'assert remove_Occ("hello","l") == "heo"\nassert remove_Occ("abcda","a") == "bcd"\n'
    assert row["question"].endswith('assert remove_Occ("abcda","a") == "bcd"')


def test_mbpp_prepare_fetches_both_splits(tmp_path, isolated_cache, monkeypatch):
    files = {
        mirror_path(MBPP_PLUS_URL): gz_jsonl(MBPP_PLUS_FIXTURE),
        mirror_path(MBPP.SANITIZED_URL): json.dumps(SANITIZED_FIXTURE).encode(),
    }
    with serve_fixtures(files) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        [prepared] = prepare_benchmarks(["mbpp"], data_dir=tmp_path / "data")
    assert prepared.rows == {"test": 3, "sanitized": 1}
    folder = tmp_path / "data" / "mbpp"
    assert [e["id"] for e in iter_test_entries(folder / "test.tests.jsonl")] == ["Mbpp/2", "Mbpp/3", "Mbpp/9001"]
    assert not (folder / "sanitized.tests.jsonl").exists()


def pickled(cases: list[dict]) -> str:
    """LiveCodeBench's hidden-test encoding: base64(zlib(pickle(json string)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases)))).decode()


STARTER = "class Solution:\n    def {}(self, nums: List[int], target: int) -> List[int]:\n        "


def lcb_row(question_id: str, date: str, public: list[dict], private: str, func_name: str | None = None) -> dict:
    return {
        "question_title": f"Problem {question_id}",
        "question_content": f"Statement of {question_id}.",
        "platform": "leetcode" if func_name else "atcoder",
        "question_id": question_id,
        "contest_id": "c1",
        "contest_date": date,
        "starter_code": STARTER.format(func_name) if func_name else "",
        "difficulty": "easy",
        "public_test_cases": json.dumps(public),
        "private_test_cases": private,
        "metadata": json.dumps({"func_name": func_name} if func_name else {}),
    }


SUM_PUBLIC = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
SUM_PRIVATE = [
    {"input": "10 20\n", "output": "30\n", "testtype": "stdin"},
    {"input": "-5 5\n", "output": "0\n", "testtype": "stdin"},
]
TWO_SUM_PUBLIC = [{"input": "[2,7,11,15]\n9", "output": "[0, 1]", "testtype": "functional"}]
TWO_SUM_PRIVATE = [
    {"input": "[3,2,4]\n6", "output": "[1, 2]", "testtype": "functional"},
    {"input": "[3,3]\n6", "output": "[0, 1]", "testtype": "functional"},
]


def test_livecodebench_converter_decodes_hidden_tests_and_filters_by_month():
    rows = [
        lcb_row("abc1_a", "2024-08-03T00:00:00", SUM_PUBLIC, pickled(SUM_PRIVATE)),
        lcb_row("lc2", "2025-05-31T12:00:00", TWO_SUM_PUBLIC, json.dumps(TWO_SUM_PRIVATE), func_name="twoSum"),
        lcb_row("old", "2024-07-31T23:59:59", SUM_PUBLIC, json.dumps(SUM_PRIVATE)),
        lcb_row("new", "2025-06-01T00:00:00", SUM_PUBLIC, json.dumps(SUM_PRIVATE)),
    ]
    converted: list[dict] = []
    entries = list(LCB.convert(rows, "2024-08", "2025-05", converted))
    assert [row["id"] for row in converted] == ["abc1_a", "lc2"]
    stdin, functional = converted
    assert (stdin["testtype"], stdin["fn_name"], functional["testtype"], functional["fn_name"]) == (
        "stdin",
        None,
        "functional",
        "twoSum",
    )
    assert "standard input" in stdin["question"] and "```python\nclass Solution:" in functional["question"]
    assert entries[0]["io_tests"]["cases"] == [
        {"input": "1 2\n", "output": "3\n"},
        {"input": "10 20\n", "output": "30\n"},
        {"input": "-5 5\n", "output": "0\n"},
    ]
    assert entries[0]["io_tests"]["num_public"] == 1 and len(entries[1]["io_tests"]["cases"]) == 3
    assert LCB.parse_split("test_v6_2408_2505") == (6, "2024-08", "2025-05")
    with pytest.raises(InputError, match="test_v<N>"):
        LCB.parse_split("v6")


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/nemo-skills-lcb-pwned",))


def test_livecodebench_hidden_tests_never_unpickle_objects():
    evil = base64.b64encode(zlib.compress(pickle.dumps(_Boom()))).decode()
    with pytest.raises(InputError, match="refusing to load"):
        LCB.decode_private_tests(evil)
    assert not Path("/tmp/nemo-skills-lcb-pwned").exists()
    # plain containers are fine, other types are not
    assert LCB.decode_private_tests(pickled(SUM_PRIVATE))[0]["output"] == "30\n"
    with pytest.raises(InputError, match="only str, list, dict"):
        LCB.decode_private_tests(base64.b64encode(zlib.compress(pickle.dumps([1.5]))).decode())
    with pytest.raises(InputError, match="cannot decode"):
        LCB.decode_private_tests("not base64 at all!")


def test_livecodebench_prepare_fetches_the_release_files(tmp_path, isolated_cache, monkeypatch):
    base = "huggingface.co/datasets/livecodebench/code_generation_lite/resolve/main/"
    files = {f"{base}{name}": b"" for name in LCB.RELEASE_FILES}
    files[base + "test.jsonl"] = json.dumps(lcb_row("v1old", "2023-05-01T00:00:00", SUM_PUBLIC, "[]")).encode()
    files[base + "test5.jsonl"] = (
        json.dumps(lcb_row("abc1_a", "2024-09-03T00:00:00", SUM_PUBLIC, pickled(SUM_PRIVATE))) + "\n"
    ).encode()
    files[base + "test6.jsonl"] = (
        json.dumps(lcb_row("lc2", "2025-04-01T00:00:00", TWO_SUM_PUBLIC, pickled(TWO_SUM_PRIVATE), "twoSum")) + "\n"
    ).encode()
    with serve_fixtures(files) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        [prepared] = prepare_benchmarks(["livecodebench"], data_dir=tmp_path / "data", splits=("test_v6_2408_2505",))
        assert sorted(server.requests) == sorted(base + name for name in LCB.RELEASE_FILES)
        [v5] = prepare_benchmarks(["livecodebench"], data_dir=tmp_path / "data", splits=("test_v5_2408_2502",))
    assert prepared.rows == {"test_v6_2408_2505": 2} and v5.rows == {"test_v5_2408_2502": 1}
    data_file = tmp_path / "data" / "livecodebench" / "test_v6_2408_2505.jsonl"
    assert [row["id"] for row in read_jsonl(data_file)] == ["abc1_a", "lc2"]
    assert [e["id"] for e in iter_test_entries(code_tests_file(data_file))] == ["abc1_a", "lc2"]


# -- (c) code extraction -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("", "none")),
        (None, ("", "none")),
        ("I cannot solve this problem.", ("", "none")),
        ("42", ("", "none")),  # a lone expression is not a program
        ("def f(x):\n    return x + 1", ("def f(x):\n    return x + 1\n", "raw")),
        ("x = int(input())\nprint(x * 2)\n", ("x = int(input())\nprint(x * 2)\n", "raw")),
        ("Try this:\n```python\nprint(1)\n```\nOr better:\n```python\nprint(2)\n```\n", ("print(2)\n", "fence")),
        ("```py\na = 1\n```\n```\nb = 2\n```", ("a = 1\n", "fence")),  # a python-tagged block beats an untagged one
        ("```\nb = 2\n```\nrun: ```bash\nls\n```", ("b = 2\n", "fence")),
        ("```cpp\nint main() {}\n```", ("", "none")),  # other languages are never used
        (
            "<think>maybe ```python\nprint(0)\n```</think>The answer:\n```python\nprint(1)\n```",
            ("print(1)\n", "fence"),
        ),
        ("<think>```python\nprint(0)\n``` and then I ran out of tokens", ("", "none")),
        ("Solution:\n```python\ndef f():\n    return 1\n", ("def f():\n    return 1\n", "unclosed_fence")),
        ("```python\nprint(1)\n```\nNow faster:\n```python\nprint(", ("print(1)\n", "fence")),
        ("```python\n```\n```python\nprint(3)\n```", ("print(3)\n", "fence")),
    ],
)
def test_code_extraction(text, expected):
    assert extract_code(text) == expected


def test_future_imports_move_to_the_top_and_outputs_compare_like_livecodebench():
    program = assemble("import sys", "from __future__ import annotations\nprint(1)")
    assert program.startswith("from __future__ import annotations\n") and program.count("__future__") == 1
    assert stdout_matches("3\n", "3") and stdout_matches("  1.50 \n2\n\n", "1.5\n2")
    assert stdout_matches("1e2 7", "100 7.0")
    assert not stdout_matches("3\n4\n", "3") and not stdout_matches("Yes", "yes")


# -- (d) EvalPlus and LiveCodeBench tests through the sandbox ----------------------------------------------------


def test_humaneval_plus_tests_grade_is_correct_plus(sandbox_port, tmp_path):
    rows = [row for row in human_eval_rows() if row["id"] in ("HumanEval/0", "HumanEval/2", "HumanEval/32")]
    data_file = tmp_path / "test.jsonl"
    write_jsonl_atomic(data_file, rows)
    entries = [
        {"id": t["task_id"], "plus_tests": plus_tests(t, "humaneval", "fixture")} for t in humaneval_plus_fixture(rows)
    ]
    write_jsonl_atomic(code_tests_file(data_file), entries)
    he0, he2, he32 = rows
    # not the reference's exact output, but still a root: accepted by EvalPlus's polynomial oracle only
    near_root = he32["prompt"] + he32["canonical_solution"].replace("return begin", "return begin + 1e-11")
    cases = [
        (he0, he0["prompt"] + he0["canonical_solution"]),
        (he2, "def truncate_number(number):\n    return number - int(number)\n"),  # base ok, wrong on -1.5
        (he2, "def truncate_number(number):\n    return number % 1.0\n"),
        (he32, near_root),
        (he32, "def find_zero(xs):\n    return 0.0\n"),
    ]
    graded = grade([dict(row, generation=fenced(code)) for row, code in cases], sandbox_port, data_file)
    summary = [(r["is_correct"], r.get("is_correct_plus"), r["plus_status"]) for r in graded]
    assert summary == [
        (True, True, "passed"),
        (True, False, "failed"),
        (True, True, "passed"),
        (True, True, "passed"),
        (False, False, "not_run"),
    ], graded
    assert graded[1]["error"] == "plus: input 0: wrong output"


def test_mbpp_plus_base_and_plus_inputs(sandbox_port, tmp_path):
    rows, entries = MBPP.convert_plus(MBPP_PLUS_FIXTURE)
    data_file = tmp_path / "test.jsonl"
    write_jsonl_atomic(data_file, rows)
    write_jsonl_atomic(code_tests_file(data_file), entries)
    similar, not_prime, circle = rows
    cases = [
        # the inputs must arrive as tuples, and any order of the shared elements is fine
        (
            similar,
            "def similar_elements(a, b):\n    assert type(a) is tuple\n    return tuple(sorted(set(a) & set(b)))\n",
        ),
        (similar, "def similar_elements(a, b):\n    return a\n"),
        (not_prime, "def is_not_prime(n):\n    return any(n % i == 0 for i in range(2, n))\n"),  # wrong for 1
        (circle, "def circle_area(r):\n    return 3.14159265358979 * r ** 2\n"),  # within EvalPlus's float tolerance
        (circle, "def circle_area(r):\n    return 3.14 * r * r\n"),
        (not_prime, "def is_not_prime(n):\n    while True:\n        pass\n"),
    ]
    graded = grade([dict(row, generation=fenced(code)) for row, code in cases], sandbox_port, data_file)
    summary = [(r["is_correct"], r["is_correct_plus"], r["test_status"], r["plus_status"]) for r in graded]
    assert summary == [
        (True, True, "passed", "passed"),
        (False, False, "failed", "not_run"),
        (True, False, "passed", "failed"),
        (True, True, "passed", "passed"),
        (False, False, "failed", "not_run"),
        (False, False, "timeout", "not_run"),
    ], graded
    # sanitized MBPP: the task's own asserts
    [sanitized] = MBPP.convert_sanitized(SANITIZED_FIXTURE)
    good, bad = SANITIZED_FIXTURE[0]["code"], "def remove_Occ(s, ch):\n    return s\n"
    graded = grade([dict(sanitized, generation=fenced(code)) for code in (good, bad)], sandbox_port)
    assert [(r["is_correct"], r["test_status"], "is_correct_plus" in r) for r in graded] == [
        (True, "passed", False),
        (False, "failed", False),
    ]
    # without plus tests: is_correct from the base inputs only, and no is_correct_plus
    graded = grade([dict(not_prime, generation=fenced(cases[2][1]))], sandbox_port, data_file, run_plus_tests=False)
    assert graded[0]["is_correct"] and "is_correct_plus" not in graded[0]


def test_a_failing_reference_solution_fails_the_run(sandbox_port, tmp_path):
    rows, entries = MBPP.convert_plus(MBPP_PLUS_FIXTURE[:1])
    entries[0]["plus_tests"]["reference"] = "def similar_elements(a, b):\n    raise RuntimeError('bad data')\n"
    data_file = tmp_path / "test.jsonl"
    write_jsonl_atomic(code_tests_file(data_file), entries)
    with pytest.raises(GradingError, match="reference solution of Mbpp/2 failed: .*bad data"):
        grade(
            [dict(rows[0], generation=fenced("def similar_elements(a, b):\n    return a\n"))], sandbox_port, data_file
        )


def lcb_problem(tmp_path: Path) -> tuple[list[dict], Path]:
    raw = [
        lcb_row("sum", "2024-09-01T00:00:00", SUM_PUBLIC, pickled(SUM_PRIVATE)),
        lcb_row("half", "2024-09-01T00:00:00", [{"input": "3\n", "output": "1.5\n", "testtype": "stdin"}], "[]"),
        lcb_row("two", "2024-09-01T00:00:00", TWO_SUM_PUBLIC, pickled(TWO_SUM_PRIVATE), func_name="twoSum"),
    ]
    rows: list[dict] = []
    entries = list(LCB.convert(raw, "2024-01", "2025-12", rows))
    data_file = tmp_path / "test_v6_2408_2505.jsonl"
    write_jsonl_atomic(data_file, rows)
    write_jsonl_atomic(code_tests_file(data_file), entries)
    return rows, data_file


TWO_SUM = (
    "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n"
    "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
    "                return (seen[target - x], i)\n"
    "            seen[x] = i\n"
)


def test_livecodebench_stdin_and_functional_problems(sandbox_port, tmp_path):
    rows, data_file = lcb_problem(tmp_path)
    stdin, half, functional = rows
    cases = [
        (stdin, "a, b = map(int, input().split())\nprint(a + b)\n"),
        (
            stdin,
            "def main():\n    a, b = map(int, input().split())\n    print(a - b)\n\n"
            "if __name__ == '__main__':\n    main()\n",
        ),
        (stdin, "while True:\n    pass\n"),
        (stdin, "raise ValueError('no')\n"),
        (stdin, "a, b = map(int, input().split())\nprint(a + b if a != -5 else 1)\n"),  # wrong on a hidden test
        (half, "print(f'{int(input()) / 2:.2f}')\n"),  # 1.50 == 1.5 as numbers
        (functional, TWO_SUM),  # List without an import: LiveCodeBench's prelude provides it; a tuple counts as a list
        (functional, TWO_SUM.replace("(seen[target - x], i)", "[i, seen[target - x]]")),
        (functional, "class Solution:\n    def twoSum(self, nums, target):\n        while True:\n            pass\n"),
        (functional, "class Solution:\n    def other(self):\n        return 1\n"),
    ]
    graded = grade([dict(row, generation=fenced(code)) for row, code in cases], sandbox_port, data_file, timeout_s=1.5)
    summary = [(r["is_correct"], r["test_status"], r["error"]) for r in graded]
    assert [s[:2] for s in summary] == [
        (True, "passed"),
        (False, "failed"),
        (False, "timeout"),
        (False, "error"),
        (False, "failed"),
        (True, "passed"),
        (True, "passed"),
        (False, "failed"),
        (False, "timeout"),
        (False, "error"),
    ], summary
    assert summary[1][2] == "test 0: wrong answer" and summary[4][2] == "test 2: wrong answer"
    assert "ValueError: no" in summary[3][2] and summary[9][2] == "no method twoSum"
    assert all("is_correct_plus" not in r for r in graded)


def test_rows_without_tests_or_sandbox_fail_loudly(sandbox_port, tmp_path):
    rows, data_file = lcb_problem(tmp_path)
    with pytest.raises(InputError, match="problem sum has no tests"):
        grade([dict(rows[0], generation=fenced("print(1)\n"))], sandbox_port)  # no data_file: no test file
    with pytest.raises(SandboxError, match="no code sandbox answered"):
        grade([dict(rows[0], generation=fenced("print(1)\n"))], free_port(), data_file, sandbox_wait_s=1.0)


# -- metrics ---------------------------------------------------------------------------------------------------------


def test_code_metrics_report_pass_at_k_without_majority():
    def row(correct: bool, plus: bool | None, code: str = "x = 1\n") -> dict:
        values = {"is_correct": correct, "code": code}
        if plus is not None:
            values["is_correct_plus"] = plus
        return values

    problems = [
        [row(True, True), row(True, False)],
        [row(False, False, ""), row(True, True)],
        [row(False, False, ""), row(False, False, "")],
    ]
    modes = CodeMetrics().compute(problems, "m")
    assert sorted(modes) == ["pass@1", "pass@1[avg-of-2]", "pass@2"]
    average = modes["pass@1[avg-of-2]"]
    assert average["is_correct"] == pytest.approx(50.0)
    assert average["is_correct_plus"] == pytest.approx(100 / 3)
    assert average["no_answer"] == pytest.approx(50.0)
    assert modes["pass@2"]["is_correct"] == pytest.approx(200 / 3)
    assert modes["pass@2"]["is_correct_plus"] == pytest.approx(200 / 3)
    assert modes["pass@2"]["no_answer"] == pytest.approx(100 / 3)
    problems[0][0].pop("is_correct_plus")
    with pytest.raises(InputError, match="only 5 of 6 samples have `is_correct_plus`"):
        CodeMetrics().compute(problems, "m")


# -- (e) ns eval end to end -----------------------------------------------------------------------------------------


def test_ns_eval_human_eval_end_to_end_with_the_pipeline_sandbox(tmp_path):
    from nemo_skills.pipeline.common import ServerOptions
    from nemo_skills.pipeline.eval import run_eval
    from nemo_skills.pipeline.eval_plan import EvalPlan

    by_id = {row["id"]: row for row in human_eval_rows()}
    rows = [by_id["HumanEval/0"], by_id["HumanEval/2"], by_id["HumanEval/4"]]
    data_file = tmp_path / "data" / "human-eval" / "test.jsonl"
    data_file.parent.mkdir(parents=True)
    write_jsonl_atomic(data_file, rows)
    plus = humaneval_plus_fixture(list(by_id.values()))[:2] + [
        {
            "task_id": "HumanEval/4",
            "prompt": rows[2]["prompt"],
            "canonical_solution": rows[2]["canonical_solution"],
            "entry_point": "mean_absolute_deviation",
            "base_input": [[[1.0, 2.0, 3.0, 4.0]]],
            "plus_input": [[[5.0]]],
            "atol": 0,
        }
    ]
    write_jsonl_atomic(
        code_tests_file(data_file), [{"id": t["task_id"], "plus_tests": plus_tests(t, "humaneval", "f")} for t in plus]
    )
    canonical = {row["id"]: fenced(row["prompt"] + row["canonical_solution"]) for row in rows}
    answers = [
        {
            "match": "def has_close_elements(",
            "responses": [canonical["HumanEval/0"], fenced("def has_close_elements(n, t):\n    return True\n")],
        },
        {
            "match": "def truncate_number(",
            "responses": [
                canonical["HumanEval/2"],
                fenced("def truncate_number(number):\n    return number - int(number)\n"),
            ],
        },
        {
            "match": "def mean_absolute_deviation(",
            "responses": ["I do not know.", fenced("def mean_absolute_deviation(x):\n    return 0.0\n")],
        },
    ]
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers))
    with run_stub("--answers", str(answers_file)) as stub:
        run_eval(
            EvalPlan(
                benchmarks="human-eval:2",
                output_dir=str(tmp_path / "out"),
                server=ServerOptions(server_type="vllm", model="stub-model", server_address=stub.base_url),
                data_dir=str(tmp_path / "data"),
                overrides=["++inference.temperature=0.7", "++progress_bar=False"],
            )
        )
    results = tmp_path / "out" / "eval-results"
    seed0 = read_jsonl(results / "human-eval" / "output-rs0.jsonl")
    seed1 = read_jsonl(results / "human-eval" / "output-rs1.jsonl")
    assert [(r["is_correct"], r["is_correct_plus"], r["test_status"]) for r in seed0] == [
        (True, True, "passed"),
        (True, True, "passed"),
        (False, False, "no_code"),
    ]
    assert [(r["is_correct"], r["is_correct_plus"], r["test_status"]) for r in seed1] == [
        (False, False, "failed"),
        (True, False, "passed"),  # HumanEval's check passes, the plus input -1.5 does not
        (False, False, "failed"),
    ]
    metrics = json.loads((results / "metrics.json").read_text())["human-eval"]
    assert sorted(metrics) == ["pass@1", "pass@1[avg-of-2]", "pass@2"]
    average = metrics["pass@1[avg-of-2]"]
    assert average["num_entries"] == 3
    assert average["is_correct"] == pytest.approx(50.0)  # per problem 1/2, 2/2, 0/2
    assert average["is_correct_plus"] == pytest.approx(100 / 3)  # 1/2, 1/2, 0/2
    assert average["no_answer"] == pytest.approx(100 / 6)
    assert metrics["pass@1"]["is_correct"] == pytest.approx(50.0)
    assert metrics["pass@2"]["is_correct"] == pytest.approx(200 / 3)
    assert metrics["pass@2"]["is_correct_plus"] == pytest.approx(200 / 3)
    assert metrics["pass@2"]["no_answer"] == pytest.approx(0.0)
