"""The tool-call verification reward: how well a model's tool call(s) match the expected one(s), in [0, 1].

A tool call is `{"name": ..., "arguments": {...}}` where `arguments` may also be a JSON string (OpenAI's form),
or OpenAI's `{"type": "function", "function": {"name": ..., "arguments": "..."}}`; `parameters` is read as a
synonym of `arguments` (Llama-style JSON calls). A model's calls come as such dicts, a list of them, an OpenAI
assistant message (`{"tool_calls": [...]}`), or text, parsed in this order:
1. every `<tool_call>...</tool_call>` block (Hermes/Qwen chat templates), each holding one JSON call;
2. otherwise the whole text (or, failing that, the last fenced ``` block in it) as JSON: one call, a list of
   calls, or an assistant message with `tool_calls`.
Text before a closing `</think>` is ignored. Text with no parseable call scores 0.

Scoring one call against one expected call: 0 if the names differ (exact, after stripping spaces); otherwise
the share of expected arguments whose values match (1.0 when none are expected), minus `extra_argument_penalty`
for each argument the model added (0 by default: extra arguments cost nothing), floored at 0. Arguments that
are not a valid JSON object score 0. Values match when:
- numbers are equal by value (`5 == 5.0`; within a relative 1e-9), but a number never matches a string (`5`
  vs `"5"`) and booleans match only booleans;
- strings are equal after stripping leading/trailing whitespace; case matters;
- lists match element by element (same length, same order); objects match key by key (same keys); null matches
  null.
Several calls: the best one-to-one pairing of predicted and expected calls, its summed score divided by the
larger of the two counts (a missing or an extra call costs its share).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Optional

from nemo_skills.errors import InputError

_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_MAX_EXACT_PAIRING = 12  # expected calls; beyond this the pairing is greedy


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: Optional[dict[str, Any]]  # None: the arguments were not a JSON object


def _as_call(value: Any) -> Optional[ToolCall]:
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):
        value = value["function"]
    name = value.get("name")
    if not isinstance(name, str):
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            arguments = None
    return ToolCall(name.strip(), arguments if isinstance(arguments, dict) else None)


def _calls_from_value(value: Any) -> Optional[list[ToolCall]]:
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    calls = [_as_call(item) for item in items]
    return None if any(call is None for call in calls) else calls  # type: ignore[return-value]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def parse_tool_calls(response: Any) -> list[ToolCall]:
    """The tool calls in a model response (see the module docstring); [] when there are none."""
    if not isinstance(response, str):
        return _calls_from_value(response) or []
    text = response.rsplit("</think>", 1)[-1]
    blocks = _TOOL_CALL_BLOCK.findall(text)
    if blocks:
        calls = [_as_call(_json(block.strip())) for block in blocks]
        return [call for call in calls if call is not None]
    candidates = [text.strip()] + [block.strip() for block in reversed(_FENCE.findall(text))][:1]
    for candidate in candidates:
        value = _json(candidate)
        if value is not None:
            return _calls_from_value(value) or []
    return []


def expected_tool_calls(expected: Any) -> list[ToolCall]:
    """The expected call(s): a dict, a list, or their JSON text; anything else is a data error."""
    value = _json(expected) if isinstance(expected, str) else expected
    calls = _calls_from_value(value) if value is not None else None
    if not calls or any(call.arguments is None for call in calls):
        raise InputError(f"Expected tool call(s) must be {{name, arguments}} objects; got {str(expected)[:120]!r}.")
    return calls


def values_match(expected: Any, predicted: Any) -> bool:
    if isinstance(expected, bool) or isinstance(predicted, bool):
        return isinstance(expected, bool) and isinstance(predicted, bool) and expected == predicted
    if isinstance(expected, int | float) or isinstance(predicted, int | float):
        both = isinstance(expected, int | float) and isinstance(predicted, int | float)
        return both and math.isclose(expected, predicted, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(expected, str) or isinstance(predicted, str):
        return isinstance(expected, str) and isinstance(predicted, str) and expected.strip() == predicted.strip()
    if isinstance(expected, list) and isinstance(predicted, list):
        return len(expected) == len(predicted) and all(map(values_match, expected, predicted))
    if isinstance(expected, dict) and isinstance(predicted, dict):
        return expected.keys() == predicted.keys() and all(values_match(v, predicted[k]) for k, v in expected.items())
    return expected is None and predicted is None


def call_score(predicted: ToolCall, expected: ToolCall, extra_argument_penalty: float = 0.0) -> float:
    if predicted.name != expected.name or predicted.arguments is None:
        return 0.0
    wanted = expected.arguments or {}
    given = predicted.arguments
    matched = sum(1 for key, value in wanted.items() if key in given and values_match(value, given[key]))
    share = matched / len(wanted) if wanted else 1.0
    extra = len(set(given) - set(wanted))
    return max(0.0, share - extra_argument_penalty * extra)


def _best_pairing(scores: list[list[float]]) -> float:
    """The largest sum of scores[i][j] over one-to-one pairings of predicted i and expected j."""
    if len(scores[0]) > _MAX_EXACT_PAIRING:
        total, used = 0.0, set()
        for row in scores:
            options = [(score, j) for j, score in enumerate(row) if j not in used and score > 0]
            if options:
                score, j = max(options)
                total, used = total + score, used | {j}
        return total
    best = {0: 0.0}  # set of expected calls used (bit mask) -> best sum so far
    for row in scores:
        following = dict(best)
        for mask, total in best.items():
            for j, score in enumerate(row):
                if score > 0 and not mask >> j & 1 and total + score > following.get(mask | 1 << j, -1.0):
                    following[mask | 1 << j] = total + score
        best = following
    return max(best.values())


def tool_call_reward(response: Any, expected: Any, *, extra_argument_penalty: float = 0.0) -> float:
    """Score in [0, 1] of the tool call(s) in `response` against `expected` (see the module docstring)."""
    wanted = expected_tool_calls(expected)
    given = parse_tool_calls(response)
    if not given:
        return 0.0
    scores = [[call_score(call, target, extra_argument_penalty) for target in wanted] for call in given]
    return _best_pairing(scores) / max(len(wanted), len(given))
