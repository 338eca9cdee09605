"""MMLU-Redux 2.0 from the Hugging Face dataset edinburgh-dawg/mmlu-redux-2.0: one Arrow file per subject
(`<subject>/data-00000-of-00001.arrow`, as `datasets.save_to_disk` writes it) with `question`, `choices`,
`answer` (index), `error_type`, `correct_answer`, `source`.

Which rows are kept (the annotators' `error_type` decides):
* `ok`: kept with the upstream answer.
* `wrong_groundtruth` with a usable `correct_answer` (a letter A-D or an index 0-3): kept with the corrected answer.
* everything else is dropped: `bad_question_clarity`, `bad_options_clarity`, `expert`, `no_correct_answer`,
  `multiple_correct_answers`, a `wrong_groundtruth` without a usable correction, and any unknown type.
  The reference drops the first three too; it additionally keeps some `no_correct_answer` rows (pasting the
  annotator's text over an option) and `multiple_correct_answers` rows (with an "A,C" answer that a single-letter
  grader cannot score). We drop those, so every kept row has one verified letter.
Ids are `mmlu-redux-<subject>-<upstream row index>`, stable whatever is dropped; `subset_for_metrics` is the subject.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nemo_skills.dataset.mcq import LETTERS, mcq_row
from nemo_skills.dataset.prepare import PrepareContext
from nemo_skills.errors import InputError

REPO = "edinburgh-dawg/mmlu-redux-2.0"
FILE = "{subject}/data-00000-of-00001.arrow"
SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
    "computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
    "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
    "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history", "high_school_world_history",
    "human_aging", "human_sexuality", "international_law", "jurisprudence", "logical_fallacies", "machine_learning",
    "management", "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law", "professional_medicine",
    "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology",
    "world_religions",
)  # fmt: skip


def read_arrow(path: Path) -> list[dict[str, Any]]:
    """Rows of an Arrow IPC file, stream format (what `save_to_disk` writes) or file format."""
    import pyarrow as pa

    try:
        with pa.memory_map(str(path)) as source:
            try:
                table = pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                table = pa.ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(f"{path}: not a readable Arrow file ({error}).") from None
    return table.to_pylist()


def gold_index(row: dict[str, Any]) -> int | None:
    """The verified answer index of an upstream row, or None when the row is dropped."""
    error_type = row.get("error_type")
    if error_type == "ok":
        return int(row["answer"])
    if error_type == "wrong_groundtruth":
        corrected = str(row.get("correct_answer") or "").strip().upper()
        if len(corrected) == 1 and corrected in "ABCD":
            return LETTERS.index(corrected)
        if len(corrected) == 1 and corrected in "0123":
            return int(corrected)
    return None


def convert(rows: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    converted = []
    for index, row in enumerate(rows):
        answer = gold_index(row)
        if answer is None:
            continue
        converted.append(
            mcq_row(
                f"mmlu-redux-{subject}-{index}",
                row["question"],
                list(row["choices"]),
                answer,
                subject,
                error_type=row["error_type"],
                source=row.get("source"),
            )
        )
    return converted


def prepare(ctx: PrepareContext) -> None:
    rows = []
    for subject in SUBJECTS:
        rows.extend(convert(read_arrow(ctx.hf_file(REPO, FILE.format(subject=subject))), subject))
    ctx.write_split("test", rows)
