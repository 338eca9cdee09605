from nemo_skills.dataset.spec import BenchmarkSpec, JudgeSpec

BENCHMARK = BenchmarkSpec(
    group="chat",
    eval_type="no-op",
    metrics_type="arena",
    prompt_config="generic/default",
    required_fields=("id", "problem", "baseline_answer"),
    # The judge compares each answer with the gpt-4-0314 baseline answer and ends with a [[A>>B]]-style label
    # (judge/arena: A = baseline, B = model; judge/arena-swapped: the other order).
    judge=JudgeSpec(prompt_config="judge/arena", swapped_prompt_config="judge/arena-swapped", eval_type="arena-judge"),
    description="Arena-Hard-Auto v0.1 (LMArena): 500 hard user prompts judged pairwise against GPT-4-0314 answers.",
)
