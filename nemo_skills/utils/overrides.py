"""`++key=value` overrides: check keys against a config dataclass before anything runs, and apply them."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from nemo_skills.errors import ConfigError
from nemo_skills.utils.registry import did_you_mean

T = TypeVar("T")


def config_keys(config_cls: type, prefix: str = "") -> dict[str, Any]:
    """Every dotted key of a (nested) config dataclass, mapped to its type; dict-typed fields accept any sub-key."""
    keys: dict[str, Any] = {}
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        key = prefix + field.name
        field_type = hints[field.name]
        keys[key] = field_type
        if dataclasses.is_dataclass(field_type):
            keys.update(config_keys(field_type, key + "."))
    return keys


def split_override(override: str) -> tuple[str, str]:
    body = override.lstrip("+~")
    if "=" not in body:
        raise ConfigError(f"Override {override!r} must look like ++key=value.")
    key, value = body.split("=", 1)
    return key.strip(), value


def validate_overrides(config_cls: type, overrides: Sequence[str]) -> None:
    """Fail at once, naming the nearest valid keys, on a `++key` the config does not have."""
    keys = config_keys(config_cls)
    for override in overrides:
        key, _ = split_override(override)
        if key in keys or _under_dict_field(key, keys):
            continue
        hint = did_you_mean(key, keys)
        raise ConfigError(f"Unknown key ++{key} for {config_cls.__name__}.{hint or ' See --help for valid keys.'}")


def _under_dict_field(key: str, keys: dict[str, Any]) -> bool:
    parts = key.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if parent in keys and typing.get_origin(keys[parent]) in (dict, typing.Dict):  # noqa: UP006
            return True
    return False


def build_config(config_cls: type[T], overrides: Sequence[str]) -> T:
    """Apply Hydra-syntax overrides to a config dataclass with OmegaConf type checking; returns the dataclass."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    validate_overrides(config_cls, overrides)
    config = OmegaConf.structured(config_cls)
    parser = OverridesParser.create()
    try:
        for parsed in parser.parse_overrides(list(overrides)):
            if parsed.is_sweep_override():
                raise ConfigError(
                    f"Override {parsed.input_line} has an unquoted comma, which means a sweep; quote the value: "
                    f"++{parsed.key_or_group}='...'"
                )
            try:
                OmegaConf.update(config, parsed.key_or_group, parsed.value(), merge=True)
            except OmegaConfBaseException as error:  # name the culprit: OmegaConf's first line does not
                raise ConfigError(f"Invalid override {parsed.input_line}: {str(error).splitlines()[0]}") from None
        return OmegaConf.to_object(config)  # type: ignore[return-value]
    except OmegaConfBaseException as error:
        raise ConfigError(f"Invalid override: {str(error).splitlines()[0]}") from None
    except Exception as error:  # hydra's grammar errors
        if type(error).__name__ == "OverrideParseException":
            raise ConfigError(f"Cannot parse overrides {list(overrides)}: {str(error).splitlines()[0]}") from None
        raise


def config_from_dict(config_cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a config dataclass (nested ones included) from its plain-dict form, e.g. a run record's `config`."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        merged = OmegaConf.merge(OmegaConf.structured(config_cls), data)
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as error:
        first_line = str(error).splitlines()[0]
        raise ConfigError(f"Cannot read a {config_cls.__name__} from {data!r:.200}: {first_line}") from None


def hydra_value(value: Any) -> str:
    """A Python value written in the override grammar, so `++key=<this>` reads back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{hydra_value(item)}" for key, item in value.items()) + "}"
    # Hydra's quoted strings: backslashes are literal except in runs before a quote or the closing quote, which
    # are doubled; `${` starts an interpolation unless escaped
    text = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, str(value))
    escaped = text.replace("'", "\\'").replace("${", "\\${")
    return f"'{escaped}'"


def describe_config(config_cls: type) -> str:
    """Every `++key` with its default, for --help."""
    from omegaconf import OmegaConf

    flat: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict) and value:
                walk(value, f"{prefix}{key}.")
            else:
                flat.append(f"  ++{prefix}{key}={value!r}")

    walk(OmegaConf.to_container(OmegaConf.structured(config_cls)), "")
    return "Keys (with defaults):\n" + "\n".join(flat)
