"""`prepare_data` for the multiple-choice, instruction-following and judged benchmarks, end to end: upstream-format
fixture files (inline, tiny) are served from a loopback server standing in for GitHub, Hugging Face, Berkeley and
OpenAI, and the converted rows are compared exactly. Then every new prompt config is rendered for a prepared row."""

from __future__ import annotations

import csv
import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nemo_skills.dataset.mcq import seeded_order
from nemo_skills.dataset.prepare import prepare_benchmarks
from nemo_skills.errors import InputError
from nemo_skills.evaluation.evaluator.builtin.judge import parse_yes_no_judgement
from nemo_skills.prompt.prompt import Prompt
from nemo_skills.utils.jsonl import read_jsonl
from tests.fixture_http import serve_fixtures


def hf(repo: str, path: str) -> str:
    return f"huggingface.co/datasets/{repo}/resolve/main/{path}"


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def csv_bytes(header: list[str] | None, rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def parquet_bytes(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def arrow_stream_bytes(rows: list[dict], schema: pa.Schema) -> bytes:
    sink = io.BytesIO()
    table = pa.Table.from_pylist(rows, schema=schema)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def tar_bytes(files: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with tarfile.open(fileobj=sink, mode="w") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return sink.getvalue()


@pytest.fixture
def prepare(tmp_path, monkeypatch):
    """prepare(name, files, splits=None) -> ({split: rows}, requested paths), served from the fixture files."""
    monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("NEMO_SKILLS_DATA_DIR", raising=False)
    data_dir = tmp_path / "data"

    def run(name: str, files: dict[str, bytes], splits: tuple[str, ...] | None = None, fail: dict | None = None):
        with serve_fixtures(files) as server:
            server.fail_paths.update(fail or {})
            monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
            [prepared] = prepare_benchmarks([name], data_dir=data_dir, splits=splits)
        rows = {split: read_jsonl(path) for split, path in prepared.files.items()}
        assert prepared.rows == {split: len(r) for split, r in rows.items()}
        return rows, server.requests

    return run


# --- multiple choice ------------------------------------------------------------------------------------------------

MMLU_PATH = "people.eecs.berkeley.edu/~hendrycks/data.tar"


def test_mmlu_reads_the_split_csvs_from_the_tarball(prepare):
    archive = tar_bytes(
        {
            "data/test/anatomy_test.csv": csv_bytes(
                None, [["Which bone is in the arm?", "Femur", "Humerus", "Tibia", "Fibula", "B"]]
            ),
            "data/test/abstract_algebra_test.csv": csv_bytes(
                None,
                [
                    ["Order of Z_4?", "1", "2", "3", "4", "D"],
                    ['Is "Z" a ring, yes or no?', "yes", "no", "maybe", "never", "A"],
                ],
            ),
            "data/dev/anatomy_dev.csv": csv_bytes(None, [["Dev question", "a", "b", "c", "d", "C"]]),
            "data/auxiliary_train/other.csv": csv_bytes(None, [["ignored"]]),
        }
    )
    rows, requests = prepare("mmlu", {MMLU_PATH: archive}, splits=("test", "dev"))
    assert requests == [MMLU_PATH]  # one download for all splits
    assert rows["test"][0] == {
        "id": "mmlu-test-abstract_algebra-0",
        "problem": "Order of Z_4?\n\nA) 1\nB) 2\nC) 3\nD) 4",
        "options": ["1", "2", "3", "4"],
        "A": "1",
        "B": "2",
        "C": "3",
        "D": "4",
        "expected_answer": "D",
        "subset_for_metrics": "abstract_algebra",
    }
    assert [(r["id"], r["expected_answer"], r["subset_for_metrics"]) for r in rows["test"]] == [
        ("mmlu-test-abstract_algebra-0", "D", "abstract_algebra"),
        ("mmlu-test-abstract_algebra-1", "A", "abstract_algebra"),
        ("mmlu-test-anatomy-0", "B", "anatomy"),
    ]
    assert rows["test"][1]["problem"].startswith('Is "Z" a ring, yes or no?\n\nA) yes\n')
    assert [(r["id"], r["expected_answer"]) for r in rows["dev"]] == [("mmlu-dev-anatomy-0", "C")]


def test_mmlu_bad_row_names_subject_and_row(prepare):
    archive = tar_bytes({"data/test/anatomy_test.csv": csv_bytes(None, [["q", "a", "b", "c", "d", "E"]])})
    with pytest.raises(InputError, match=r"mmlu-test-anatomy-0: answer index 4 is outside its 4 options"):
        prepare("mmlu", {MMLU_PATH: archive}, splits=("test",))


MMLU_PRO_ROWS = [
    {
        "question_id": 70,
        "question": "Which is the largest planet?",
        "options": ["Mars", "Venus", "Earth", "Mercury", "Saturn", "Uranus", "Neptune", "Pluto", "Moon", "Jupiter"],
        "answer": "J",
        "answer_index": 9,
        "cot_content": "",
        "category": "computer science",
        "src": "ori_mmlu-astronomy",
    },
    {
        "question_id": 71,
        "question": "2 + 2 = ?",
        "options": ["3", "4", "5"],
        "answer": "B",
        "answer_index": 1,
        "cot_content": "",
        "category": "math",
        "src": "stemez",
    },
]


def test_mmlu_pro_from_parquet_keeps_ten_options(prepare):
    path = hf("TIGER-Lab/MMLU-Pro", "data/test-00000-of-00001.parquet")
    rows, requests = prepare("mmlu-pro", {path: parquet_bytes(MMLU_PRO_ROWS)}, splits=("test",))
    assert requests == [path]
    first, second = rows["test"]
    assert first["id"] == "mmlu-pro-70"
    assert first["problem"] == (
        "Which is the largest planet?\n\nA) Mars\nB) Venus\nC) Earth\nD) Mercury\nE) Saturn\nF) Uranus\n"
        "G) Neptune\nH) Pluto\nI) Moon\nJ) Jupiter"
    )
    assert (first["expected_answer"], first["J"], first["subset_for_metrics"]) == ("J", "Jupiter", "computer_science")
    assert second == {
        "id": "mmlu-pro-71",
        "problem": "2 + 2 = ?\n\nA) 3\nB) 4\nC) 5",
        "options": ["3", "4", "5"],
        "A": "3",
        "B": "4",
        "C": "5",
        "expected_answer": "B",
        "subset_for_metrics": "math",
        "src": "stemez",
    }


def test_mmlu_pro_answer_must_agree_with_answer_index(prepare):
    bad = [dict(MMLU_PRO_ROWS[1], answer_index=2)]
    path = hf("TIGER-Lab/MMLU-Pro", "data/validation-00000-of-00001.parquet")
    with pytest.raises(InputError, match="question 71: answer 'B' disagrees with answer_index 2"):
        prepare("mmlu-pro", {path: parquet_bytes(bad)}, splits=("validation",))


REDUX_SCHEMA = pa.schema(
    [
        ("question", pa.string()),
        ("choices", pa.list_(pa.string())),
        ("answer", pa.int64()),
        ("error_type", pa.string()),
        ("source", pa.string()),
        ("correct_answer", pa.string()),
        ("potential_reason", pa.string()),
    ]
)


def redux_row(question: str, answer: int, error_type: str, correct: str | None = None) -> dict:
    return {
        "question": question,
        "choices": ["w", "x", "y", "z"],
        "answer": answer,
        "error_type": error_type,
        "source": "src",
        "correct_answer": correct,
        "potential_reason": None,
    }


def test_mmlu_redux_keeps_ok_and_corrected_rows_only(prepare):
    from nemo_skills.dataset.catalog import get_benchmark

    subjects = get_benchmark("mmlu-redux").prepare_module().SUBJECTS
    assert len(subjects) == 57 and len(set(subjects)) == 57
    algebra = [
        redux_row("ok question", 2, "ok"),
        redux_row("corrected by letter", 0, "wrong_groundtruth", "D"),
        redux_row("corrected by index", 0, "wrong_groundtruth", "1"),
        redux_row("no usable correction", 0, "wrong_groundtruth", "the answer is 7"),
        redux_row("no correct answer", 0, "no_correct_answer", "7"),
        redux_row("several correct", 0, "multiple_correct_answers", "A, C"),
        redux_row("unclear", 0, "bad_question_clarity"),
        redux_row("unclear options", 0, "bad_options_clarity"),
        redux_row("needs an expert", 0, "expert"),
    ]
    files = {
        hf("edinburgh-dawg/mmlu-redux-2.0", f"{s}/data-00000-of-00001.arrow"): arrow_stream_bytes(
            algebra if s == "abstract_algebra" else [redux_row(f"{s} q", 3, "ok")], REDUX_SCHEMA
        )
        for s in subjects
    }
    rows, requests = prepare("mmlu-redux", files)
    assert len(requests) == 57
    test = rows["test"]
    assert len(test) == 3 + 56
    assert test[0] == {
        "id": "mmlu-redux-abstract_algebra-0",
        "problem": "ok question\n\nA) w\nB) x\nC) y\nD) z",
        "options": ["w", "x", "y", "z"],
        "A": "w",
        "B": "x",
        "C": "y",
        "D": "z",
        "expected_answer": "C",
        "subset_for_metrics": "abstract_algebra",
        "error_type": "ok",
        "source": "src",
    }
    assert [(r["id"], r["expected_answer"]) for r in test[:4]] == [
        ("mmlu-redux-abstract_algebra-0", "C"),
        ("mmlu-redux-abstract_algebra-1", "D"),
        ("mmlu-redux-abstract_algebra-2", "B"),
        ("mmlu-redux-anatomy-0", "D"),
    ]
    assert test[-1]["id"] == "mmlu-redux-world_religions-0"


GPQA_HEADER = [
    "Pre-Revision Question",
    "Question",
    "Correct Answer",
    "Incorrect Answer 1",
    "Incorrect Answer 2",
    "Incorrect Answer 3",
    "Explanation",
    "Record ID",
    "High-level domain",
    "Subdomain",
    "Writer's Difficulty Estimate",
]


def gpqa_row(record_id: str, question: str, correct: str, wrong: list[str], subdomain: str = "Chemistry (general)"):
    return ["old", question, correct, *wrong, "Because.", record_id, "Chemistry", subdomain, "Hard graduate level"]


def test_gpqa_shuffles_options_deterministically_per_record_id(prepare):
    diamond = [
        gpqa_row("recA1", "What is the charge of an electron?", " -1 e ", ["+1 e", "0", "+2 e"], "Physics (general)"),
        gpqa_row("recB2", "Which gas is inert?", "Argon", ["Oxygen", "Hydrogen", "Chlorine"]),
    ]
    files = {
        hf("Idavidrein/gpqa", "gpqa_diamond.csv"): b"\xef\xbb\xbf" + csv_bytes(GPQA_HEADER, diamond),  # with a BOM
        hf("Idavidrein/gpqa", "gpqa_main.csv"): csv_bytes(
            GPQA_HEADER, [gpqa_row("recM1", "Q main", "yes", ["a", "b", "c"])]
        ),
        hf("Idavidrein/gpqa", "gpqa_extended.csv"): csv_bytes(
            GPQA_HEADER, [gpqa_row("recX1", "Q ext", "yes", ["a", "b", "c"])]
        ),
    }
    rows, requests = prepare("gpqa", files)
    assert sorted(requests) == sorted(files)
    first, second = rows["diamond"]
    # seeded_order(4, "42|recA1") == [1, 2, 0, 3]: the correct answer (position 0) lands on letter C.
    assert first == {
        "id": "recA1",
        "problem": "What is the charge of an electron?\n\nA) +1 e\nB) 0\nC) -1 e\nD) +2 e",
        "options": ["+1 e", "0", "-1 e", "+2 e"],
        "A": "+1 e",
        "B": "0",
        "C": "-1 e",
        "D": "+2 e",
        "expected_answer": "C",
        "subset_for_metrics": "Physics (general)",
        "domain": "Chemistry",
        "explanation": "Because.",
    }
    # seeded_order(4, "42|recB2") == [3, 0, 1, 2]
    assert (second["options"], second["expected_answer"]) == (["Chlorine", "Argon", "Oxygen", "Hydrogen"], "B")
    assert [(r["id"], r["expected_answer"]) for r in rows["main"] + rows["extended"]] == [
        ("recM1", "A"),
        ("recX1", "A"),
    ]

    # the order depends on the record id alone, not on the other rows or the run
    from nemo_skills.dataset.catalog import get_benchmark

    convert = get_benchmark("gpqa").prepare_module().convert
    assert convert([dict(zip(GPQA_HEADER, diamond[1], strict=True))], "diamond")[0] == second
    upstream = [
        dict(zip(GPQA_HEADER, gpqa_row(f"rec{i}", "q", "ok", ["a", "b", "c"]), strict=True)) for i in range(40)
    ]
    letters = [row["expected_answer"] for row in convert(upstream, "main")]
    assert all(row["options"][ord(row["expected_answer"]) - ord("A")] == "ok" for row in convert(upstream, "main"))
    assert set(letters) == {"A", "B", "C", "D"}
    assert seeded_order(4, "42|recA1") == [1, 2, 0, 3]


def test_gpqa_without_a_token_says_it_is_gated(prepare):
    from nemo_skills.dataset.download import DownloadError

    path = hf("Idavidrein/gpqa", "gpqa_diamond.csv")
    with pytest.raises(DownloadError, match=r"gpqa_diamond\.csv: HTTP 401 .*gated or private: set HF_TOKEN"):
        prepare("gpqa", {}, splits=("diamond",), fail={path: 401})
    from nemo_skills.dataset.catalog import get_benchmark

    assert "gated" in get_benchmark("gpqa").spec.description


SUPERGPQA_ROWS = [
    {
        "uuid": "u-1",
        "question": "Which unit measures force?",
        "options": ["Joule", "Newton", "Watt", "Pascal", "Volt", "Ohm", "Tesla", "Henry", "Farad", "Kelvin"],
        "answer": "Newton",
        "answer_letter": "B",
        "discipline": "Science",
        "field": "Physics",
        "subfield": "Mechanics",
        "difficulty": "easy",
        "is_calculation": False,
    },
    {
        "uuid": "u-2",
        "question": "Pick the prime.",
        "options": ["4", "6", "9", "11"],
        "answer": "11",
        "answer_letter": "D",
        "discipline": "Science",
        "field": "Mathematics",
        "subfield": "Number theory",
        "difficulty": "middle",
        "is_calculation": False,
    },
]


def test_supergpqa_keeps_upstream_order_and_checks_the_letter(prepare):
    path = hf("m-a-p/SuperGPQA", "SuperGPQA-all.jsonl")
    rows, _ = prepare("supergpqa", {path: jsonl_bytes(SUPERGPQA_ROWS)})
    first, second = rows["test"]
    assert first["problem"].endswith("\nI) Farad\nJ) Kelvin")
    assert (first["id"], first["expected_answer"], first["subset_for_metrics"]) == ("u-1", "B", "Science")
    assert second == {
        "id": "u-2",
        "problem": "Pick the prime.\n\nA) 4\nB) 6\nC) 9\nD) 11",
        "options": ["4", "6", "9", "11"],
        "A": "4",
        "B": "6",
        "C": "9",
        "D": "11",
        "expected_answer": "D",
        "subset_for_metrics": "Science",
        "field": "Mathematics",
        "subfield": "Number theory",
        "difficulty": "middle",
    }
    from nemo_skills.dataset.catalog import get_benchmark

    with pytest.raises(InputError, match="u-2: answer_letter 'C' does not point at the answer text"):
        get_benchmark("supergpqa").prepare_module().convert([dict(SUPERGPQA_ROWS[1], answer_letter="C")])


# --- instruction following ------------------------------------------------------------------------------------------

IF_ROWS = [
    {
        "key": 1000,
        "prompt": "Write a 300+ word summary. Do not use any commas and highlight at least 3 sections.",
        "instruction_id_list": ["punctuation:no_comma", "detectable_format:number_highlighted_sections"],
        "kwargs": [{}, {"num_highlights": 3, "relation": None, "num_words": None}],
    },
    {
        "key": 1001,
        "prompt": "Answer in lowercase only.",
        "instruction_id_list": ["change_case:english_lowercase"],
        "kwargs": [{"prompt_to_repeat": None}],
    },
]
IF_EXPECTED = [
    {
        "id": 1000,
        "prompt": "Write a 300+ word summary. Do not use any commas and highlight at least 3 sections.",
        "instruction_id_list": ["punctuation:no_comma", "detectable_format:number_highlighted_sections"],
        "kwargs": [{}, {"num_highlights": 3}],
    },
    {
        "id": 1001,
        "prompt": "Answer in lowercase only.",
        "instruction_id_list": ["change_case:english_lowercase"],
        "kwargs": [{}],
    },
]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        (
            "ifeval",
            "raw.githubusercontent.com/google-research/google-research/master/"
            "instruction_following_eval/data/input_data.jsonl",
        ),
        ("ifbench", "raw.githubusercontent.com/allenai/IFBench/main/data/IFBench_test.jsonl"),
    ],
)
def test_instruction_following_rows_drop_null_kwargs(prepare, name, path):
    rows, requests = prepare(name, {path: jsonl_bytes(IF_ROWS)})
    assert requests == [path]
    assert rows["test"] == IF_EXPECTED


def test_instruction_following_rows_must_pair_ids_and_kwargs(prepare):
    path = "raw.githubusercontent.com/allenai/IFBench/main/data/IFBench_test.jsonl"
    with pytest.raises(InputError, match="ifbench row 0: instruction_id_list and kwargs must be lists of equal"):
        prepare("ifbench", {path: jsonl_bytes([dict(IF_ROWS[0], kwargs=[{}])])})


# --- judged ---------------------------------------------------------------------------------------------------------

SIMPLEQA_TEST_PATH = "openaipublic.blob.core.windows.net/simple-evals/simple_qa_test_set.csv"
SIMPLEQA_VERIFIED_PATH = hf("codelion/SimpleQA-Verified", "simpleqa_verified.csv")


def test_simpleqa_both_splits(prepare):
    test_csv = csv_bytes(
        ["metadata", "problem", "answer"],
        [
            [
                "{'topic': 'Science and technology', 'answer_type': 'Person', 'urls': ['https://a.org/x', 'https://b.org/y']}",
                "Who received the Example Award in 2010? ",
                " Ada Example",
            ],
            ["{'topic': 'Geography', 'answer_type': 'Place', 'urls': []}", "Capital of Examplestan?", "Exampleville"],
        ],
    )
    verified_csv = csv_bytes(
        ["original_index", "problem", "answer", "topic", "answer_type", "multi_step", "requires_reasoning", "urls"],
        [
            [
                "1",
                "Capital of Examplestan?",
                "Exampleville",
                "Geography",
                "Place",
                "False",
                "True",
                "https://c.org/z,https://d.org/w",
            ]
        ],
    )
    rows, requests = prepare("simpleqa", {SIMPLEQA_TEST_PATH: test_csv, SIMPLEQA_VERIFIED_PATH: verified_csv})
    assert sorted(requests) == sorted([SIMPLEQA_TEST_PATH, SIMPLEQA_VERIFIED_PATH])
    assert rows["test"] == [
        {
            "id": "simpleqa-0",
            "problem": "Who received the Example Award in 2010?",
            "expected_answer": "Ada Example",
            "topic": "Science and technology",
            "answer_type": "Person",
            "urls": ["https://a.org/x", "https://b.org/y"],
        },
        {
            "id": "simpleqa-1",
            "problem": "Capital of Examplestan?",
            "expected_answer": "Exampleville",
            "topic": "Geography",
            "answer_type": "Place",
            "urls": [],
        },
    ]
    assert rows["verified"] == [
        {
            "id": "simpleqa-1",
            "problem": "Capital of Examplestan?",
            "expected_answer": "Exampleville",
            "topic": "Geography",
            "answer_type": "Place",
            "urls": ["https://c.org/z", "https://d.org/w"],
            "multi_step": False,
            "requires_reasoning": True,
        }
    ]


def test_simpleqa_default_split_is_verified():
    from nemo_skills.dataset.catalog import get_benchmark

    spec = get_benchmark("simpleqa").spec
    assert spec.eval_split == "verified" and spec.judge.prompt_config == "judge/simpleqa"
    assert spec.judge.eval_type == "simpleqa-judge"


ARENA_Q = "raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-v0.1/question.jsonl"
ARENA_A = "raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl"


def test_arena_hard_original_layout(prepare):
    questions = [
        {"question_id": "q1", "category": "arena-hard-v0.1", "cluster": "Keyboards", "turns": [{"content": "Hi?"}]},
        {"question_id": "q2", "category": "arena-hard-v0.1", "cluster": "Math", "turns": [{"content": "1+1?"}]},
    ]
    answers = [  # not in question order, as upstream
        {"question_id": "q2", "model_id": "gpt-4-0314", "choices": [{"index": 0, "turns": [{"content": "2"}]}]},
        {"question_id": "q1", "model_id": "gpt-4-0314", "choices": [{"index": 0, "turns": [{"content": "Hello."}]}]},
    ]
    rows, _ = prepare("arena-hard", {ARENA_Q: jsonl_bytes(questions), ARENA_A: jsonl_bytes(answers)})
    assert rows["test"] == [
        {
            "id": "q1",
            "problem": "Hi?",
            "baseline_answer": "Hello.",
            "category": "arena-hard-v0.1",
            "cluster": "Keyboards",
        },
        {"id": "q2", "problem": "1+1?", "baseline_answer": "2", "category": "arena-hard-v0.1", "cluster": "Math"},
    ]


def test_arena_hard_current_layout_and_missing_baseline(prepare):
    questions = [{"uid": "u1", "category": "arena-hard-v0.1", "subcategory": "x", "prompt": "Sort a list."}]
    answers = [
        {
            "uid": "u1",
            "messages": [
                {"role": "user", "content": "Sort a list."},
                {"role": "assistant", "content": {"answer": "sorted(x)"}},
            ],
        }
    ]
    rows, _ = prepare("arena-hard", {ARENA_Q: jsonl_bytes(questions), ARENA_A: jsonl_bytes(answers)})
    assert rows["test"] == [
        {
            "id": "u1",
            "problem": "Sort a list.",
            "baseline_answer": "sorted(x)",
            "category": "arena-hard-v0.1",
            "subcategory": "x",
        }
    ]
    from nemo_skills.dataset.catalog import get_benchmark

    convert = get_benchmark("arena-hard").prepare_module().convert
    with pytest.raises(InputError, match="question u2 has no gpt-4-0314 baseline answer"):
        convert([dict(questions[0], uid="u2")], answers)


def test_answer_judge_needs_no_download(prepare):
    rows, requests = prepare("answer-judge", {})
    assert requests == []
    test = rows["test"]
    assert len(test) == 11 and len({r["id"] for r in test}) == 11
    assert test[2] == {
        "id": "answer-judge-2",
        "problem": "Solve $|x - 1| < 2$. Give your answer in interval notation.",
        "expected_answer": "(-1, 3)",
        "predicted_answer": "[-1, 3]",
        "expected_judgement": "Judgement: No",
        "comment": "closed interval includes endpoints the strict inequality excludes",
    }
    verdicts = [parse_yes_no_judgement(r["expected_judgement"]) for r in test]
    assert None not in verdicts and 0 < sum(verdicts) < len(verdicts)  # both classes, all parsable


# --- prompt configs render for prepared rows -------------------------------------------------------------------------

MCQ_ROW = {
    "id": "x",
    "problem": "Which is even?\n\nA) 1\nB) 2\nC) 3\nD) 5",
    "options": ["1", "2", "3", "5"],
    "expected_answer": "B",
}


def user_text(prompt_config: str, row: dict) -> str:
    messages = Prompt.from_names(prompt_config).fill(row)
    assert messages[-1]["role"] == "user"
    return messages[-1]["content"]


@pytest.mark.parametrize(
    ("config", "letters"), [("eval/mcq-4choices", "(A, B, C or D)"), ("eval/mcq-10choices", "A to J")]
)
def test_mcq_prompts_ask_for_a_boxed_letter(config, letters):
    text = user_text(config, MCQ_ROW)
    assert text.endswith("\n\nWhich is even?\n\nA) 1\nB) 2\nC) 3\nD) 5")
    assert letters in text and "inside \\boxed{} at the end" in text


def test_benchmark_prompt_configs_render_their_prepared_rows():
    from nemo_skills.dataset.catalog import get_benchmark

    expected = {
        "mmlu": "eval/mcq-4choices",
        "mmlu-redux": "eval/mcq-4choices",
        "gpqa": "eval/mcq-4choices",
        "mmlu-pro": "eval/mcq-10choices",
        "supergpqa": "eval/mcq-10choices",
        "ifeval": "generic/if",
        "ifbench": "generic/if",
        "simpleqa": "generic/default",
        "arena-hard": "generic/default",
        "answer-judge": "judge/math",
    }
    assert {name: get_benchmark(name).spec.prompt_config for name in expected} == expected
    assert Prompt.from_names("generic/if").fill(IF_EXPECTED[1]) == [
        {"role": "user", "content": "Answer in lowercase only."}
    ]
    answer_judge_row = get_benchmark("answer-judge").prepare_module().rows()[0]
    text = user_text("judge/math", answer_judge_row)
    assert text.endswith(
        "Problem: What is $\\frac{3}{4} + \\frac{1}{2}$?\nPredicted answer: 1.25\nExpected answer: \\frac{5}{4}"
    )


def test_simpleqa_judge_prompt_renders_and_asks_for_one_letter():
    row = {"id": "simpleqa-1", "problem": "Capital of Examplestan?", "expected_answer": "Exampleville"}
    text = user_text("judge/simpleqa", {**row, "generation": "I believe it is {Exampleville}."})
    assert (
        "Question: Capital of Examplestan?\nGold answer: Exampleville\nResponse: I believe it is {Exampleville}."
        in text
    )
    assert text.endswith("Then write a final line that contains only the letter of the\ngrade: A, B or C.")
    from nemo_skills.evaluation.evaluator.builtin.judge import parse_simpleqa_grade

    assert parse_simpleqa_grade("The response names the right city.\nA") == "correct"


@pytest.mark.parametrize(
    ("config", "first", "second"), [("judge/arena", "BASE", "MODEL"), ("judge/arena-swapped", "MODEL", "BASE")]
)
def test_arena_judge_prompts_place_the_answers(config, first, second):
    row = {"id": "q1", "problem": "Hi?", "baseline_answer": "BASE", "generation": "MODEL"}
    messages = Prompt.from_names(config).fill(row)
    assert [m["role"] for m in messages] == ["system", "user"]
    for label in ("[[A>>B]]", "[[A>B]]", "[[A=B]]", "[[B>A]]", "[[B>>A]]"):
        assert label in messages[0]["content"]
    assert messages[1]["content"] == (
        f"===== USER PROMPT =====\nHi?\n\n===== ASSISTANT A =====\n{first}\n===== END OF ASSISTANT A =====\n\n"
        f"===== ASSISTANT B =====\n{second}\n===== END OF ASSISTANT B ====="
    )


def test_prepared_rows_fit_their_graders():
    """The prepared fields are what the registered graders read: a boxed letter against `expected_answer`, and the
    instruction checks built from `instruction_id_list` + the cleaned `kwargs`."""
    from nemo_skills.evaluation.instruction_following.grade import grade_row
    from nemo_skills.evaluation.math_grader import choice_equal, extract_choice_letter

    letter = extract_choice_letter("B is even, so the answer is \\boxed{B}")
    assert choice_equal(MCQ_ROW["expected_answer"], letter)
    row = {**IF_EXPECTED[0], "generation": "*one* *two* *three* and no commas at all"}
    assert grade_row(row, benchmark="ifeval")["strict_eval"] == {
        "follow_all_instructions": True,
        "follow_instruction_list": [True, True],
    }
    row = {**IF_EXPECTED[0], "generation": "*one*, *two*"}
    assert grade_row(row, benchmark="ifeval")["strict_eval"]["follow_instruction_list"] == [False, False]
