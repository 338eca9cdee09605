"""Arena-Hard-Auto v0.1 from the lmarena/arena-hard-auto repository: `data/arena-hard-v0.1/question.jsonl` and the
baseline answers `data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl`.

Both upstream layouts are read: the original one (questions `{question_id, category, cluster, turns: [{content}]}`,
answers `{question_id, choices: [{turns: [{content}]}]}`) and the current one (questions `{uid, category,
subcategory, prompt}`, answers `{uid, messages: [{role, content}]}` where the assistant content may be `{answer}`).

Rows: `id` (the question id), `problem` (the user prompt), `baseline_answer` (the gpt-4-0314 answer), `category`
(as upstream; "arena-hard-v0.1" for every v0.1 question) and `cluster` / `subcategory` where upstream has them.
"""

from __future__ import annotations

from typing import Any

from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.dataset.readers import read_jsonl
from nemo_skills.errors import InputError

BASE = "https://raw.githubusercontent.com/lmarena/arena-hard-auto/main/data/arena-hard-v0.1/"
QUESTIONS_URL = BASE + "question.jsonl"
BASELINE_URL = BASE + "model_answer/gpt-4-0314.jsonl"


def _question_id(row: dict[str, Any], where: str) -> str:
    value = row.get("question_id", row.get("uid"))
    if value is None:
        raise InputError(f"{where}: no question_id / uid field (keys: {sorted(row)}).")
    return str(value)


def _single_turn(turns: Any, where: str) -> str:
    if not isinstance(turns, list) or len(turns) != 1:
        raise InputError(f"{where}: expected exactly one turn, got {turns!r:.120}.")
    return turns[0]["content"]


def question_text(row: dict[str, Any], where: str) -> str:
    return row["prompt"] if "prompt" in row else _single_turn(row.get("turns"), where)


def answer_text(row: dict[str, Any], where: str) -> str:
    if "choices" in row:
        choices = row["choices"]
        if not isinstance(choices, list) or len(choices) != 1:
            raise InputError(f"{where}: expected exactly one choice.")
        return _single_turn(choices[0].get("turns"), where)
    for message in row.get("messages") or []:
        if message.get("role") == "assistant":
            content = message.get("content")
            return content.get("answer", "") if isinstance(content, dict) else content
    raise InputError(f"{where}: no answer (neither choices nor an assistant message).")


def convert(questions: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = {}
    for index, row in enumerate(baseline):
        where = f"arena-hard baseline row {index}"
        answers[_question_id(row, where)] = answer_text(row, where)
    converted = []
    for index, row in enumerate(questions):
        qid = _question_id(row, f"arena-hard question row {index}")
        if qid not in answers:
            raise InputError(f"arena-hard: question {qid} has no gpt-4-0314 baseline answer.")
        converted.append(
            {
                "id": qid,
                "problem": question_text(row, f"arena-hard question {qid}"),
                "baseline_answer": answers[qid],
                "category": row.get("category"),
                **{key: row[key] for key in ("cluster", "subcategory") if key in row},
            }
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    questions = read_jsonl(ctx.download(QUESTIONS_URL))
    baseline = read_jsonl(ctx.download(BASELINE_URL))
    ctx.write_split("test", convert(questions, baseline))
