"""Rewards: math correctness and tool-call verification, as functions, veRL reward functions and a NeMo-RL env."""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
from pathlib import Path

import pytest

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.training.rewards import (
    ToolCall,
    math_reward,
    nemo_rl_env,
    parse_tool_calls,
    tool_call_reward,
    verl_reward,
)


@pytest.mark.parametrize(
    ("generation", "expected", "reward"),
    [
        ("So the answer is \\boxed{204}.", "204", 1.0),
        ("So the answer is \\boxed{204.0}.", "204", 1.0),
        ("\\boxed{\\frac{1}{2}}", "0.5", 1.0),
        ("\\boxed{x = 3}", "3", 1.0),
        ("First \\boxed{3}, no wait: \\boxed{4}", "3", 0.0),  # the last box counts
        ("\\boxed{205}", "204", 0.0),
        ("The answer is 204.", "204", 0.0),  # no boxed answer
        ("\\boxed{20", "20", 0.0),  # truncated box
        ("<think>maybe \\boxed{2}</think>I am not sure.", "2", 0.0),  # the box is in the thinking
        ("<think>so \\boxed{2}", "2", 0.0),  # thinking never ended
        ("<think>easy</think>\\boxed{2}", "2", 1.0),
        ("\\boxed{2}", 2, 1.0),  # a numeric expected answer
        ("\\boxed{2}", None, 0.0),
        ("", "2", 0.0),
    ],
)
def test_math_reward(generation, expected, reward):
    assert math_reward(generation, expected) == reward


def test_math_reward_keeps_thinking_when_asked():
    assert math_reward("<think>\\boxed{2}</think>", "2", remove_thinking=False) == 1.0


def test_math_reward_is_zero_on_timeouts_and_errors(monkeypatch):
    from math_verify.errors import TimeoutException

    from nemo_skills.evaluation import math_grader

    def times_out(*args, **kwargs):
        raise TimeoutException("too slow")

    monkeypatch.setattr(math_grader, "math_equal", times_out)
    assert math_reward("\\boxed{2}", "2") == 0.0
    monkeypatch.setattr(math_grader, "math_equal", lambda *a, **k: 1 / 0)
    assert math_reward("\\boxed{2}", "2") == 0.0


WEATHER = {"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "units": "metric"}}


@pytest.mark.parametrize(
    ("response", "score"),
    [
        (WEATHER, 1.0),
        ({"name": "get_time", "arguments": WEATHER["arguments"]}, 0.0),  # wrong tool
        ({"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}, 2 / 3),  # one argument missing
        ({"name": "get_weather", "arguments": {"city": "Paris", "days": 4, "units": "metric"}}, 2 / 3),
        ({"name": "get_weather", "arguments": {"city": " Paris ", "days": 3.0, "units": "metric"}}, 1.0),
        ({"name": "get_weather", "arguments": {"city": "paris", "days": "3", "units": "metric"}}, 1 / 3),
        ({"name": "get_weather", "arguments": {**WEATHER["arguments"], "lang": "fr"}}, 1.0),  # extras cost 0
        ({"name": "get_weather", "arguments": json.dumps(WEATHER["arguments"])}, 1.0),  # OpenAI JSON string
        (
            {"type": "function", "function": {"name": "get_weather", "arguments": json.dumps(WEATHER["arguments"])}},
            1.0,
        ),
        ({"name": "get_weather", "parameters": WEATHER["arguments"]}, 1.0),
        ({"name": "get_weather", "arguments": "{not json"}, 0.0),
        ({"tool_calls": [{"function": {"name": "get_weather", "arguments": json.dumps(WEATHER["arguments"])}}]}, 1.0),
    ],
)
def test_tool_call_reward_dicts(response, score):
    assert tool_call_reward(response, WEATHER) == pytest.approx(score)


CALL_TEXT = json.dumps(WEATHER)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        (f"<tool_call>\n{CALL_TEXT}\n</tool_call>", 1.0),
        (CALL_TEXT, 1.0),
        (f"I will call it.\n```json\n{CALL_TEXT}\n```", 1.0),
        (f"<think>maybe get_time?</think><tool_call>{CALL_TEXT}</tool_call>", 1.0),
        (f"<think><tool_call>{CALL_TEXT}</tool_call></think>No tool needed.", 0.0),
        ("The weather in Paris is nice.", 0.0),
        ("<tool_call>{broken</tool_call>", 0.0),
    ],
)
def test_tool_call_reward_text(text, score):
    assert tool_call_reward(text, CALL_TEXT) == score


def test_extra_argument_penalty_and_floor():
    two_extra = {"name": "get_weather", "arguments": {**WEATHER["arguments"], "a": 1, "b": 2}}
    assert tool_call_reward(two_extra, WEATHER, extra_argument_penalty=0.25) == 0.5
    assert tool_call_reward(two_extra, WEATHER, extra_argument_penalty=1.0) == 0.0
    assert tool_call_reward({"name": "ping"}, {"name": "ping", "arguments": {}}) == 1.0


def test_nested_values():
    expected = {"name": "book", "arguments": {"guests": ["Ann", "Bo"], "when": {"day": 2, "late": False}}}
    assert tool_call_reward(expected, expected) == 1.0
    reordered = {"name": "book", "arguments": {"guests": ["Bo", "Ann"], "when": {"day": 2.0, "late": False}}}
    assert tool_call_reward(reordered, expected) == 0.5  # lists keep their order; 2 == 2.0
    assert (
        tool_call_reward(
            {"name": "book", "arguments": {"guests": ["Ann", "Bo"], "when": {"day": 2, "late": 0}}}, expected
        )
        == 0.5
    )  # False is not 0


def test_several_calls_pair_up_in_any_order():
    a = {"name": "a", "arguments": {"x": 1}}
    b = {"name": "b", "arguments": {"y": 2}}
    c = {"name": "c", "arguments": {}}
    assert tool_call_reward([b, a], [a, b]) == 1.0
    assert tool_call_reward([a], [a, b]) == 0.5  # a missing call costs its share
    assert tool_call_reward([a, b, c], [a, b]) == pytest.approx(2 / 3)  # so does an extra one
    assert tool_call_reward([{"name": "a", "arguments": {"x": 2}}, a], [a]) == 0.5
    text = "".join(f"<tool_call>{json.dumps(call)}</tool_call>" for call in (b, a))
    assert parse_tool_calls(text) == [ToolCall("b", {"y": 2}), ToolCall("a", {"x": 1})]
    assert tool_call_reward(text, json.dumps([a, b])) == 1.0


def test_bad_expected_call_is_a_data_error():
    for expected in ("not json", "[]", {"arguments": {}}, {"name": "a", "arguments": "{bad"}):
        with pytest.raises(InputError, match="Expected tool call"):
            tool_call_reward(WEATHER, expected)


def test_verl_signature_and_loading_by_path(caplog):
    for function in (verl_reward.compute_score, verl_reward.compute_tool_call_score):
        parameters = inspect.signature(function).parameters
        assert list(parameters)[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
        assert parameters["extra_info"].default is None
    # veRL imports custom_reward_function.path as a module of its own; the function name defaults to compute_score
    spec = importlib.util.spec_from_file_location("custom_module", Path(verl_reward.__file__))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compute_score("nemo_skills_math", "\\boxed{4}", "4", {"index": 0}) == 1.0
    assert module.compute_score("nemo_skills_math", "\\boxed{5}", "4") == 0.0
    assert module.compute_score("x", "\\boxed{4}", "4", None, timeout_s=1.0) == 1.0  # reward_kwargs pass through
    with caplog.at_level(logging.WARNING):
        assert module.compute_score("x", "\\boxed{4}", "4", None, made_up=1) == 1.0
    assert "ignoring unknown option 'made_up'" in caplog.text
    solution = f"<tool_call>{CALL_TEXT}</tool_call>"
    assert module.compute_tool_call_score("tools", solution, CALL_TEXT) == 1.0
    partial = {"name": "get_weather", "arguments": {"city": "Paris", "x": 1}}
    assert module.compute_tool_call_score("tools", json.dumps(partial), CALL_TEXT, extra_argument_penalty=0.5) == 0


# NeMo-RL's EnvironmentReturn fields, in order (nemo_rl/environments/interfaces.py)
NEMO_RL_RETURN_FIELDS = ("observations", "metadata", "next_stop_strings", "rewards", "terminateds", "answers")


def test_nemo_rl_environment_math():
    import torch

    env = nemo_rl_env.RewardEnvironment({"reward": "math", "num_workers": 8, "timeout_s": 5})
    conversations = [
        [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "It is \\boxed{2}"}],
        [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "\\boxed{5}"}],
        [
            {"role": "user", "content": "3+3?"},
            {"role": "assistant", "content": "\\boxed{"},
            {"role": "assistant", "content": "6}"},
        ],  # assistant turns are joined, as NeMo-RL's math env does
    ]
    metadata = [{"ground_truth": "2"}, {"ground_truth": "4"}, {"ground_truth": "6"}]
    result = env.step(conversations, metadata)
    assert result._fields == NEMO_RL_RETURN_FIELDS
    assert torch.equal(result.rewards, torch.tensor([1.0, 0.0, 1.0]))
    assert torch.equal(result.terminateds, torch.ones(3))
    assert result.metadata is metadata and result.next_stop_strings == [None] * 3
    assert result.observations[0] == {"role": "environment", "content": "Environment: reward 1"}
    batch = {"rewards": result.rewards, "is_end": torch.tensor([1.0, 1.0, 0.0])}
    batch, metrics = env.global_post_process_and_metrics(batch)
    assert torch.equal(batch["rewards"], torch.tensor([1.0, 0.0, 0.0]))
    assert metrics == pytest.approx({"accuracy": 1 / 3, "fraction_of_samples_properly_ended": 2 / 3})


def test_nemo_rl_environment_tool_calls_and_errors():
    env = nemo_rl_env.RewardEnvironment({"reward": "tool_call", "extra_argument_penalty": 0.1})
    answer = {"name": "get_weather", "arguments": {"city": "Paris", "lang": "fr"}}
    result = env.step([[{"role": "assistant", "content": json.dumps(answer)}]], [{"ground_truth": CALL_TEXT}])
    assert result.rewards.tolist() == [pytest.approx(1 / 3 - 0.1)]  # city matches; `lang` is extra
    with pytest.raises(InputError, match="no `ground_truth`"):
        env.step([[{"role": "assistant", "content": "x"}]], [{}])
    with pytest.raises(ConfigError, match="Unknown reward 'code'"):
        nemo_rl_env.RewardEnvironment({"reward": "code"})
    with pytest.raises(ConfigError, match="Unknown option.*timeout"):
        nemo_rl_env.RewardEnvironment({"reward": "tool_call", "timeout": 3})


def test_remote_environment_is_a_ray_actor_class():
    pytest.importorskip("ray")
    actor = nemo_rl_env.RemoteRewardEnvironment
    assert hasattr(actor, "remote") and hasattr(actor, "options")
    assert nemo_rl_env.ENV_FQN.rsplit(".", 1) == [nemo_rl_env.__name__, "RemoteRewardEnvironment"]
