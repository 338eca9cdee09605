"""Output naming, chunk merging, JSONL reading errors and the crash-safe progress file."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from nemo_skills.errors import InputError
from nemo_skills.inference.output_files import (
    chunk_bounds,
    chunk_output_file,
    done_marker,
    is_done,
    mark_done,
    merge_chunks,
    seed_output_file,
)
from nemo_skills.inference.resume import INPUT_HASH_KEY, POSITION_KEY, ProgressFile, input_hash
from nemo_skills.utils.jsonl import read_jsonl, read_jsonl_rows, write_jsonl_atomic

# ---------------------------------------------------------------- naming and chunking


@pytest.mark.parametrize(
    ("num_rows", "num_chunks", "expected"),
    [
        (10, 3, [(0, 4), (4, 7), (7, 10)]),
        (9, 3, [(0, 3), (3, 6), (6, 9)]),
        (11, 4, [(0, 3), (3, 6), (6, 9), (9, 11)]),
        (2, 4, [(0, 1), (1, 2), (2, 2), (2, 2)]),
        (0, 2, [(0, 0), (0, 0)]),
        (5, 1, [(0, 5)]),
    ],
)
def test_chunk_bounds(num_rows, num_chunks, expected):
    assert [chunk_bounds(num_rows, num_chunks, chunk_id) for chunk_id in range(num_chunks)] == expected


@pytest.mark.parametrize("num_rows", [0, 1, 7, 100, 101])
@pytest.mark.parametrize("num_chunks", [1, 3, 8])
def test_chunk_bounds_cover_every_row_once(num_rows, num_chunks):
    bounds = [chunk_bounds(num_rows, num_chunks, chunk_id) for chunk_id in range(num_chunks)]
    assert [i for start, end in bounds for i in range(start, end)] == list(range(num_rows))
    sizes = [end - start for start, end in bounds]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize(("num_chunks", "chunk_id"), [(3, 3), (3, -1), (0, 0), (-1, 0)])
def test_chunk_bounds_invalid(num_chunks, chunk_id):
    with pytest.raises(ValueError, match="chunk_id must be in"):
        chunk_bounds(10, num_chunks, chunk_id)


def test_output_names(tmp_path):
    assert seed_output_file(tmp_path, None) == tmp_path / "output.jsonl"
    assert seed_output_file(tmp_path, 0) == tmp_path / "output-rs0.jsonl"
    assert seed_output_file(str(tmp_path), 12) == tmp_path / "output-rs12.jsonl"
    assert chunk_output_file(tmp_path / "output-rs0.jsonl", 1) == tmp_path / "output-rs0_chunk1.jsonl"
    assert chunk_output_file("out/output.jsonl", 0) == Path("out/output_chunk0.jsonl")
    assert done_marker("out/output.jsonl") == Path("out/output.jsonl.done")


def test_done_marker(tmp_path):
    output = tmp_path / "output.jsonl"
    assert not is_done(output)
    mark_done(output)
    assert is_done(output)
    assert (tmp_path / "output.jsonl.done").exists()


# ---------------------------------------------------------------- merging chunks


def write_chunks(output: Path, rows_per_chunk: list[int], done: list[int] | None = None) -> list[dict]:
    """Chunk files with consecutive ids; `done` lists the chunks that get a .done marker (default all)."""
    all_rows = []
    next_id = 0
    for chunk_id, count in enumerate(rows_per_chunk):
        rows = [{"id": next_id + i, "generation": f"g{next_id + i}", "chunk": chunk_id} for i in range(count)]
        next_id += count
        all_rows.extend(rows)
        chunk = chunk_output_file(output, chunk_id)
        write_jsonl_atomic(chunk, rows)
        if done is None or chunk_id in done:
            mark_done(chunk)
    return all_rows


def test_merge_waits_for_every_chunk(tmp_path):
    output = tmp_path / "output.jsonl"
    write_chunks(output, [2, 2, 2], done=[0, 2])  # chunk 1's file exists but has no .done marker
    assert merge_chunks(output, 3) is False
    assert not output.exists() and not is_done(output)
    assert all(chunk_output_file(output, i).exists() for i in range(3))


def test_merge_with_a_missing_chunk_file(tmp_path):
    output = tmp_path / "output.jsonl"
    write_chunks(output, [1, 1])
    assert merge_chunks(output, 3) is False
    assert not output.exists()


def test_merge_in_chunk_order_and_cleanup(tmp_path):
    output = tmp_path / "output.jsonl"
    expected = write_chunks(output, [4, 3, 0, 3])
    assert merge_chunks(output, 4) is True
    assert read_jsonl(output) == expected
    assert [row["id"] for row in read_jsonl(output)] == list(range(10))
    assert is_done(output)
    assert not any(chunk_output_file(output, i).exists() for i in range(4))
    assert not any(done_marker(chunk_output_file(output, i)).exists() for i in range(4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output.jsonl", "output.jsonl.done"]


def test_merge_keeps_chunks_when_asked(tmp_path):
    output = tmp_path / "output.jsonl"
    write_chunks(output, [1, 1])
    assert merge_chunks(output, 2, remove_chunks=False) is True
    assert chunk_output_file(output, 0).exists() and chunk_output_file(output, 1).exists()


def test_merge_is_idempotent(tmp_path):
    output = tmp_path / "output.jsonl"
    expected = write_chunks(output, [2, 1])
    assert merge_chunks(output, 2) is True
    before = output.read_bytes()
    assert merge_chunks(output, 2) is True  # chunks are gone; the .done marker says the merge happened
    assert output.read_bytes() == before
    assert read_jsonl(output) == expected


def _merge_in_process(output: str, num_chunks: int, barrier, results) -> None:
    barrier.wait()
    results.put(merge_chunks(output, num_chunks))


def test_concurrent_merges_in_processes_produce_one_correct_file(tmp_path):
    output = tmp_path / "output.jsonl"
    expected = write_chunks(output, [3000, 3000, 2999, 2999])
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    processes = [context.Process(target=_merge_in_process, args=(str(output), 4, barrier, results)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert [results.get(timeout=5) for _ in processes] == [True] * 4
    assert read_jsonl(output) == expected
    assert is_done(output)
    assert not (tmp_path / "output.jsonl.tmp").exists()
    assert not any(chunk_output_file(output, i).exists() for i in range(4))


def test_concurrent_merges_in_threads(tmp_path):
    output = tmp_path / "output.jsonl"
    expected = write_chunks(output, [500, 500, 499])
    barrier = threading.Barrier(6)
    results: list[bool] = []
    errors: list[BaseException] = []

    def merge() -> None:
        barrier.wait()
        try:
            results.append(merge_chunks(output, 3))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=merge) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == [True] * 6
    assert read_jsonl(output) == expected


# ---------------------------------------------------------------- reading JSONL


def test_read_jsonl_rows(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n\n  \n{"b": "x"}\r\n{"c": null}')
    rows = read_jsonl_rows(path)
    assert [(row.line_number, row.data) for row in rows] == [(1, {"a": 1}), (4, {"b": "x"}), (5, {"c": None})]
    assert [row.raw for row in rows] == [b'{"a": 1}', b'{"b": "x"}', b'{"c": null}']


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3,}\n{"a": 4}\n')
    with pytest.raises(InputError) as error:
        read_jsonl_rows(path)
    assert str(error.value).startswith(f"{path}:3: not valid JSON")


@pytest.mark.parametrize(("line", "kind"), [("[1, 2]", "list"), ('"text"', "str"), ("3", "int"), ("null", "NoneType")])
def test_non_object_line(tmp_path, line, kind):
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n' + line + "\n")
    with pytest.raises(InputError) as error:
        read_jsonl_rows(path)
    assert str(error.value) == f"{path}:2: each line must be a JSON object, got {kind}."


def test_missing_input_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_jsonl_rows(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        read_jsonl_rows(tmp_path)  # a directory is not an input file


def test_write_jsonl_atomic(tmp_path):
    path = tmp_path / "out.jsonl"
    assert write_jsonl_atomic(path, iter([{"a": "é"}, {"b": [1]}])) == 2
    assert path.read_text(encoding="utf-8") == '{"a": "é"}\n{"b": [1]}\n'
    assert not (tmp_path / "out.jsonl.tmp").exists()


# ---------------------------------------------------------------- progress file


RAW_LINES = [b'{"problem": "p0"}', b'{"problem": "p1"}', b'{"problem": "p2"}']
HASHES = {position: input_hash(raw) for position, raw in enumerate(RAW_LINES)}


def test_input_hash():
    assert input_hash(b"abc") == input_hash(b"abc")
    assert input_hash(b"abc") != input_hash(b"abd")
    assert len(input_hash(b"abc")) == 16


def test_progress_append_and_load_round_trip(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    assert progress.path == tmp_path / "output.jsonl-async"
    assert progress.load(HASHES) == set()
    progress.append(2, HASHES[2], {"generation": "c"})
    progress.append(0, HASHES[0], {"generation": "a"})
    progress.close()
    lines = progress.path.read_text().splitlines()
    assert json.loads(lines[0]) == {"generation": "c", POSITION_KEY: 2, INPUT_HASH_KEY: HASHES[2]}

    resumed = ProgressFile(output)
    assert resumed.load(HASHES) == {0, 2}
    resumed.append(1, HASHES[1], {"generation": "b"})
    assert resumed.finalize([0, 1, 2]) == 3
    assert read_jsonl(output) == [{"generation": "a"}, {"generation": "b"}, {"generation": "c"}]


def test_torn_last_line_is_dropped_and_truncated(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    progress.append(0, HASHES[0], {"generation": "a"})
    progress.close()
    intact = progress.path.read_bytes()
    with progress.path.open("ab") as handle:  # a kill in the middle of writing position 1
        handle.write(b'{"generation": "b", "_async_pos')

    resumed = ProgressFile(output)
    assert resumed.load(HASHES) == {0}
    assert progress.path.read_bytes() == intact  # the torn bytes are gone
    resumed.append(1, HASHES[1], {"generation": "b"})
    resumed.append(2, HASHES[2], {"generation": "c"})
    resumed.close()
    assert [json.loads(line)[POSITION_KEY] for line in progress.path.read_text().splitlines()] == [0, 1, 2]
    assert ProgressFile(output).load(HASHES) == {0, 1, 2}
    assert resumed.finalize([0, 1, 2]) == 3
    assert [row["generation"] for row in read_jsonl(output)] == ["a", "b", "c"]


def test_complete_json_without_newline_is_torn(tmp_path):
    output = tmp_path / "output.jsonl"
    line = json.dumps({"generation": "a", POSITION_KEY: 0, INPUT_HASH_KEY: HASHES[0]})
    Path(f"{output}-async").write_text(line)
    progress = ProgressFile(output)
    assert progress.load(HASHES) == set()
    assert progress.path.read_bytes() == b""


def test_records_whose_input_changed_are_not_trusted(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    for position in range(3):
        progress.append(position, HASHES[position], {"generation": f"old{position}"})
    progress.close()

    changed = {**HASHES, 1: input_hash(b'{"problem": "p1 edited"}')}
    resumed = ProgressFile(output)
    assert resumed.load(changed) == {0, 2}
    with pytest.raises(RuntimeError, match="1 samples unfinished"):
        resumed.finalize([0, 1, 2])
    resumed.append(1, changed[1], {"generation": "new1"})
    assert resumed.finalize([0, 1, 2]) == 3
    assert [row["generation"] for row in read_jsonl(output)] == ["old0", "new1", "old2"]


def test_records_outside_the_expected_positions_are_not_trusted(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    progress.append(0, HASHES[0], {"generation": "a"})
    progress.append(2, HASHES[2], {"generation": "c"})
    progress.close()
    assert ProgressFile(output).load({0: HASHES[0]}) == {0}  # e.g. a smaller max_samples on resume


def test_finalize_writes_input_order_and_strips_internal_keys(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    for position in (1, 2, 0):
        progress.append(position, HASHES[position], {"problem": f"p{position}", "generation": f"g{position}"})
    assert progress.finalize([0, 1, 2]) == 3
    assert output.read_text().splitlines() == [
        '{"problem": "p0", "generation": "g0"}',
        '{"problem": "p1", "generation": "g1"}',
        '{"problem": "p2", "generation": "g2"}',
    ]
    progress.remove()
    assert not progress.path.exists()


def test_finalize_a_subset_of_positions(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    for position in (0, 1, 2):
        progress.append(position, HASHES[position], {"generation": f"g{position}"})
    assert progress.finalize([2, 1]) == 2
    assert read_jsonl(output) == [{"generation": "g2"}, {"generation": "g1"}]


def test_finalize_with_a_missing_position_raises(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    progress.load(HASHES)
    progress.append(0, HASHES[0], {"generation": "a"})
    progress.append(2, HASHES[2], {"generation": "c"})
    with pytest.raises(RuntimeError, match="1 samples unfinished"):
        progress.finalize([0, 1, 2])
    assert not output.exists()


def test_finalize_nothing(tmp_path):
    output = tmp_path / "output.jsonl"
    progress = ProgressFile(output)
    assert progress.load({}) == set()
    assert progress.finalize([]) == 0
    assert output.read_text() == ""
