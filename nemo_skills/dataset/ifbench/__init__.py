from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="chat",
    eval_type="ifbench",
    metrics_type="if",
    prompt_config="generic/if",
    required_fields=("id", "prompt", "instruction_id_list", "kwargs"),
    description="IFBench (AllenAI): 58 new out-of-distribution verifiable instructions; strict and loose accuracy.",
)
