"""The loop of docs/training.md through the real `ns` command on this machine: generate solutions (a scripted stub
model), grade them, filter them into SFT data, render SFT then GRPO on the result (dry runs: no GPU here), and an
`ns eval` of the final model (dry run). Every step reads what the one before it wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nemo_skills.utils.jsonl import read_jsonl, write_jsonl_atomic
from tests.stub import run_stub

NEMO_RL_CONFIGS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "nemo-rl-configs"
NS = [sys.executable, "-c", "import sys; from nemo_skills.pipeline.cli import main; sys.argv[0] = 'ns'; main()"]

PROBLEMS = [
    {"problem": "What is 2+3?", "expected_answer": "5"},
    {"problem": "What is 10-4?", "expected_answer": "6"},
    {"problem": "What is 7*3?", "expected_answer": "21"},
]
# seed 0 and seed 1 of each problem: 4 of the 6 solutions are right
ANSWERS = [
    {"match": "What is 2+3?", "responses": ["2+3 is \\boxed{5}.", "\\boxed{5}"]},
    {"match": "What is 10-4?", "responses": ["\\boxed{7}", "10-4 = \\boxed{6}"]},
    {"match": "What is 7*3?", "responses": ["no idea", "7*3 = \\boxed{21}"]},
]


def slurm_config(tmp_path: Path) -> Path:
    """A Slurm cluster with containers and one mount: the GPU steps are rendered as sbatch scripts, not submitted."""
    path = tmp_path / "slurm.yaml"
    path.write_text(
        "executor: slurm\n"
        f"job_dir: {tmp_path / 'jobs'}\n"
        "account: me\n"
        "partition: batch\n"
        "containers: {nemo-skills: nemo-skills:latest, vllm: 'vllm/vllm-openai:v0.11.0', nemo-rl: 'nemo-rl:v0.4.0'}\n"
        f"mounts: ['{tmp_path}:/workspace']\n"
        "env_vars: [HF_HOME=/workspace/hf_home]\n"
    )
    return path


def ns(*args: str, cwd: Path) -> str:
    result = subprocess.run([*NS, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ns {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.mark.slow
def test_generate_grade_filter_sft_grpo_eval(tmp_path: Path) -> None:
    if not (NEMO_RL_CONFIGS / "sft.yaml").is_file():
        pytest.skip(f"NeMo-RL's example configs are not at {NEMO_RL_CONFIGS}")
    write_jsonl_atomic(tmp_path / "train.jsonl", PROBLEMS)
    (tmp_path / "answers.json").write_text(json.dumps(ANSWERS))

    with run_stub("--answers", str(tmp_path / "answers.json")) as stub:
        ns(
            "generate",
            "--input_file=train.jsonl",
            "--output_dir=gen",
            "--server_type=vllm",
            "--model=stub-model",
            f"--server_address={stub.base_url}",
            "--num_random_seeds=2",
            "++prompt_config=generic/math",
            "++inference.temperature=0.7",
            cwd=tmp_path,
        )
    grade = [sys.executable, "-m", "nemo_skills.evaluation.evaluate", "++input_files=[gen/output-rs*.jsonl]"]
    subprocess.run([*grade, "++eval_type=math"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    graded = read_jsonl(tmp_path / "gen" / "output-rs0.jsonl")
    assert [row["symbolic_correct"] for row in graded] == [True, False, False]

    report = ns(
        "prepare_sft_data",
        "gen/output-rs*.jsonl",
        "--output_file=sft.jsonl",
        "--correct_only=symbolic",
        "--prompt_config=generic/math",
        cwd=tmp_path,
    )
    assert "Kept 4 of 6 rows" in report
    sft = read_jsonl(tmp_path / "sft.jsonl")
    assert {row["messages"][1]["content"] for row in sft} == {
        "2+3 is \\boxed{5}.",
        "\\boxed{5}",
        "10-4 = \\boxed{6}",
        "7*3 = \\boxed{21}",
    }
    prompts = [row["messages"][0]["content"] for row in sft]
    assert all("What is" in prompt and "\\boxed{}" in prompt for prompt in prompts)

    ns("prepare_rl_data", "train.jsonl", "--output_file=grpo.jsonl", cwd=tmp_path)
    assert sorted((row["input"], row["output"]) for row in read_jsonl(tmp_path / "grpo.jsonl")) == sorted(
        (p["problem"], p["expected_answer"]) for p in PROBLEMS
    )

    # the GPU steps, rendered for a Slurm cluster (not submitted); NeMo-RL's configs are on this machine only
    cluster = f"--cluster={slurm_config(tmp_path)}"
    sft_plan = ns(
        "sft_nemo_rl",
        cluster,
        "--model=/workspace/models/Qwen2.5-1.5B",
        f"--training_data={tmp_path / 'sft.jsonl'}",
        f"--output_dir={tmp_path / 'sft'}",
        "--num_gpus=8",
        "--num_nodes=2",
        f"--config={NEMO_RL_CONFIGS / 'sft.yaml'}",
        "--dry_run",
        "++sft.max_num_steps=100",
        cwd=tmp_path,
    )
    assert "+data.train.data_path=/workspace/sft.jsonl" in sft_plan
    assert "--config /workspace/sft/nemo_rl_sft_config.yaml" in sft_plan
    assert "--output /workspace/sft/final_hf_model" in sft_plan
    assert "#SBATCH --nodes=2" in sft_plan

    grpo_plan = ns(
        "grpo_nemo_rl",
        cluster,
        "--model=/workspace/sft/final_hf_model",
        f"--training_data={tmp_path / 'grpo.jsonl'}",
        f"--output_dir={tmp_path / 'grpo'}",
        "--num_gpus=8",
        f"--config={NEMO_RL_CONFIGS / 'grpo_math_1B.yaml'}",
        "--dry_run",
        "++grpo.max_num_steps=50",
        cwd=tmp_path,
    )
    assert "policy.model_name=/workspace/sft/final_hf_model" in grpo_plan
    assert "examples/run_grpo.py" in grpo_plan

    data_dir = tmp_path / "data"
    (data_dir / "gsm8k").mkdir(parents=True)
    write_jsonl_atomic(data_dir / "gsm8k" / "test.jsonl", [{**p, "id": str(i)} for i, p in enumerate(PROBLEMS)])
    eval_plan = ns(
        "eval",
        cluster,
        "--benchmarks=gsm8k:4",
        "--model=/workspace/grpo/final_hf_model",
        "--server_type=vllm",
        "--server_gpus=8",
        f"--data_dir={data_dir}",
        f"--output_dir={tmp_path / 'eval'}",
        "--dry_run",
        "++inference.temperature=0.6",
        "++inference.top_p=0.95",
        cwd=tmp_path,
    )
    assert "--model /workspace/grpo/final_hf_model" in eval_plan
    assert "++output_file=/workspace/eval/eval-results/gsm8k/output-rs3.jsonl" in eval_plan
    assert not (tmp_path / "eval" / "eval-results").exists()  # a dry run submits nothing
