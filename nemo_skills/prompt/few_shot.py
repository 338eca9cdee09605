"""Few-shot examples: fixed sets addressed by name, or BM25 retrieval of the most similar entries of a JSONL file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from nemo_skills.errors import ConfigError
from nemo_skills.prompt.config import FewShotConfig


class BM25Retriever:
    """Finds the entries of `retrieval_file` whose `field` is most similar (BM25, whitespace tokens) to a query."""

    def __init__(self, retrieval_file: str, field: str):
        from rank_bm25 import BM25Okapi

        path = Path(retrieval_file)
        if not path.is_file():
            raise ConfigError(f"Few-shot retrieval file {retrieval_file} does not exist.")
        with path.open() as handle:
            self.entries = [json.loads(line) for line in handle if line.strip()]
        missing = [i + 1 for i, entry in enumerate(self.entries) if field not in entry]
        if missing:
            raise ConfigError(f"Few-shot retrieval file {retrieval_file} lacks field {field!r} on line {missing[0]}.")
        self.field = field
        self._bm25 = BM25Okapi([str(entry[field]).split() for entry in self.entries])

    def top(self, query: str, count: int) -> list[dict[str, Any]]:
        scores = self._bm25.get_scores(query.split())
        order = sorted(range(len(self.entries)), key=lambda i: -scores[i])
        return [self.entries[i] for i in order[:count]]


def select_retrieved(retriever: BM25Retriever, query: str, config: FewShotConfig, seed: int) -> list[dict]:
    """Top entries for `query`, without the query itself and over-long entries, best one last."""
    candidates = retriever.top(query, config.retrieved_entries)
    while candidates and str(candidates[0][retriever.field]) == query:  # the query's own entry is not an example
        candidates.pop(0)
    candidates = [
        entry
        for entry in candidates
        if len(str(entry.get(config.max_retrieved_chars_field, ""))) <= config.max_retrieved_chars
    ]
    chosen = candidates[: config.retrieved_few_shots]
    if config.randomize_retrieved_entries:
        random.Random(seed).shuffle(chosen)
    else:
        chosen.reverse()
    return chosen
