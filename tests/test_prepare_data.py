"""`prepare_data`: the real download code against a loopback server serving upstream-format fixtures."""

from __future__ import annotations

import json

import pytest

from nemo_skills.dataset.download import DownloadError, download, mirrored, sha256_of
from nemo_skills.dataset.prepare import check_rows, prepare_benchmarks
from nemo_skills.errors import ConfigError, InputError
from nemo_skills.utils.jsonl import read_jsonl
from tests.fixture_http import serve_fixtures

GSM8K_PATH = "raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/{split}.jsonl"
GSM8K_ROWS = [
    {"question": "Tom has 3 apples and buys 4 more. How many?", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"},
    {"question": "A car costs 1,200 dollars... ", "answer": "It is 1,200.\n#### 1,200"},
]


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_gsm8k_is_fetched_converted_and_recorded(tmp_path, isolated_cache, monkeypatch):
    files = {GSM8K_PATH.format(split=s): jsonl_bytes(GSM8K_ROWS) for s in ("test", "train")}
    with serve_fixtures(files) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        [prepared] = prepare_benchmarks(["gsm8k"], data_dir=tmp_path / "data", splits=("test",))
    rows = read_jsonl(tmp_path / "data" / "gsm8k" / "test.jsonl")
    assert rows == [
        {
            "id": "gsm8k-test-0",
            "problem": "Tom has 3 apples and buys 4 more. How many?",
            "expected_answer": "7",
            "reference_solution": "3 + 4 = <<3+4=7>>7",
        },
        {
            "id": "gsm8k-test-1",
            "problem": "A car costs 1,200 dollars...",
            "expected_answer": "1200",
            "reference_solution": "It is 1,200.",
        },
    ]
    assert prepared.rows == {"test": 2}
    assert server.requests == [GSM8K_PATH.format(split="test")]  # only the asked split
    record = json.loads((tmp_path / "data" / "gsm8k" / "prepared.json").read_text())
    source = record["sources"][0]
    assert source["url"].startswith("https://raw.githubusercontent.com/openai/grade-school-math/")
    assert len(source["sha256"]) == 64 and record["rows"] == {"test": 2}


def test_downloads_are_cached(tmp_path, isolated_cache, monkeypatch):
    with serve_fixtures({"example.org/a.txt": b"hello"}) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        first = download("https://example.org/a.txt")
        second = download("https://example.org/a.txt")
    assert first == second and first.read_bytes() == b"hello"
    assert server.requests == ["example.org/a.txt"]


def test_missing_file_names_the_url_and_does_not_retry(tmp_path, isolated_cache, monkeypatch):
    with serve_fixtures({}) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        with pytest.raises(
            DownloadError, match=r"Cannot download http://127\.0\.0\.1:\d+/example\.org/x\.json: HTTP 404"
        ):
            download("https://example.org/x.json")
    assert len(server.requests) == 1


def test_server_errors_are_retried_then_reported(tmp_path, isolated_cache, monkeypatch):
    monkeypatch.setattr("nemo_skills.dataset.download.time.sleep", lambda s: None)
    with serve_fixtures({"example.org/x.json": b"{}"}) as server:
        server.fail_paths["example.org/x.json"] = 503
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        with pytest.raises(DownloadError, match=r"HTTP 503 .*after 3 attempts"):
            download("https://example.org/x.json")
        assert len(server.requests) == 3
        del server.fail_paths["example.org/x.json"]
        assert download("https://example.org/x.json").read_bytes() == b"{}"


def test_unreachable_host_is_a_clear_error(isolated_cache, monkeypatch):
    from nemo_skills.inference.server.local import free_port

    monkeypatch.setattr("nemo_skills.dataset.download.time.sleep", lambda s: None)
    monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(DownloadError, match="Cannot download .*refused.*NEMO_SKILLS_DOWNLOAD_MIRROR"):
        download("https://example.org/y.json")


def test_checksum_mismatch_removes_the_file(tmp_path, isolated_cache, monkeypatch):
    with serve_fixtures({"example.org/z.bin": b"payload"}) as server:
        monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", server.mirror)
        path = download("https://example.org/z.bin")
        good = sha256_of(path)
        with pytest.raises(DownloadError, match="Checksum mismatch"):
            download("https://example.org/z.bin", sha256="0" * 64)
        assert not path.exists()
        assert download("https://example.org/z.bin", sha256=good).read_bytes() == b"payload"


def test_mirror_rewrites_host_and_path(monkeypatch):
    monkeypatch.setenv("NEMO_SKILLS_DOWNLOAD_MIRROR", "http://m:1/")
    assert mirrored("https://huggingface.co/datasets/a/b/resolve/main/x.parquet?download=1") == (
        "http://m:1/huggingface.co/datasets/a/b/resolve/main/x.parquet?download=1"
    )


def test_row_checks_catch_bad_converters():
    with pytest.raises(InputError, match="produced no rows"):
        check_rows("b", "test", [], ("id",))
    with pytest.raises(InputError, match="row 1: missing expected_answer"):
        check_rows(
            "b",
            "test",
            [{"id": 1, "expected_answer": "1"}, {"id": 2, "expected_answer": ""}],
            ("id", "expected_answer"),
        )
    with pytest.raises(InputError, match="id '1' appears twice"):
        check_rows("b", "test", [{"id": 1}, {"id": 1}], ("id",))


def test_unknown_split_or_benchmark_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="has no split dev"):
        prepare_benchmarks(["gsm8k"], splits=("dev",), data_dir=tmp_path)
    with pytest.raises(ConfigError, match="Unknown benchmark"):
        prepare_benchmarks(["gsm9k"], data_dir=tmp_path)
