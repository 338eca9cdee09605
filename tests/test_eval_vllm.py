"""`ns eval` against the real vLLM server on CPU with the tiny random model: the whole path, honest near-zero
accuracy."""

from __future__ import annotations

import json

import pytest

from nemo_skills.dataset.prepare import prepare_benchmarks
from nemo_skills.pipeline.common import ServerOptions
from nemo_skills.pipeline.eval import run_eval
from nemo_skills.pipeline.eval_plan import EvalPlan
from nemo_skills.utils.jsonl import read_jsonl

pytestmark = pytest.mark.vllm


def test_eval_against_real_vllm(tmp_path, vllm_server):
    data_dir = tmp_path / "data"
    prepare_benchmarks(["arithmetic"], data_dir=data_dir)
    plan = EvalPlan(
        benchmarks="arithmetic:2",
        output_dir=str(tmp_path / "out"),
        server=ServerOptions(server_type="vllm", model=vllm_server.model, server_address=vllm_server.base_url),
        data_dir=str(data_dir),
        overrides=[
            f"++tokenizer={vllm_server.model}",
            "++max_samples=12",
            "++inference.tokens_to_generate=16",
            "++inference.temperature=0.7",
            "++progress_bar=False",
        ],
    )
    run_eval(plan)
    folder = tmp_path / "out" / "eval-results" / "arithmetic"
    rows = read_jsonl(folder / "output-rs0.jsonl")
    assert len(rows) == 12
    assert all(isinstance(r["generation"], str) and "symbolic_correct" in r for r in rows)
    assert all(r["num_generated_tokens"] <= 16 for r in rows)
    metrics = json.loads((tmp_path / "out" / "eval-results" / "metrics.json").read_text())["arithmetic"]
    average = metrics["pass@1[avg-of-2]"]
    assert average["num_entries"] == 12
    assert 0.0 <= average["symbolic_correct"] <= 100.0
    assert average["truncated"] > 50.0  # 16 tokens of a random model rarely end on their own
    assert any("truncated" in w for w in average["warnings"])
