"""Finding benchmarks: shipped packages, extra folders, groups, data paths, and the errors users see."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nemo_skills.dataset.catalog import expand_benchmarks, get_benchmark, list_benchmarks
from nemo_skills.dataset.spec import BenchmarkGroup, BenchmarkSpec
from nemo_skills.errors import ConfigError


def write_benchmark(root: Path, name: str, body: str) -> Path:
    folder = root.joinpath(*name.split("."))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(textwrap.dedent(body))
    return folder


TOY = """
from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(group="math", eval_type="math", metrics_type="math", splits=("test", "dev"))
"""


def test_every_shipped_benchmark_loads_with_a_valid_spec():
    names = list_benchmarks()
    assert "gsm8k" in names
    for name in names:
        benchmark = get_benchmark(name)
        assert isinstance(benchmark.spec, BenchmarkSpec | BenchmarkGroup)
        if isinstance(benchmark.spec, BenchmarkSpec):
            assert (benchmark.package_dir / "prepare.py").is_file(), f"{name} has no prepare.py"
            assert benchmark.spec.eval_split in benchmark.spec.splits


def test_every_shipped_benchmark_names_a_registered_evaluator_and_metrics_type():
    from nemo_skills.evaluation.evaluator import EVALUATORS
    from nemo_skills.evaluation.metrics.kinds import METRIC_KINDS

    for name in list_benchmarks():
        spec = get_benchmark(name).spec
        if isinstance(spec, BenchmarkSpec):
            assert spec.eval_type in EVALUATORS, name
            assert spec.metrics_type in METRIC_KINDS, name
            if spec.judge is not None:
                assert spec.judge.eval_type in EVALUATORS, name


def test_unknown_benchmark_suggests_the_nearest_name():
    with pytest.raises(ConfigError, match=r"Unknown benchmark 'gsm8': Did you mean 'gsm8k'|Did you mean 'gsm8k'"):
        get_benchmark("gsm8")


def test_extra_datasets_folder_from_env(tmp_path, monkeypatch):
    write_benchmark(tmp_path, "toy", TOY)
    monkeypatch.setenv("NEMO_SKILLS_EXTRA_DATASETS", str(tmp_path))
    benchmark = get_benchmark("toy")
    assert benchmark.spec.splits == ("test", "dev")
    assert "toy" in list_benchmarks()
    assert benchmark.data_file() == tmp_path / "toy" / "test.jsonl"
    assert benchmark.data_file("dev", "/data") == Path("/data/toy/dev.jsonl")
    monkeypatch.setenv("NEMO_SKILLS_DATA_DIR", "/elsewhere")
    assert benchmark.data_file() == Path("/elsewhere/toy/test.jsonl")


def test_dotted_names_are_nested_folders(tmp_path):
    write_benchmark(tmp_path, "suite", "")
    write_benchmark(tmp_path, "suite.part", TOY)
    benchmark = get_benchmark("suite.part", (tmp_path,))
    assert benchmark.data_file(data_dir="/d") == Path("/d/suite/part/test.jsonl")
    assert "suite.part" in list_benchmarks((tmp_path,))


def test_a_name_defined_twice_is_an_error(tmp_path):
    write_benchmark(tmp_path, "gsm8k", TOY)
    with pytest.raises(ConfigError, match="defined twice"):
        get_benchmark("gsm8k", (tmp_path,))


def test_missing_extra_folder_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        get_benchmark("gsm8k", (tmp_path / "nope",))


def test_a_package_without_a_spec_is_an_error(tmp_path):
    write_benchmark(tmp_path, "broken", "BENCHMARK = {'group': 'math'}\n")
    with pytest.raises(ConfigError, match="must define BENCHMARK"):
        get_benchmark("broken", (tmp_path,))


def test_groups_expand_to_members_and_duplicates_fail(tmp_path):
    write_benchmark(tmp_path, "toy", TOY)
    write_benchmark(
        tmp_path,
        "toys",
        """
        from nemo_skills.dataset.spec import BenchmarkGroup, GroupMember

        BENCHMARK = BenchmarkGroup(members=(GroupMember("toy"), GroupMember("gsm8k", num_samples=2)))
        """,
    )
    assert [b.name for b in expand_benchmarks(["toys"], (tmp_path,))] == ["toy", "gsm8k"]
    with pytest.raises(ConfigError, match="listed twice"):
        expand_benchmarks(["toys", "gsm8k"], (tmp_path,))


def test_spec_rejects_unknown_group_and_split():
    with pytest.raises(ValueError, match="Unknown dataset group"):
        BenchmarkSpec(group="maths", eval_type="math", metrics_type="math")
    with pytest.raises(ValueError, match="eval_split"):
        BenchmarkSpec(group="math", eval_type="math", metrics_type="math", eval_split="dev")


def test_docs_list_every_benchmark():
    from nemo_skills.dataset.docs import BEGIN, END, benchmark_table

    text = (Path(__file__).parent.parent / "docs" / "benchmarks.md").read_text()
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == benchmark_table(), "docs/benchmarks.md is stale: run python -m nemo_skills.dataset.docs"
