"""majority@k: the score of the answer most of the first k samples agree on.

Definitions (deterministic, independent of anything but the first k samples and their order):

* A sample whose answer is missing (`None`, or empty after stripping whitespace) never votes.
* Answers vote by equivalence class. The default equivalence strips whitespace and compares decimal numbers by
  value, so `"204"`, `"204.0"`, `" 204 "` and `"2.04e2"` are one answer; anything else is compared as the stripped
  string. A caller-supplied `same(a, b)` (e.g. symbolic equivalence) replaces it; classes are then built greedily in
  sample order, each answer joining the first class whose first member it is `same` as.
* A class's score is its members' common score when they all agree, else the mean of its members' scores (partial
  credit, or an evaluator that graded equivalent answers differently).
* The winning class is the one with the most votes. When several classes tie for the most votes, the result is the
  mean of the tied classes' scores: the expected score of picking one of them uniformly at random.
* With no valid answer among the first k samples the score is 0 and the vote counts as "no answer".

The reference voted by the raw (answer, score) pair, so equivalent spellings of one answer split their votes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SameAnswer = Callable[[str, str], bool]

_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_missing_answer(answer: str | None) -> bool:
    """True for an answer that must not vote: `None` or only whitespace."""
    return answer is None or not answer.strip()


def normalize_answer(answer: str) -> str | Decimal:
    """The default comparison key: a decimal number's value (a `Decimal`, equal across spellings) or stripped text."""
    text = answer.strip()
    if _DECIMAL_NUMBER.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid literals
            return text
    return text


def same_answer(a: str, b: str) -> bool:
    """The default equivalence: equal normalised keys (numbers by value, other answers by stripped text)."""
    key_a, key_b = normalize_answer(a), normalize_answer(b)
    if isinstance(key_a, Decimal) != isinstance(key_b, Decimal):
        return False
    return key_a == key_b


@dataclass(frozen=True)
class MajorityVote:
    score: float  # in [0, 1]; 0.0 when no sample had an answer
    no_answer: bool  # no valid answer among the voters
    votes: int  # size of the winning class(es); 0 when no_answer
    winners: tuple[str, ...]  # the first member of each class tied for the most votes, in order of appearance


def _class_score(scores: list[float]) -> float:
    first = scores[0]
    if all(score == first for score in scores):
        return first
    return math.fsum(scores) / len(scores)


def majority_vote(
    answers: Sequence[str | None],
    scores: Sequence[float],
    k: int | None = None,
    same: SameAnswer | None = None,
) -> MajorityVote:
    """Majority vote over the first `k` (default: all) samples; see the module docstring for every rule."""
    if len(answers) != len(scores):
        raise ValueError(f"majority_vote got {len(answers)} answers but {len(scores)} scores.")
    if k is None:
        k = len(answers)
    if not 1 <= k <= len(answers):
        raise ValueError(f"majority@k needs 1 <= k <= {len(answers)} (the number of samples), got k={k}.")

    representatives: list[str] = []
    members: list[list[float]] = []
    index_by_key: dict[Decimal | tuple[str, str], int] = {}
    for answer, score in zip(answers[:k], scores[:k], strict=True):
        if answer is None or is_missing_answer(answer):
            continue
        value = float(score)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Scores must lie in [0, 1]; got {score!r} for answer {answer!r}.")
        lookup: Decimal | tuple[str, str] | None = None
        if same is None:
            key = normalize_answer(answer)
            # Numbers and texts live in separate namespaces: a text key never equals a Decimal key.
            lookup = key if isinstance(key, Decimal) else ("text", key)
            position = index_by_key.get(lookup)
        else:
            position = next((i for i, rep in enumerate(representatives) if same(rep, answer)), None)
        if position is None:
            position = len(representatives)
            representatives.append(answer)
            members.append([])
            if lookup is not None:
                index_by_key[lookup] = position
        members[position].append(value)

    if not members:
        return MajorityVote(score=0.0, no_answer=True, votes=0, winners=())
    most = max(len(scores_of_class) for scores_of_class in members)
    tied = [i for i, scores_of_class in enumerate(members) if len(scores_of_class) == most]
    class_scores = [_class_score(members[i]) for i in tied]
    score = class_scores[0] if len(class_scores) == 1 else math.fsum(class_scores) / len(class_scores)
    return MajorityVote(score=score, no_answer=False, votes=most, winners=tuple(representatives[i] for i in tied))
