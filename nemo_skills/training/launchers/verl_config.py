"""veRL's trainer config (`verl/trainer/config/ppo_trainer.yaml` and the files its Hydra `defaults` compose), found
without installing veRL's dependencies, and overrides checked against it with Hydra's compose API, offline.

Where the config folder comes from, first match wins:
1. `--verl_config_dir DIR` (a folder holding `ppo_trainer.yaml`);
2. an importable `verl` package (located, not imported);
3. the cache `$NEMO_SKILLS_CACHE/verl-<version>/verl/trainer/config` (default `~/.cache/nemo_skills`), filled by
   `python -m nemo_skills.training.launchers.verl_config --fetch` (`pip download verl==<version> --no-deps`).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.training.launchers.schema import KeyIndex, check_all, first_line, parse_overrides

VERL_VERSION = "0.9.1"  # the release whose trainer config the launcher is checked against (and the images pin)
CONFIG_SUBDIR = Path("verl") / "trainer" / "config"
DEFAULT_CONFIG_NAME = "ppo_trainer"


def cache_dir(version: str = VERL_VERSION) -> Path:
    base = Path(os.environ.get("NEMO_SKILLS_CACHE") or Path.home() / ".cache" / "nemo_skills")
    return base / f"verl-{version}"


def find_config_dir(explicit: str | None = None, version: str = VERL_VERSION) -> Path:
    """The folder of veRL's trainer configs (see the module docstring); ConfigError with the fix when none is here."""
    if explicit:
        folder = Path(explicit).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"--verl_config_dir {explicit} is not a folder on this machine.")
        return folder
    spec = importlib.util.find_spec("verl")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folder = Path(location) / "trainer" / "config"
            if (folder / f"{DEFAULT_CONFIG_NAME}.yaml").is_file():
                return folder
    cached = cache_dir(version) / CONFIG_SUBDIR
    if (cached / f"{DEFAULT_CONFIG_NAME}.yaml").is_file():
        return cached
    raise ConfigError(
        "veRL's trainer config is not on this machine; the launcher reads it to check every override before "
        "submitting. Run `python -m nemo_skills.training.launchers.verl_config --fetch` (downloads the "
        f"verl=={version} wheel without its dependencies, ~2 MB), or pass --verl_config_dir, or install verl."
    )


def fetch(version: str = VERL_VERSION) -> Path:
    """Download the verl wheel (no dependencies) and keep its trainer configs in the cache; returns their folder."""
    target = cache_dir(version)
    folder = target / CONFIG_SUBDIR
    if (folder / f"{DEFAULT_CONFIG_NAME}.yaml").is_file():
        return folder
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        command = [sys.executable, "-m", "pip", "download", f"verl=={version}", "--no-deps", "--only-binary=:all:"]
        done = subprocess.run([*command, "-d", tmp, "-q"], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("verl-*.whl"))
        if done.returncode != 0 or not wheels:
            raise ConfigError(f"Could not download verl=={version}: {done.stderr.strip()[-500:]}")
        staging = Path(tmp) / "extracted"
        with zipfile.ZipFile(wheels[0]) as wheel:
            members = [name for name in wheel.namelist() if name.startswith(CONFIG_SUBDIR.as_posix() + "/")]
            wheel.extractall(staging, members)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # atomic: a half-extracted cache is never seen
    return folder


@functools.lru_cache(maxsize=16)
def _base_config(config_dir: str, config_name: str, choices: tuple[str, ...]) -> Any:
    """The composed config before key overrides, with the config-group choices (`model_engine=megatron`) applied:
    they decide which files are composed, so which keys exist."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(compose(config_dir, config_name, choices), resolve=False)


def compose(config_dir: str, config_name: str, overrides: Sequence[str]) -> Any:
    """Hydra's compose, as `@hydra.main` in `verl.trainer.main_ppo` would do it (no network, no veRL import)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base=None):
        return hydra_compose(config_name=config_name, overrides=list(overrides))


def check_verl_overrides(
    config_dir: str | Path, launcher: Sequence[str], user: Sequence[str], config_name: str = DEFAULT_CONFIG_NAME
) -> Any:
    """Check every override key (the launcher's, then the user's) against veRL's composed config, then compose
    with all of them as veRL will; returns the composed config."""
    config_dir = str(config_dir)
    if not (Path(config_dir) / f"{config_name}.yaml").is_file():
        raise ConfigError(f"veRL config {config_name}.yaml is not in {config_dir}.")
    groups = [p.name for p in Path(config_dir).iterdir() if p.is_dir()]
    overrides = parse_overrides(launcher, "launcher", groups) + parse_overrides(user, "user", groups)
    choices = tuple(o.text for o in overrides if o.kind == "group")
    try:
        tree = _base_config(config_dir, config_name, choices)
    except Exception as error:
        raise ConfigError(f"veRL would refuse {' '.join(choices) or 'its config'}: {first_line(error)}") from None
    check_all(KeyIndex(tree), overrides, f"veRL config {config_name}")
    try:
        return compose(config_dir, config_name, [o.text for o in overrides])
    except Exception as error:  # ConfigCompositionException, MissingConfigException, OmegaConf errors
        raise ConfigError(f"veRL would refuse these overrides: {first_line(error)}") from None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fetch", action="store_true", help="Download veRL's trainer configs into the cache.")
    parser.add_argument("--version", default=VERL_VERSION)
    args = parser.parse_args(argv)
    if args.fetch:
        print(fetch(args.version))
    else:
        print(find_config_dir(version=args.version))


if __name__ == "__main__":
    main()
