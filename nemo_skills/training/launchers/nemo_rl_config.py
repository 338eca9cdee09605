"""NeMo-RL's YAML configs, composed as NeMo-RL composes them, and overrides checked against them.

NeMo-RL (`nemo_rl.utils.config`) loads a YAML file whose optional top-level `defaults:` names one parent file or a
list of them (relative to the including file, or absolute). Parents are loaded first, each with its own defaults,
merged in order, then the file itself is merged on top; a mapping marked `_override_: true` replaces the inherited
mapping instead of merging into it. Command-line overrides are then applied with Hydra's override parser to the
struct-mode config. We do the same, so a rendered command that passes here is one NeMo-RL accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.training.launchers.schema import KeyIndex, check_override, first_line, parse_overrides

# Keys NeMo-RL's typed config (nemo_rl.data.ResponseDatasetConfig / DataConfig) accepts although its example YAMLs
# leave them out: the launcher adds them with `+key=value`, users may set them with `++key=value`.
_DATASET_KEYS = (
    "dataset_name",
    "data_path",
    "input_key",
    "output_key",
    "subset",
    "split",
    "prompt_file",
    "system_prompt_file",
    "env_name",
    "processor",
    "split_validation_size",
    "seed",
)
OPTIONAL_KEYS = frozenset(f"data.{part}.{key}" for part in ("train", "validation", "default") for key in _DATASET_KEYS)


def load_nemo_rl_config(path: str | Path) -> Any:
    """The composed config (an OmegaConf DictConfig, interpolations left unresolved) of a NeMo-RL YAML file."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"NeMo-RL config {path} is not on this machine; the launcher reads it to check every override before "
            "submitting. Check out NeMo-RL (the commit your image uses) and pass --config PATH or --nemo_rl_dir DIR."
        )
    try:
        config = OmegaConf.load(path)
    except Exception as error:  # yaml or OmegaConf errors
        raise ConfigError(f"Cannot read NeMo-RL config {path}: {first_line(error)}") from None
    if not isinstance(config, DictConfig):
        raise ConfigError(f"NeMo-RL config {path} must be a mapping at the top level.")
    if "defaults" not in config:
        return config
    parents = config.pop("defaults")
    names = [str(p) for p in parents] if isinstance(parents, ListConfig) else [str(parents)]
    merged = OmegaConf.create({})
    for name in names:
        parent = Path(name) if name.startswith("/") else path.parent / name
        merged = _merge(merged, load_nemo_rl_config(parent))
    return _merge(merged, config)


def _merge(base: Any, child: Any) -> Any:
    """OmegaConf merge, except that a child mapping with `_override_: true` replaces the base mapping."""
    from omegaconf import DictConfig, OmegaConf

    for key in list(child.keys()):
        value = child[key]
        if isinstance(value, DictConfig) and value.get("_override_", False):
            value.pop("_override_")
            if key in base:
                base.pop(key)
    return OmegaConf.merge(base, child)


def check_nemo_rl_overrides(config_path: str | Path, launcher: Sequence[str], user: Sequence[str]) -> Any:
    """Check the launcher's overrides, then the user's, in order, and apply each as NeMo-RL would; returns the
    resulting config. Raises ConfigError at the first key the config does not have (with the nearest keys)."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from omegaconf import OmegaConf

    config = load_nemo_rl_config(config_path)
    OmegaConf.set_struct(config, True)
    schema = f"NeMo-RL config {Path(config_path).name}"
    overrides = parse_overrides(launcher, "launcher") + parse_overrides(user, "user")
    for override in overrides:
        index = KeyIndex(OmegaConf.to_container(config, resolve=False))  # type: ignore[arg-type]
        check_override(index, override, schema, OPTIONAL_KEYS)
        try:
            ConfigLoaderImpl._apply_overrides_to_config(overrides=[override.parsed], cfg=config)
        except Exception as error:  # hydra and OmegaConf raise several kinds; all mean "NeMo-RL would refuse it"
            raise ConfigError(f"NeMo-RL would refuse override {override.text!r}: {first_line(error)}") from None
    return config
