"""Math benchmark packages: upstream-format fixtures served from a loopback server, prepared end to end.

Each test serves a few rows in the format the real source has (the Qwen2.5-Math eval data, GitHub raw files,
Hugging Face jsonl/parquet), runs `prepare_benchmarks` through the real download code with
`NEMO_SKILLS_DOWNLOAD_MIRROR` pointing at the server, and checks the exact rows written and the exact upstream
paths fetched.
"""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nemo_skills.dataset.catalog import get_benchmark, list_benchmarks
from nemo_skills.dataset.download import DownloadError
from nemo_skills.dataset.prepare import prepare_benchmarks
from nemo_skills.dataset.spec import BenchmarkSpec
from nemo_skills.errors import InputError
from nemo_skills.utils.jsonl import read_jsonl
from tests.fixture_http import serve_fixtures

MATH_BENCHMARKS = (
    "math",
    "math-500",
    "aime24",
    "aime25",
    "amc23",
    "hmmt_feb25",
    "minerva_math",
    "olympiadbench",
    "omni-math",
    "svamp",
    "asdiv",
    "mawps",
    "gsm-plus",
    "algebra222",
    "college_math",
    "gaokao2023en",
    "beyond-aime",
    "brumo25",
)
QWEN = "raw.githubusercontent.com/QwenLM/Qwen2.5-Math/refs/heads/main/evaluation/data"
HF = "huggingface.co/datasets"
MATHARENA_FILE = "resolve/main/data/train-00000-of-00001.parquet"


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def parquet_bytes(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


@pytest.fixture
def prepare(tmp_path, monkeypatch):
    """prepare(name, files, splits=None) -> ({split: rows}, [requested paths]) against a fixture server."""
    monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)

    def run(name: str, files: dict[str, bytes], splits: tuple[str, ...] | None = None):
        with serve_fixtures(files) as server:
            monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
            [prepared] = prepare_benchmarks([name], data_dir=tmp_path / "data", splits=splits)
        rows = {split: read_jsonl(path) for split, path in prepared.files.items()}
        for split, path in prepared.files.items():
            assert path == tmp_path / "data" / name / f"{split}.jsonl"
        return rows, sorted(server.requests)

    return run


def test_every_math_benchmark_is_listed_in_the_math_group():
    names = list_benchmarks()
    for name in MATH_BENCHMARKS:
        assert name in names, name
        spec = get_benchmark(name).spec
        assert isinstance(spec, BenchmarkSpec)
        assert (spec.group, spec.eval_type, spec.metrics_type) == ("math", "math", "math"), name
        assert spec.prompt_config == "generic/math", name
        assert spec.description, name
    assert get_benchmark("omni-math").spec.judge.prompt_config == "judge/math"
    assert [name for name in MATH_BENCHMARKS if get_benchmark(name).spec.judge is not None] == ["omni-math"]
    assert get_benchmark("math").spec.splits == ("test", "train")
    assert get_benchmark("gsm-plus").spec.splits == ("test", "test_rounded")


def test_math_from_qwen_eval_data(prepare):
    test_rows = [
        {
            "problem": "What is $1+1$?",
            "level": "Level 1",
            "solution": "Clearly $1+1=\\boxed{2}$.",
            "subject": "Prealgebra",
            "unique_id": "test/prealgebra/1.json",
            "answer": "2",
        },
        {"problem": " Find $x$. ", "level": "Level ?", "solution": "So $x=\\boxed{\\frac{1}{2}}$.", "type": "Algebra"},
    ]
    train_rows = [{"problem": "Add $2$ and $3$.", "solution": "$\\boxed{5}$", "answer": "$5$", "level": "Level 2"}]
    files = {f"{QWEN}/math/test.jsonl": jsonl_bytes(test_rows), f"{QWEN}/math/train.jsonl": jsonl_bytes(train_rows)}
    rows, requests = prepare("math", files)
    assert requests == sorted(files)
    assert rows["test"] == [
        {
            "id": "test/prealgebra/1.json",
            "problem": "What is $1+1$?",
            "expected_answer": "2",
            "reference_solution": "Clearly $1+1=\\boxed{2}$.",
            "subject": "Prealgebra",
            "subset_for_metrics": "Prealgebra",
            "level": 1,
        },
        {
            "id": "math-test-1",
            "problem": "Find $x$.",
            "expected_answer": "\\frac{1}{2}",
            "reference_solution": "So $x=\\boxed{\\frac{1}{2}}$.",
            "subject": "Algebra",
            "subset_for_metrics": "Algebra",
            "level": "Level ?",
        },
    ]
    assert rows["train"] == [
        {
            "id": "math-train-0",
            "problem": "Add $2$ and $3$.",
            "expected_answer": "5",
            "reference_solution": "$\\boxed{5}$",
            "level": 2,
        }
    ]


PRM800K = "github.com/openai/prm800k/raw/main/prm800k/math_splits/test.jsonl"
MATH500_ROWS = [
    {
        "problem": "Convert the point $(0,3)$ to polar coordinates.",
        "solution": "We get $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
        "answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
        "subject": "Precalculus",
        "level": 2,
        "unique_id": "test/precalculus/807.json",
    }
]


def test_math_500_from_prm800k_with_its_checksum(prepare, monkeypatch):
    content = jsonl_bytes(MATH500_ROWS)
    module = get_benchmark("math-500").prepare_module()
    assert module.SHA256 == "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132"
    monkeypatch.setattr(module, "SHA256", hashlib.sha256(content).hexdigest())
    rows, requests = prepare("math-500", {PRM800K: content})
    assert requests == [PRM800K]
    assert rows["test"] == [
        {
            "id": "test/precalculus/807.json",
            "problem": "Convert the point $(0,3)$ to polar coordinates.",
            "expected_answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
            "reference_solution": "We get $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
            "subject": "Precalculus",
            "subset_for_metrics": "Precalculus",
            "level": 2,
        }
    ]


def test_math_500_rejects_a_file_that_is_not_the_pinned_one(prepare):
    with pytest.raises(DownloadError, match="Checksum mismatch"):
        prepare("math-500", {PRM800K: jsonl_bytes(MATH500_ROWS)})


def test_aime24_joins_both_matharena_parts_with_integer_answers(prepare):
    files = {
        f"{HF}/MathArena/aime_2024_I/{MATHARENA_FILE}": parquet_bytes(
            [
                {"problem_idx": 1, "problem": "Every morning Aya goes for a walk.", "answer": 204},
                {"problem_idx": 2, "problem": "Find $xy$.", "answer": 25},
            ]
        ),
        f"{HF}/MathArena/aime_2024_II/{MATHARENA_FILE}": parquet_bytes(
            [{"problem_idx": 1, "problem": "Among 900 residents...", "answer": 73}]
        ),
    }
    rows, requests = prepare("aime24", files)
    assert requests == sorted(files)
    assert rows["test"] == [
        {"id": "aime24-I-1", "problem": "Every morning Aya goes for a walk.", "expected_answer": "204"},
        {"id": "aime24-I-2", "problem": "Find $xy$.", "expected_answer": "25"},
        {"id": "aime24-II-1", "problem": "Among 900 residents...", "expected_answer": "73"},
    ]


def test_aime25_from_matharena(prepare):
    path = f"{HF}/MathArena/aime_2025/{MATHARENA_FILE}"
    upstream = [
        {
            "problem_idx": 1,
            "problem": "Find the sum of all bases.",
            "answer": "070",
            "problem_type": ["Number Theory"],
        },
        {"problem_idx": 16, "problem": "Find $n$.", "answer": "49", "problem_type": ["Algebra", "Geometry"]},
    ]
    rows, requests = prepare("aime25", {path: parquet_bytes(upstream)})
    assert requests == [path]
    assert rows["test"] == [
        {
            "id": "aime25-1",
            "problem": "Find the sum of all bases.",
            "expected_answer": "70",
            "problem_type": ["Number Theory"],
        },
        {"id": "aime25-16", "problem": "Find $n$.", "expected_answer": "49", "problem_type": ["Algebra", "Geometry"]},
    ]


def test_hmmt_and_brumo_keep_latex_answers(prepare):
    hmmt_path = f"{HF}/MathArena/hmmt_feb_2025/{MATHARENA_FILE}"
    hmmt = [
        {"problem_idx": 1, "problem": "Compute $r$.", "answer": "$\\frac{9}{4}$", "problem_type": ["Algebra"]},
        {"problem_idx": 2, "problem": "Compute the sum.", "answer": "103", "problem_type": ["Combinatorics"]},
    ]
    rows, requests = prepare("hmmt_feb25", {hmmt_path: parquet_bytes(hmmt)})
    assert requests == [hmmt_path]
    assert rows["test"] == [
        {
            "id": "hmmt_feb25-1",
            "problem": "Compute $r$.",
            "expected_answer": "\\frac{9}{4}",
            "problem_type": ["Algebra"],
        },
        {
            "id": "hmmt_feb25-2",
            "problem": "Compute the sum.",
            "expected_answer": "103",
            "problem_type": ["Combinatorics"],
        },
    ]
    brumo_path = f"{HF}/MathArena/brumo_2025/{MATHARENA_FILE}"
    brumo = [{"problem_idx": 3, "problem": "Find $AB$.", "answer": "2\\sqrt{3}", "problem_type": ["Geometry"]}]
    rows, requests = prepare("brumo25", {brumo_path: parquet_bytes(brumo)})
    assert requests == [brumo_path]
    assert rows["test"] == [
        {"id": "brumo25-3", "problem": "Find $AB$.", "expected_answer": "2\\sqrt{3}", "problem_type": ["Geometry"]}
    ]


def test_amc23_answers_become_integer_strings(prepare):
    upstream = [
        {
            "id": 0,
            "question": "Cities $A$ and $B$ are $45$ miles apart. How many miles from City $A$ will they meet?",
            "answer": 27.0,
            "url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1",
        },
        {"question": "What is $a_{2023}$?", "answer": ["-1.0"]},
    ]
    rows, requests = prepare("amc23", {f"{QWEN}/amc23/test.jsonl": jsonl_bytes(upstream)})
    assert requests == [f"{QWEN}/amc23/test.jsonl"]
    assert rows["test"] == [
        {
            "id": "amc23-0",
            "problem": "Cities $A$ and $B$ are $45$ miles apart. How many miles from City $A$ will they meet?",
            "expected_answer": "27",
            "url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1",
        },
        {"id": "amc23-1", "problem": "What is $a_{2023}$?", "expected_answer": "-1"},
    ]


def test_minerva_math_answers_come_from_the_last_box(prepare):
    upstream = [
        {
            "problem": "Find the angular resolution in arcseconds.",
            "solution": "First \\boxed{1} is wrong; the answer is \\boxed{ 0.49 }.",
            "type": "Introduction to Astronomy (8.282J Spring 2006)",
            "idx": 0,
        },
        {
            "problem": "Solve $\\dot{x}+x=1$.",
            "solution": "So $x = \\boxed{\\frac{1}{2}\\left(1 - e^{-2t}\\right)}$.",
            "type": "Differential Equations (18.03 Spring 2010)",
            "idx": 1,
        },
    ]
    rows, _ = prepare("minerva_math", {f"{QWEN}/minerva_math/test.jsonl": jsonl_bytes(upstream)})
    assert rows["test"] == [
        {
            "id": "minerva_math-0",
            "problem": "Find the angular resolution in arcseconds.",
            "expected_answer": "0.49",
            "reference_solution": "First \\boxed{1} is wrong; the answer is \\boxed{ 0.49 }.",
            "type": "Introduction to Astronomy (8.282J Spring 2006)",
        },
        {
            "id": "minerva_math-1",
            "problem": "Solve $\\dot{x}+x=1$.",
            "expected_answer": "\\frac{1}{2}\\left(1 - e^{-2t}\\right)",
            "reference_solution": "So $x = \\boxed{\\frac{1}{2}\\left(1 - e^{-2t}\\right)}$.",
            "type": "Differential Equations (18.03 Spring 2010)",
        },
    ]


def test_olympiadbench_final_answers_lose_their_dollars(prepare):
    upstream = [
        {
            "id": 1606,
            "question": "Compute the smallest $k$.",
            "solution": ["Note that...", "Hence the answer."],
            "final_answer": ["$\\frac{1}{2}$"],
            "context": None,
            "image_1": None,
            "modality": "Text-only",
            "difficulty": "Competition",
            "is_multiple_answer": False,
            "unit": None,
            "answer_type": "Numerical",
            "error": None,
            "question_type": "Open-ended",
            "subfield": "Algebra",
            "subject": "Math",
            "language": "English",
        },
        {
            "id": 2001,
            "question": "Find all $n$.",
            "solution": ["Both work."],
            "final_answer": ["$3$", "$5$"],
            "is_multiple_answer": True,
            "unit": "cm",
            "answer_type": "Numerical",
            "subfield": "Number Theory",
        },
    ]
    rows, _ = prepare("olympiadbench", {f"{QWEN}/olympiadbench/test.jsonl": jsonl_bytes(upstream)})
    assert rows["test"] == [
        {
            "id": "olympiadbench-1606",
            "problem": "Compute the smallest $k$.",
            "expected_answer": "\\frac{1}{2}",
            "reference_solution": "Note that...\n\nHence the answer.",
            "subfield": "Algebra",
            "answer_type": "Numerical",
            "is_multiple_answer": False,
        },
        {
            "id": "olympiadbench-2001",
            "problem": "Find all $n$.",
            "expected_answer": "3, 5",
            "reference_solution": "Both work.",
            "subfield": "Number Theory",
            "answer_type": "Numerical",
            "unit": "cm",
            "is_multiple_answer": True,
        },
    ]


def test_college_math_and_gaokao_from_qwen_eval_data(prepare):
    college = [
        {
            "data_source": "college_math.Beginning_and_Intermediate_Algebra",
            "question_number": "exercise.8.3.20",
            "question": "Simplify: $-3 \\sqrt{18}-\\sqrt{8}+2 \\sqrt{8}+2 \\sqrt{8}$",
            "answer": "$-3 \\sqrt{2}$",
            "license": "Creative Commons Attribution 3.0 Unported License (CC BY 3.0)",
            "data_topic": "college_math.algebra",
        }
    ]
    rows, requests = prepare("college_math", {f"{QWEN}/college_math/test.jsonl": jsonl_bytes(college)})
    assert requests == [f"{QWEN}/college_math/test.jsonl"]
    assert rows["test"] == [
        {
            "id": "college_math-0",
            "problem": "Simplify: $-3 \\sqrt{18}-\\sqrt{8}+2 \\sqrt{8}+2 \\sqrt{8}$",
            "expected_answer": "-3 \\sqrt{2}",
            "subset_for_metrics": "college_math.algebra",
            "data_source": "college_math.Beginning_and_Intermediate_Algebra",
            "question_number": "exercise.8.3.20",
        }
    ]
    gaokao = [
        {"question": "Let $A=\\{1,2\\}$. Find $A \\cup B$.", "answer": "$\\{1,2,3\\}$"},
        {"question": "Find the price, in \\$.", "answer": "\\$5"},
    ]
    rows, requests = prepare("gaokao2023en", {f"{QWEN}/gaokao2023en/test.jsonl": jsonl_bytes(gaokao)})
    assert requests == [f"{QWEN}/gaokao2023en/test.jsonl"]
    assert rows["test"] == [
        {"id": "gaokao2023en-0", "problem": "Let $A=\\{1,2\\}$. Find $A \\cup B$.", "expected_answer": "\\{1,2,3\\}"},
        {"id": "gaokao2023en-1", "problem": "Find the price, in \\$.", "expected_answer": "\\$5"},
    ]


def test_omni_math_from_github(prepare):
    path = "raw.githubusercontent.com/KbsdJames/Omni-MATH/refs/heads/main/Omni-Math.jsonl"
    upstream = [
        {
            "domain": ["Mathematics -> Algebra -> Other"],
            "difficulty": 6.5,
            "problem": "Find all positive integers $n$ such that ...",
            "solution": "Only $n=2$ works.",
            "answer": "$n=2$",
            "source": "china_national_olympiad",
        }
    ]
    rows, requests = prepare("omni-math", {path: jsonl_bytes(upstream)})
    assert requests == [path]
    assert rows["test"] == [
        {
            "id": "omni-math-0",
            "problem": "Find all positive integers $n$ such that ...",
            "expected_answer": "n=2",
            "reference_solution": "Only $n=2$ works.",
            "domain": ["Mathematics -> Algebra -> Other"],
            "difficulty": 6.5,
            "source": "china_national_olympiad",
        }
    ]


def test_svamp_joins_body_and_question(prepare):
    path = "raw.githubusercontent.com/arkilpatel/SVAMP/main/SVAMP.json"
    upstream = [
        {
            "ID": "chal-1",
            "Body": "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack",
            "Question": "How much do you have to pay to buy each pack?",
            "Equation": "( 76.0 - 25.0 )",
            "Answer": 51.0,
            "Type": "Subtraction",
        },
        {
            "ID": "chal-2",
            "Body": "Dan had 5 cakes. He cut each in halves.",
            "Question": "How many cakes per plate if he uses 4 plates?",
            "Equation": "( 10.0 / 4.0 )",
            "Answer": 2.5,
            "Type": "Common-Division",
        },
    ]
    rows, requests = prepare("svamp", {path: json.dumps(upstream).encode()})
    assert requests == [path]
    assert rows["test"] == [
        {
            "id": "chal-1",
            "problem": "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack. "
            "How much do you have to pay to buy each pack?",
            "expected_answer": "51",
            "reference_equation": "( 76.0 - 25.0 )",
            "type": "Subtraction",
        },
        {
            "id": "chal-2",
            "problem": "Dan had 5 cakes. He cut each in halves. How many cakes per plate if he uses 4 plates?",
            "expected_answer": "2.5",
            "reference_equation": "( 10.0 / 4.0 )",
            "type": "Common-Division",
        },
    ]


ASDIV_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<Machine-Reading-Corpus-File>
  <ProblemSet>
    <Problem ID="nluds-0001" Grade="1" Source="http://www.k5learning.com">
      <Body>Seven red apples and two green apples are in the basket.</Body>
      <Question>How many apples are in the basket?</Question>
      <Solution-Type>Addition</Solution-Type>
      <Answer>9 (apples)</Answer>
      <Formula>7+2=9</Formula>
    </Problem>
    <Problem ID="nluds-0900" Grade="4" Source="http://www.example.com">
      <Body>A class has 13 children; there are 1 more girls than boys.</Body>
      <Question>How many boys and girls are there?</Question>
      <Solution-Type>Set-Operation</Solution-Type>
      <Answer>6 (boys); 7 (girls)</Answer>
      <Formula>(13-1)/2=6; 6+1=7</Formula>
    </Problem>
    <Problem ID="nluds-1200" Grade="5">
      <Body>A car costs $1,200.</Body>
      <Question>What do two cost?</Question>
      <Solution-Type>Multiplication</Solution-Type>
      <Answer>2,400 (dollars)</Answer>
    </Problem>
  </ProblemSet>
</Machine-Reading-Corpus-File>
"""


def test_asdiv_parses_the_xml_and_drops_units(prepare):
    path = "raw.githubusercontent.com/chaochun/nlu-asdiv-dataset/master/dataset/ASDiv.xml"
    rows, requests = prepare("asdiv", {path: ASDIV_XML.encode()})
    assert requests == [path]
    assert rows["test"] == [
        {
            "id": "nluds-0001",
            "problem": "Seven red apples and two green apples are in the basket. How many apples are in the basket?",
            "expected_answer": "9",
            "type": "Addition",
            "grade": 1,
            "reference_equation": "7+2=9",
        },
        {
            "id": "nluds-0900",
            "problem": "A class has 13 children; there are 1 more girls than boys. How many boys and girls are there?",
            "expected_answer": "6, 7",
            "type": "Set-Operation",
            "grade": 4,
            "reference_equation": "(13-1)/2=6; 6+1=7",
        },
        {
            "id": "nluds-1200",
            "problem": "A car costs $1,200. What do two cost?",
            "expected_answer": "2400",
            "type": "Multiplication",
            "grade": 5,
        },
    ]


def test_mawps_reads_all_four_subsets(prepare):
    base = "raw.githubusercontent.com/microsoft/ToRA/main/src/data/mawps"
    files = {
        f"{base}/addsub.jsonl": jsonl_bytes([{"input": "Joan found 70 seashells. How many now?", "target": 70.0}]),
        f"{base}/singleeq.jsonl": jsonl_bytes([{"input": "A pie costs 2.5 dollars. Total?", "target": 2.5}]),
        f"{base}/singleop.jsonl": jsonl_bytes([{"input": "There are 12 eggs.", "target": 12}]),
        f"{base}/multiarith.jsonl": jsonl_bytes(
            [{"input": "Each box has 4 toys. Ten boxes?", "target": 40.0}, {"input": "Zero?", "target": 0}]
        ),
    }
    rows, requests = prepare("mawps", files)
    assert requests == sorted(files)
    assert rows["test"] == [
        {
            "id": "mawps-addsub-0",
            "problem": "Joan found 70 seashells. How many now?",
            "expected_answer": "70",
            "type": "addsub",
            "subset_for_metrics": "addsub",
        },
        {
            "id": "mawps-singleeq-0",
            "problem": "A pie costs 2.5 dollars. Total?",
            "expected_answer": "2.5",
            "type": "singleeq",
            "subset_for_metrics": "singleeq",
        },
        {
            "id": "mawps-singleop-0",
            "problem": "There are 12 eggs.",
            "expected_answer": "12",
            "type": "singleop",
            "subset_for_metrics": "singleop",
        },
        {
            "id": "mawps-multiarith-0",
            "problem": "Each box has 4 toys. Ten boxes?",
            "expected_answer": "40",
            "type": "multiarith",
            "subset_for_metrics": "multiarith",
        },
        {
            "id": "mawps-multiarith-1",
            "problem": "Zero?",
            "expected_answer": "0",
            "type": "multiarith",
            "subset_for_metrics": "multiarith",
        },
    ]


def test_gsm_plus_writes_test_and_test_rounded(prepare):
    path = f"{HF}/qintongli/GSM-Plus/resolve/main/data/test-00000-of-00001.jsonl"
    upstream = [
        {
            "question": "Janet has 16 eggs and eats 3. How many are left?",
            "solution": "16 - 3 = 13",
            "answer": "13",
            "perturbation_type": "numerical substitution",
            "seed_question": "Janet has 16 eggs and eats 4. How many are left?",
            "seed_solution": "16 - 4 = 12",
            "seed_answer": "12",
        },
        {
            "question": "A robe takes 2.25 bolts. How many bolts?",
            "solution": "It is 2.25.",
            "answer": "2.25",
            "perturbation_type": "integer-decimal-fraction conversion",
            "seed_question": "A robe takes 2 bolts. How many bolts?",
            "seed_solution": "It is 2.",
            "seed_answer": "2",
        },
        {
            "question": "Janet has some eggs and eats 3. How many are left?",
            "solution": "The number of eggs is missing.",
            "answer": "None",
            "perturbation_type": "critical thinking",
            "seed_question": "Janet has 16 eggs and eats 3. How many are left?",
            "seed_solution": "16 - 3 = 13",
            "seed_answer": "13",
        },
    ]
    rows, requests = prepare("gsm-plus", {path: jsonl_bytes(upstream)})
    assert requests == [path]  # one download serves both splits
    assert rows["test"] == [
        {
            "id": "gsm-plus-0",
            "problem": "Janet has 16 eggs and eats 3. How many are left?",
            "expected_answer": "13",
            "reference_solution": "16 - 3 = 13",
            "perturbation_type": "numerical substitution",
            "subset_for_metrics": "numerical substitution",
            "seed_question": "Janet has 16 eggs and eats 4. How many are left?",
            "seed_solution": "16 - 4 = 12",
            "seed_answer": "12",
        },
        {
            "id": "gsm-plus-1",
            "problem": "A robe takes 2.25 bolts. How many bolts?",
            "expected_answer": "2.25",
            "reference_solution": "It is 2.25.",
            "perturbation_type": "integer-decimal-fraction conversion",
            "subset_for_metrics": "integer-decimal-fraction conversion",
            "seed_question": "A robe takes 2 bolts. How many bolts?",
            "seed_solution": "It is 2.",
            "seed_answer": "2",
        },
        {
            "id": "gsm-plus-2",
            "problem": "Janet has some eggs and eats 3. How many are left?",
            "expected_answer": "insufficient",
            "reference_solution": "The number of eggs is missing.",
            "perturbation_type": "critical thinking",
            "subset_for_metrics": "critical thinking",
            "seed_question": "Janet has 16 eggs and eats 3. How many are left?",
            "seed_solution": "16 - 3 = 13",
            "seed_answer": "13",
        },
    ]
    assert [row["problem"] for row in rows["test_rounded"]] == [
        "Janet has 16 eggs and eats 3. How many are left? Express the answer as an integer.",
        "A robe takes 2.25 bolts. How many bolts? Round the answer to 2 decimal places.",
        "Janet has some eggs and eats 3. How many are left?",
    ]
    strip = {"problem"}
    assert [{k: v for k, v in row.items() if k not in strip} for row in rows["test_rounded"]] == [
        {k: v for k, v in row.items() if k not in strip} for row in rows["test"]
    ]


def test_algebra222_from_the_pinned_csv(prepare):
    path = (
        "raw.githubusercontent.com/joyheyueya/declarative-math-word-problem/"
        "7dc99c39f53e108103a84ff8c7ef5d4857ad34ff/algebra222.csv"
    )
    csv_text = (
        "question,final_answer,section,source\n"
        "Suppose that the value of x is −4. What is the value of the expression (3x − 5) + x?,-21,"
        '"Expressions, Relations, and Substitution",\n'
        '"The size of a compressed file is 1.74 MiB, and the original is 5.5 times greater. Size?",9.57,Translation,\n'
        "Ivan can grade 25 quizzes per hour. How many in 4 hours?,100.0,Applications,https://openstax.org\n"
    )
    rows, requests = prepare("algebra222", {path: csv_text.encode()})
    assert requests == [path]
    assert rows["test"] == [
        {
            "id": "algebra222-0",
            "problem": "Suppose that the value of x is −4. What is the value of the expression (3x − 5) + x?",
            "expected_answer": "-21",
            "section": "Expressions, Relations, and Substitution",
        },
        {
            "id": "algebra222-1",
            "problem": "The size of a compressed file is 1.74 MiB, and the original is 5.5 times greater. Size?",
            "expected_answer": "9.57",
            "section": "Translation",
        },
        {
            "id": "algebra222-2",
            "problem": "Ivan can grade 25 quizzes per hour. How many in 4 hours?",
            "expected_answer": "100",
            "section": "Applications",
        },
    ]


def test_beyond_aime_from_the_hub_parquet_conversion(prepare):
    path = f"{HF}/ByteDance-Seed/BeyondAIME/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet"
    upstream = [
        {"problem": "Find the number of subsets.", "answer": "1024"},
        {"problem": "Find $m+n$.", "answer": "37"},
    ]
    rows, requests = prepare("beyond-aime", {path: parquet_bytes(upstream)})
    assert requests == [path]
    assert rows["test"] == [
        {"id": "beyond-aime-0", "problem": "Find the number of subsets.", "expected_answer": "1024"},
        {"id": "beyond-aime-1", "problem": "Find $m+n$.", "expected_answer": "37"},
    ]


@pytest.mark.parametrize(
    ("name", "upstream", "message"),
    [
        ("amc23", [{"question": "Q", "answer": 1.0}, {"question": "Q", "answer": 2.5}], "row 1: expected an integer"),
        ("aime25", [{"problem_idx": 1, "problem": "Q", "answer": "1/2"}], "row 0: expected an integer"),
        ("minerva_math", [{"problem": "Q", "solution": "no box here"}], "row 0: no \\\\boxed"),
        ("math", [{"problem": "Q", "solution": "\\boxed{1}"}, {"problem": "Q"}], "row 1: no 'solution'"),
        ("omni-math", [{"problem": "Q", "answer": ""}], "row 0: no 'answer'"),
        ("svamp", [{"Body": "B.", "Question": "Q?"}], "row 0: no 'Answer'"),
        ("gsm-plus", [{"question": "Q", "answer": "1"}, {"answer": "2"}], "row 1: no 'question'"),
        ("asdiv", "<Problem ID='x'><Body>B</Body><Question>Q</Question></Problem>", "row 0: no Answer"),
    ],
)
def test_converters_name_the_row_that_lacks_a_field(name, upstream, message):
    convert = get_benchmark(name).prepare_module().convert
    with pytest.raises(InputError, match=f"{name}/test {message}"):
        convert(upstream, "test")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$\\frac{1}{2}$", "\\frac{1}{2}"),
        ("  $x = 3$ or $x=4$ ", "x = 3 or x=4"),
        ("\\$5", "\\$5"),
        ("27.0", "27"),
        ("-3.00", "-3"),
        ("2.50", "2.50"),
        (27.0, "27"),
        (0.25, "0.25"),
        (7, "7"),
        (["$3$"], "3"),
        (["$3$", "$5$"], "3, 5"),
        (None, ""),
    ],
)
def test_clean_answer(value, expected):
    from nemo_skills.dataset.math_sources import clean_answer

    assert clean_answer(value) == expected


def test_numeric_integer_and_boxed_helpers():
    from nemo_skills.dataset.math_sources import integer_answer, last_boxed, numeric_answer

    assert numeric_answer("1,200") == "1200"
    assert numeric_answer("+7.0") == "7"
    assert numeric_answer("1e-05") == "1e-05"
    assert numeric_answer("3/4") == "3/4"
    assert integer_answer("$033$", "b", "test", 0) == "33"
    assert integer_answer(["-1.0"], "b", "test", 0) == "-1"
    with pytest.raises(InputError, match="b/test row 4: expected an integer answer"):
        integer_answer("\\frac{1}{2}", "b", "test", 4)
    assert last_boxed("\\boxed{1} then \\boxed {\\{2, 3\\}}") == "\\{2, 3\\}"
    assert last_boxed("\\fbox{\\frac{a}{b}}") == "\\frac{a}{b}"
    assert last_boxed("\\boxed{unclosed") is None
    assert last_boxed("no box") is None
