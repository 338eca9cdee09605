"""`++key=value` overrides on GenerateConfig, and the lazy plugin registry."""

from __future__ import annotations

import dataclasses
import importlib
import sys
import textwrap

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.inference.generate import GenerateConfig
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.utils.overrides import build_config, config_keys, describe_config, validate_overrides
from nemo_skills.utils.registry import Registry, did_you_mean

# ---------------------------------------------------------------- build_config


def test_no_overrides_gives_the_defaults():
    assert build_config(GenerateConfig, []) == GenerateConfig()


def test_top_level_and_nested_keys():
    cfg = build_config(
        GenerateConfig,
        [
            "++input_file=data/in.jsonl",
            "++server.server_type=sglang",
            "++server.port=8001",
            "++inference.temperature=0.7",
            "++inference.tokens_to_generate=2048",
            "++max_samples=10",
            "++skip_filled=false",
            "+random_seed=3",
            "inference.endpoint_type=text",
        ],
    )
    assert isinstance(cfg, GenerateConfig)
    assert isinstance(cfg.server, ServerConfig) and isinstance(cfg.inference, InferenceConfig)
    assert cfg.input_file == "data/in.jsonl"
    assert (cfg.server.server_type, cfg.server.port, cfg.server.host) == ("sglang", 8001, "127.0.0.1")
    assert cfg.inference.temperature == 0.7 and cfg.inference.top_p == 0.95
    assert cfg.inference.tokens_to_generate == 2048
    assert cfg.inference.endpoint_type == "text"
    assert (cfg.max_samples, cfg.skip_filled, cfg.random_seed) == (10, False, 3)


def test_integer_for_a_float_field_is_converted():
    cfg = build_config(GenerateConfig, ["++inference.temperature=1"])
    assert cfg.inference.temperature == 1.0 and isinstance(cfg.inference.temperature, float)


def test_optional_field_back_to_null():
    cfg = build_config(GenerateConfig, ["++inference.tokens_to_generate=5", "++inference.tokens_to_generate=null"])
    assert cfg.inference.tokens_to_generate is None


def test_list_values():
    cfg = build_config(GenerateConfig, ['++inference.stop_phrases=["a","b c"]'])
    assert cfg.inference.stop_phrases == ["a", "b c"]
    cfg = build_config(GenerateConfig, ["++inference.stop_phrases=[]"])
    assert cfg.inference.stop_phrases == []


def test_values_with_spaces():
    cfg = build_config(GenerateConfig, ["++system_message=You are a helpful assistant"])
    assert cfg.system_message == "You are a helpful assistant"
    cfg = build_config(GenerateConfig, ["++prompt_suffix='  keep  spaces '"])
    assert cfg.prompt_suffix == "  keep  spaces "


def test_dict_sub_keys():
    cfg = build_config(
        GenerateConfig,
        [
            "++inference.extra_body.top_k=20",
            "++inference.extra_body.chat_template_kwargs={enable_thinking:false}",
            "++chat_template_kwargs.reasoning_effort=high",
        ],
    )
    assert cfg.inference.extra_body == {"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}}
    assert cfg.chat_template_kwargs == {"reasoning_effort": "high"}


def test_whole_dict_value():
    cfg = build_config(GenerateConfig, ["++inference.extra_body={guided_choice:[yes,no],n:1}"])
    assert cfg.inference.extra_body == {"guided_choice": ["yes", "no"], "n": 1}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("++server.port=abc", "Invalid override ++server.port=abc: Value 'abc'"),
        ("++inference.temperature=hot", "Invalid override ++inference.temperature=hot"),
        ("++skip_filled=maybe", "Invalid override ++skip_filled=maybe"),
        ("++max_samples=1.5", "Invalid override ++max_samples=1.5"),
        ("++server=5", "Invalid override ++server=5"),
    ],
)
def test_type_errors(override, expected):
    with pytest.raises(ConfigError) as error:
        build_config(GenerateConfig, ["++input_file=a.jsonl", override])
    assert str(error.value).startswith(expected)


def test_unparseable_override():
    with pytest.raises(ConfigError, match="Cannot parse overrides"):
        build_config(GenerateConfig, ["++inference.stop_phrases=[a,"])


def test_override_without_value():
    with pytest.raises(ConfigError, match="must look like"):
        build_config(GenerateConfig, ["++input_file"])


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [
        ("++input_fiel=x", "'input_file'"),
        ("++server.prot=1", "'server.port'"),
        ("++inference.temprature=0.5", "'inference.temperature'"),
        ("++inference.stop_phrase=[a]", "'inference.stop_phrases'"),
    ],
)
def test_unknown_key_lists_nearest_valid_keys(override, suggestion):
    with pytest.raises(ConfigError) as error:
        build_config(GenerateConfig, [override])
    message = str(error.value)
    assert message.startswith(f"Unknown key {override.split('=')[0]} for GenerateConfig.")
    assert "Did you mean" in message and suggestion in message


def test_unknown_key_without_near_match():
    with pytest.raises(ConfigError, match="See --help for valid keys"):
        validate_overrides(GenerateConfig, ["++zzqqxx=1"])


def test_unknown_key_under_a_non_dict_field():
    with pytest.raises(ConfigError, match="Unknown key \\+\\+server.port.x"):
        validate_overrides(GenerateConfig, ["++server.port.x=1"])
    with pytest.raises(ConfigError, match="Unknown key \\+\\+input_file.x"):
        validate_overrides(GenerateConfig, ["++input_file.x=1"])


def test_config_keys():
    keys = config_keys(GenerateConfig)
    assert {"input_file", "server", "server.port", "inference.extra_body", "inference.stop_phrases"} <= set(keys)
    assert keys["server.port"] is int
    assert "inference.extra_body.top_k" not in keys


def test_describe_config_lists_every_key_with_its_default():
    text = describe_config(GenerateConfig)
    lines = text.splitlines()
    assert lines[0] == "Keys (with defaults):"
    for line in [
        "  ++input_file=''",
        "  ++server.port=5000",
        "  ++server.server_type='vllm'",
        "  ++inference.temperature=0.0",
        "  ++inference.stop_phrases=[]",
        "  ++inference.extra_body={}",
        "  ++inference.tokens_to_generate=None",
        "  ++chat_template_kwargs={}",
        "  ++skip_filled=True",
    ]:
        assert line in lines
    assert "  ++server={" not in text  # nested configs are flattened
    assert len(lines) - 1 == sum(
        1 for key, kind in config_keys(GenerateConfig).items() if not dataclasses.is_dataclass(kind)
    )


# ---------------------------------------------------------------- registry


def test_duplicate_registration_is_an_error():
    registry: Registry[type] = Registry("widget", [])

    @registry.register("a")
    class A:
        pass

    registry.register("a")(A)  # the same object again (a module imported twice) is fine
    with pytest.raises(ConfigError, match="widget 'a' is registered twice"):

        @registry.register("a")
        class B:
            pass

    assert registry.get("a") is A


def test_unknown_name_did_you_mean():
    registry: Registry[int] = Registry("metric", [])
    for name, value in [("accuracy", 1), ("pass_at_k", 2), ("majority", 3)]:
        registry.register(name)(value)
    with pytest.raises(ConfigError) as error:
        registry.get("acuracy")
    assert str(error.value) == (
        "Unknown metric 'acuracy'. Did you mean 'accuracy'? Valid: accuracy, majority, pass_at_k."
    )
    with pytest.raises(ConfigError) as error:
        registry.get("zzz")
    assert "Did you mean" not in str(error.value)
    assert "accuracy" in registry and "zzz" not in registry


def test_did_you_mean():
    assert did_you_mean("vlm", ["vllm", "sglang", "gemini"]) == " Did you mean 'vllm'?"
    assert did_you_mean("xyz", ["vllm"]) == ""


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    """A registry module and a plugin package on sys.path; removed from sys.modules afterwards."""
    names = ("lazy_widget_registry", "lazy_widget_plugins", "lazy_widget_plugins.alpha", "lazy_widget_plugins.beta")
    (tmp_path / "lazy_widget_registry.py").write_text(
        textwrap.dedent("""
        from nemo_skills.utils.registry import Registry
        WIDGETS = Registry("widget", ["lazy_widget_plugins"])
    """)
    )
    package = tmp_path / "lazy_widget_plugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("alpha", "beta"):
        (package / f"{name}.py").write_text(
            textwrap.dedent(f"""
            from lazy_widget_registry import WIDGETS

            @WIDGETS.register("{name}")
            class Widget:
                pass
        """)
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield
    for name in names:
        sys.modules.pop(name, None)


def test_registry_imports_its_package_only_on_first_lookup(plugin_package):
    registry_module = importlib.import_module("lazy_widget_registry")
    assert "lazy_widget_plugins" not in sys.modules
    assert "lazy_widget_plugins.alpha" not in sys.modules
    widget = registry_module.WIDGETS.get("beta")
    assert widget.__module__ == "lazy_widget_plugins.beta"
    assert "lazy_widget_plugins.alpha" in sys.modules
    assert registry_module.WIDGETS.names() == ["alpha", "beta"]


def test_registry_lookup_of_unknown_name_also_loads(plugin_package):
    registry_module = importlib.import_module("lazy_widget_registry")
    with pytest.raises(ConfigError, match="Did you mean 'alpha'.*Valid: alpha, beta"):
        registry_module.WIDGETS.get("alpah")


def test_unquoted_comma_is_refused_not_turned_into_a_sweep():
    from nemo_skills.inference.generate import GenerateConfig

    with pytest.raises(ConfigError, match="unquoted comma"):
        build_config(GenerateConfig, ["++system_message=Be terse, please."])
    cfg = build_config(GenerateConfig, ["++system_message='Be terse, please.'"])
    assert cfg.system_message == "Be terse, please."
