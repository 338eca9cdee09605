from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="chat",
    eval_type="ifeval",
    metrics_type="if",
    prompt_config="generic/if",
    required_fields=("id", "prompt", "instruction_id_list", "kwargs"),
    description="IFEval (Google Research): prompts with verifiable formatting instructions; strict/loose accuracy.",
)
