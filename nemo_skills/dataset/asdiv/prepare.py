"""ASDiv from its GitHub repository (`dataset/ASDiv.xml`).

Each `<Problem ID="nluds-0001" Grade="1">` holds `<Body>`, `<Question>`, `<Solution-Type>`, `<Answer>` (with units
in parentheses: `9 (apples)`, several answers separated by `;`) and `<Formula>`. Units are dropped from the answer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from nemo_skills.dataset.math_sources import numeric_answer, row_error
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

NAME = "asdiv"
URL = "https://raw.githubusercontent.com/chaochun/nlu-asdiv-dataset/master/dataset/ASDiv.xml"
_UNITS = re.compile(r"\([^()]*\)")


def _answer(raw: str) -> str:
    parts = [numeric_answer(_UNITS.sub("", part).strip()) for part in raw.split(";")]
    return ", ".join(part for part in parts if part)


def convert(xml_text: str, split: str) -> list[dict[str, Any]]:
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as error:
        raise InputError(f"{NAME}/{split}: the source is not valid XML ({error}).") from None
    converted = []
    for index, problem in enumerate(root.iter("Problem")):
        values = {tag: (problem.findtext(tag) or "").strip() for tag in ("Body", "Question", "Answer")}
        missing = [tag for tag, value in values.items() if not value]
        if missing:
            raise row_error(NAME, split, index, f"no {', '.join(missing)}")
        entry = {
            "id": problem.get("ID") or f"{NAME}-{index}",
            "problem": f"{values['Body']} {values['Question']}",
            "expected_answer": _answer(values["Answer"]),
        }
        if not entry["expected_answer"]:
            raise row_error(NAME, split, index, f"no answer in {values['Answer']!r}")
        solution_type = (problem.findtext("Solution-Type") or "").strip()
        if solution_type:
            entry["type"] = solution_type
        grade = (problem.get("Grade") or "").strip()
        if grade:
            entry["grade"] = int(grade) if grade.isdigit() else grade
        formula = (problem.findtext("Formula") or "").strip()
        if formula:
            entry["reference_equation"] = formula
        converted.append(entry)
    return converted


def prepare(ctx: PrepareContext) -> None:
    ctx.write_split("test", convert(ctx.download(URL).read_text(encoding="utf-8"), "test"))
