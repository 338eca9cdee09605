"""Grade generation outputs in place: `python -m nemo_skills.evaluation.evaluate ++input_files=[...] ++eval_type=math`.

For each input file (paths or glob patterns): wait for nothing — a file whose generation has not finished (no
`.done` marker) is skipped with a message, so chunked runs can call this after every chunk and the merged file is
graded once, by whichever call finds it complete. Thinking is stripped from the generation first (see
`strip_thinking`), the evaluator adds its fields, the file is rewritten atomically under a lock, and
`<file>.graded.json` records what graded it; a file already graded with the same evaluator and config is skipped.
An evaluator that fails to build or raises fails the run: no file is ever left half graded or scored as 0 silently.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Optional

from nemo_skills.errors import ConfigError, InputError
from nemo_skills.evaluation.evaluator import EVALUATORS
from nemo_skills.evaluation.evaluator.base import Evaluator, GradingContext
from nemo_skills.inference.output_files import is_done
from nemo_skills.utils.entry import run_with_overrides
from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic
from nemo_skills.utils.overrides import config_from_dict
from nemo_skills.utils.paths import expand_patterns

LOG = logging.getLogger(__name__)
RECORD_VERSION = 1


@dataclass
class EvaluateConfig:
    input_files: list[str] = field(default_factory=list)  # paths or glob patterns
    eval_type: str = ""
    eval_config: dict[str, Any] = field(default_factory=dict)  # the evaluator's own keys
    generation_key: str = "generation"
    remove_thinking: bool = True
    thinking_begin: str = "<think>"
    thinking_end: str = "</think>"
    num_workers: Optional[int] = None  # grading processes (default: the CPU count)
    require_done: bool = True  # skip files whose generation has no .done marker yet
    skip_graded: bool = True  # skip files already graded by the same evaluator and config
    data_file: Optional[str] = None  # the prepared split the files were generated from (for graders that need it)


@dataclass(frozen=True)
class GradedFile:
    path: Path
    num_rows: int
    skipped: str | None = None  # why it was not graded now
    seconds: float = 0.0


def build_evaluator(eval_type: str, eval_config: dict[str, Any]) -> Evaluator:
    evaluator_cls = EVALUATORS.get(eval_type)
    config = config_from_dict(evaluator_cls.Config, eval_config)
    return evaluator_cls(config)


def strip_thinking(text: str, begin: str, end: str) -> str:
    """The answer part: after the last `end` tag; "" when thinking began but never ended (truncated reasoning)."""
    if end in text:
        return text.rsplit(end, 1)[1].lstrip()
    if begin in text:
        return ""
    return text


def graded_record_path(path: Path) -> Path:
    return path.with_name(path.name + ".graded.json")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _already_graded(path: Path, signature: dict[str, Any]) -> bool:
    record_path = graded_record_path(path)
    if not record_path.is_file():
        return False
    try:
        record = json.loads(record_path.read_text())
    except ValueError:
        return False
    return record.get("signature") == signature and record.get("sha256") == _digest(path)


def expand_input_files(patterns: list[str]) -> list[Path]:
    if not patterns:
        raise ConfigError("No ++input_files given.")
    return expand_patterns(patterns)


def grade_file(path: Path, evaluator: Evaluator, cfg: EvaluateConfig, signature: dict[str, Any]) -> GradedFile:
    lock_path = path.with_name(path.name + ".grading.lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cfg.skip_graded and _already_graded(path, signature):
            return GradedFile(path, 0, skipped="already graded with this evaluator and config")
        start = time.monotonic()
        rows = read_jsonl(path)
        key = cfg.generation_key
        for row in rows:
            for name in evaluator.output_fields:
                row.pop(name, None)
            if cfg.remove_thinking and key in row and isinstance(row[key], str):
                stripped = strip_thinking(row[key], cfg.thinking_begin, cfg.thinking_end)
                if stripped != row[key]:
                    row.setdefault(f"{key}_with_thinking", row[key])
                    row[key] = stripped
        workers = cfg.num_workers or GradingContext().num_workers
        context = GradingContext(generation_key=key, num_workers=workers, where=str(path), data_file=cfg.data_file)
        updates = evaluator.grade(rows, context)
        if len(updates) != len(rows):
            raise RuntimeError(f"Evaluator {cfg.eval_type} returned {len(updates)} results for {len(rows)} rows.")
        for row, update in zip(rows, updates, strict=True):
            row.update(update)
        write_jsonl_atomic(path, rows)
        seconds = time.monotonic() - start
        record = {"record_version": RECORD_VERSION, "signature": signature, "sha256": _digest(path)}
        record.update({"num_rows": len(rows), "seconds": round(seconds, 3), "graded_at": time.time()})
        graded_record_path(path).write_text(json.dumps(record, indent=2) + "\n")
    lock_path.unlink(missing_ok=True)
    return GradedFile(path, len(rows), seconds=seconds)


def evaluate(cfg: EvaluateConfig) -> list[GradedFile]:
    if not cfg.eval_type:
        raise ConfigError(f"Set ++eval_type (one of: {', '.join(EVALUATORS.names())}).")
    evaluator = build_evaluator(cfg.eval_type, cfg.eval_config)
    config_values = asdict(evaluator.config) if is_dataclass(evaluator.config) else {}
    signature = {"eval_type": cfg.eval_type, "eval_config": config_values, "generation_key": cfg.generation_key}
    results = []
    for path in expand_input_files(cfg.input_files):
        if not path.is_file():
            raise InputError(f"Input file {path} does not exist.")
        if cfg.require_done and not is_done(path):
            LOG.info("Not grading %s yet: its generation is unfinished (no .done marker).", path)
            results.append(GradedFile(path, 0, skipped="generation unfinished"))
            continue
        result = grade_file(path, evaluator, cfg, signature)
        LOG.info("%s: %s", path, result.skipped or f"graded {result.num_rows} rows in {result.seconds:.1f}s")
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    return run_with_overrides(__doc__, EvaluateConfig, evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
