"""Prompt configs: YAML files with a system message, a user template with `{field}` slots and few-shot settings."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from nemo_skills.errors import ConfigError
from nemo_skills.utils.registry import did_you_mean

PROMPT_DIR = Path(__file__).parent / "config"
CODE_TAGS_DIR = Path(__file__).parent / "code_tags"
FEW_SHOT_DIR = Path(__file__).parent / "few_shot"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FewShotConfig(_Strict):
    prefix: str = ""
    template: str = ""
    suffix: str = ""
    examples_type: str | None = None  # a set under prompt/few_shot/; may contain {field} slots filled per row
    retrieval_field: str | None = None  # BM25 retrieval over retrieval_file instead of a fixed set
    retrieval_file: str | None = None
    retrieved_entries: int = 10
    retrieved_few_shots: int = 5
    randomize_retrieved_entries: bool = False
    max_retrieved_chars: int = 100_000_000
    max_retrieved_chars_field: str = "reference_solution"


class PromptConfig(_Strict):
    system: str = ""
    user: str
    few_shot_examples: FewShotConfig = FewShotConfig()


class CodeTags(_Strict):
    code_begin: str = "```python\n"
    code_end: str = "```\n"
    code_output_begin: str = "```output\n"
    code_output_end: str = "```\n"
    code_output_format: str = "qwen"  # qwen: raw output | llama: status line with [stdout]/[stderr] blocks


def _resolve(name: str, folder: Path, what: str) -> Path:
    path = Path(name)
    if name.endswith(".yaml"):
        if not path.is_file():
            raise ConfigError(f"{what} file {name} does not exist.")
        return path
    candidate = folder / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    known = [str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.yaml")]
    raise ConfigError(f"Unknown {what} {name!r}.{did_you_mean(name, known)} Known: {', '.join(sorted(known))}.")


def _load_yaml(path: Path, model: type[_Strict], what: str) -> _Strict:
    try:
        return model.model_validate(yaml.safe_load(path.read_text()) or {})
    except (ValidationError, yaml.YAMLError) as error:
        first = str(error).splitlines()
        raise ConfigError(f"Invalid {what} {path}: {' '.join(first[:3])}") from None


def load_prompt_config(name: str) -> PromptConfig:
    """`generic/math` (shipped), or a path to a `.yaml` file."""
    return _load_yaml(_resolve(name, PROMPT_DIR, "prompt config"), PromptConfig, "prompt config")  # type: ignore


def load_code_tags(name: str) -> CodeTags:
    return _load_yaml(_resolve(name, CODE_TAGS_DIR, "code tags"), CodeTags, "code tags")  # type: ignore


def load_examples(examples_type: str) -> list[dict]:
    path = _resolve(examples_type, FEW_SHOT_DIR, "few-shot example set")
    examples = yaml.safe_load(path.read_text())
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise ConfigError(f"Few-shot example set {path} must be a YAML list of mappings.")
    return examples
