"""Find benchmarks by name: the packages under `nemo_skills/dataset/` plus extra folders of benchmark packages.

Extra folders come from the `extra_dirs` argument and `NEMO_SKILLS_EXTRA_DATASETS` (paths separated by `:`); each
holds `<name>/__init__.py` (with `BENCHMARK = ...`) and usually `<name>/prepare.py`, like the shipped ones. Dotted
names map to nested folders (`suite.part` is `suite/part/`). A name defined in two places is an error, not a silent
choice. Prepared data lives at `<data_dir>/<name>/<split>.jsonl`; the default data_dir is the folder the benchmark
package was found in (so data prepared from a source checkout sits next to its package), `NEMO_SKILLS_DATA_DIR`
overrides it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from nemo_skills.dataset.spec import BenchmarkGroup, BenchmarkSpec
from nemo_skills.errors import ConfigError
from nemo_skills.utils.registry import did_you_mean

PACKAGE_DIR = Path(__file__).resolve().parent
EXTRA_DATASETS_ENV = "NEMO_SKILLS_EXTRA_DATASETS"
DATA_DIR_ENV = "NEMO_SKILLS_DATA_DIR"
_EXTRA_MODULE_PREFIX = "nemo_skills_extra_datasets"


@dataclass(frozen=True)
class Benchmark:
    name: str
    spec: BenchmarkSpec | BenchmarkGroup
    package_dir: Path  # the folder holding __init__.py (and prepare.py)
    root: Path  # the dataset folder it was found under
    module_name: str

    @property
    def is_group(self) -> bool:
        return isinstance(self.spec, BenchmarkGroup)

    def data_file(self, split: str | None = None, data_dir: str | Path | None = None) -> Path:
        """`<data_dir>/<name as folders>/<split>.jsonl`, with data_dir from the argument, the env var or `root`."""
        if isinstance(self.spec, BenchmarkGroup):
            raise ConfigError(f"{self.name} is a benchmark group; its members have the data files.")
        base = Path(data_dir or os.environ.get(DATA_DIR_ENV) or self.root)
        return base.joinpath(*self.name.split(".")) / f"{split or self.spec.eval_split}.jsonl"

    def prepare_module(self) -> ModuleType:
        if not (self.package_dir / "prepare.py").is_file():
            raise ConfigError(f"Benchmark {self.name} has no prepare.py in {self.package_dir}.")
        return _import(f"{self.module_name}.prepare", self.package_dir / "prepare.py")


def extra_dataset_dirs(extra_dirs: tuple[str | Path, ...] = ()) -> list[Path]:
    from_env = [entry for entry in os.environ.get(EXTRA_DATASETS_ENV, "").split(os.pathsep) if entry]
    dirs = [Path(entry).expanduser().resolve() for entry in (*extra_dirs, *from_env)]
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigError(
                f"Extra datasets folder {folder} does not exist (from --extra_datasets or {EXTRA_DATASETS_ENV})."
            )
    return list(dict.fromkeys(dirs))


def _roots(extra_dirs: tuple[str | Path, ...]) -> list[tuple[Path, str]]:
    roots = [(PACKAGE_DIR, "nemo_skills.dataset")]
    for folder in extra_dataset_dirs(extra_dirs):  # the module prefix is unique per folder
        roots.append((folder, f"{_EXTRA_MODULE_PREFIX}_{hashlib.sha1(str(folder).encode()).hexdigest()[:12]}"))
    return roots


def _import(module_name: str, path: Path) -> ModuleType:
    if module_name in sys.modules:
        return sys.modules[module_name]
    if module_name.startswith("nemo_skills."):
        return importlib.import_module(module_name)
    parent = module_name.rpartition(".")[0]
    if parent and parent not in sys.modules:  # extra folders: make the parent packages importable by name
        parent_path = path.parent.parent if path.name == "__init__.py" else path.parent
        if parent.count(".") == 0:
            package = ModuleType(parent)
            package.__path__ = [str(parent_path)]
            sys.modules[parent] = package
        else:
            _import(parent, parent_path / "__init__.py")
    search = [str(path.parent)] if path.name == "__init__.py" else None
    spec = importlib.util.spec_from_file_location(module_name, path, submodule_search_locations=search)
    if spec is None or spec.loader is None:
        raise ConfigError(f"Cannot import {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _load(name: str, root: Path, module_prefix: str) -> Benchmark | None:
    package_dir = root.joinpath(*name.split("."))
    init = package_dir / "__init__.py"
    if not init.is_file():
        return None
    module_name = f"{module_prefix}.{name}"
    module = _import(module_name, init)
    spec = getattr(module, "BENCHMARK", None)
    if not isinstance(spec, BenchmarkSpec | BenchmarkGroup):
        raise ConfigError(f"{init} must define BENCHMARK = BenchmarkSpec(...) or BenchmarkGroup(...).")
    return Benchmark(name=name, spec=spec, package_dir=package_dir, root=root, module_name=module_name)


def _names_under(root: Path) -> list[str]:
    names = []
    for init in root.rglob("__init__.py"):
        relative = init.parent.relative_to(root)
        if relative.parts and "__pycache__" not in relative.parts and "BENCHMARK" in init.read_text():
            names.append(".".join(relative.parts))
    return sorted(names)


def list_benchmarks(extra_dirs: tuple[str | Path, ...] = ()) -> list[str]:
    names: set[str] = set()
    for root, _ in _roots(extra_dirs):
        names.update(_names_under(root))
    return sorted(names)


def get_benchmark(name: str, extra_dirs: tuple[str | Path, ...] = ()) -> Benchmark:
    found = [b for root, prefix in _roots(extra_dirs) if (b := _load(name, root, prefix)) is not None]
    if not found:
        known = list_benchmarks(extra_dirs)
        raise ConfigError(
            f"Unknown benchmark {name!r}.{did_you_mean(name, known)} Known: {', '.join(known)}. Add your own with "
            f"--extra_datasets or {EXTRA_DATASETS_ENV}."
        )
    if len(found) > 1:
        places = " and ".join(str(b.package_dir) for b in found)
        raise ConfigError(f"Benchmark {name!r} is defined twice ({places}); rename one of them.")
    return found[0]


def expand_benchmarks(names: list[str], extra_dirs: tuple[str | Path, ...] = ()) -> list[Benchmark]:
    """Groups become their members (in order), duplicates are an error."""
    result: list[Benchmark] = []
    for name in names:
        benchmark = get_benchmark(name, extra_dirs)
        if isinstance(benchmark.spec, BenchmarkGroup):
            result.extend(get_benchmark(member.name, extra_dirs) for member in benchmark.spec.members)
        else:
            result.append(benchmark)
    seen: set[str] = set()
    for benchmark in result:
        if benchmark.name in seen:
            raise ConfigError(f"Benchmark {benchmark.name} is listed twice (directly or through a group).")
        seen.add(benchmark.name)
    return result
