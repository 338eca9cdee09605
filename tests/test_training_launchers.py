"""Training launchers: the exact trainer commands, jobs and conversion they render, and every override checked
against the frameworks' real configs (NeMo-RL's example YAMLs, veRL's configs from its PyPI wheel)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import nemo_skills
from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.common import JobOptions
from nemo_skills.pipeline.training import (
    NemoRlOptions,
    NemoRlPlan,
    TrainingOptions,
    VerlOptions,
    VerlPlan,
    build_nemo_rl_pipeline,
    build_verl_pipeline,
)
from nemo_skills.training.launchers.common import TrainerCommand, save_deadline, slurm_seconds
from nemo_skills.training.launchers.nemo_rl_config import check_nemo_rl_overrides, load_nemo_rl_config
from nemo_skills.training.launchers.ray_cluster import RayClusterSpec, ray_start_script
from nemo_skills.training.launchers.schema import hydra_value
from nemo_skills.training.launchers.verl import IMAGE_REWARD_FILE
from nemo_skills.training.launchers.verl_config import check_verl_overrides, fetch

NEMO_RL_CONFIGS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "nemo-rl-configs"


@pytest.fixture(scope="module")
def nemo_rl_dir(tmp_path_factory) -> Path:
    """A NeMo-RL checkout as far as the launcher reads it: its example configs (from NeMo-RL's repository)."""
    if not NEMO_RL_CONFIGS.is_dir():
        pytest.skip(f"NeMo-RL's example configs are not at {NEMO_RL_CONFIGS}")
    root = tmp_path_factory.mktemp("nemo-rl")
    (root / "examples" / "configs").mkdir(parents=True)
    for path in NEMO_RL_CONFIGS.glob("*.yaml"):
        (root / "examples" / "configs" / path.name).write_text(path.read_text())
    return root


@pytest.fixture(scope="module")
def verl_config_dir() -> Path:
    """veRL's trainer configs from the verl wheel (cached; `.ci/run` fetches them first)."""
    return fetch()


@pytest.fixture
def data(tmp_path) -> dict[str, str]:
    files = {}
    for name in ("train.jsonl", "val.jsonl", "train.parquet"):
        (tmp_path / name).write_text("{}\n")
        files[name] = str(tmp_path / name)
    return files


def nemo_rl_plan(algorithm, tmp_path, data, nemo_rl_dir, overrides=(), **training) -> NemoRlPlan:
    options = TrainingOptions(
        model="Qwen/Qwen2.5-1.5B",
        training_data=data["train.jsonl"],
        output_dir=str(tmp_path / "out"),
        num_gpus=8,
        overrides=list(overrides),
        **training,
    )
    job = JobOptions(expname="exp", exclusive=True)
    return NemoRlPlan(algorithm, options, NemoRlOptions(nemo_rl_dir=str(nemo_rl_dir)), job)


def trainer_of(pipeline, index: int = 0) -> TrainerCommand:
    return pipeline.jobs[index].groups[0].commands[0].script.trainer


def test_sft_renders_nemo_rls_entry_script_with_checked_overrides(tmp_path, data, nemo_rl_dir):
    plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir, ["++sft.max_num_steps=100"], disable_wandb=True)
    pipeline = build_nemo_rl_pipeline(plan)
    trainer = trainer_of(pipeline)
    out = tmp_path / "out"
    assert trainer.workdir == str(nemo_rl_dir)
    assert trainer.argv == [
        "uv",
        "run",
        "python",
        "examples/run_sft.py",
        "--config",
        f"{nemo_rl_dir}/examples/configs/sft.yaml",
        "policy.model_name=Qwen/Qwen2.5-1.5B",
        "cluster.gpus_per_node=8",
        "cluster.num_nodes=1",
        f"checkpointing.checkpoint_dir={out}/checkpoints",
        f"logger.log_dir={out}/training-logs",
        "logger.wandb_enabled=false",
        "policy.dtensor_cfg.enabled=true",
        "policy.megatron_cfg.enabled=false",
        "data.train.dataset_name=ResponseDataset",
        f"+data.train.data_path={data['train.jsonl']}",
        "data.train.split=train",
        # no --validation_data: validate on 5% of the training data, NeMo-RL's own GRPO default
        "+data.train.split_validation_size=0.05",
        "data.validation=null",
        "++sft.max_num_steps=100",
    ]
    assert trainer.shell().startswith(f"cd {nemo_rl_dir} && uv run python examples/run_sft.py --config ")
    assert trainer.env == {"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    assert [job.name for job in pipeline.jobs] == ["exp", "exp-convert"]
    assert pipeline.jobs[0].groups[0].hardware.exclusive
    convert = pipeline.jobs[1]
    assert convert.dependencies == [pipeline.jobs[0]] and convert.dependency_type is None  # afterok
    command = convert.groups[0].commands[0]
    assert command.container_name == "nemo-rl"
    assert command.script.command(_ctx(pipeline, convert)) == shlex.join(
        [sys.executable, "-m", "nemo_skills.training.checkpoints"]
        + ["--input", f"{out}/checkpoints", "--output", f"{out}/final_hf_model"]
        + ["--format", "dcp", "--base_model", "Qwen/Qwen2.5-1.5B"]
    )


def _ctx(pipeline, job):
    from nemo_skills.pipeline.declarative import JobRenderContext

    return JobRenderContext(job, pipeline.cluster)


def test_grpo_with_validation_data_chained_jobs_and_averaged_conversion(tmp_path, data, nemo_rl_dir):
    plan = nemo_rl_plan(
        "grpo",
        tmp_path,
        data,
        nemo_rl_dir,
        validation_data=data["val.jsonl"],
        num_nodes=1,
        num_training_jobs=3,
        average_steps="100,200",
        wandb_group="g1",
    )
    pipeline = build_nemo_rl_pipeline(plan)
    assert [job.name for job in pipeline.jobs] == ["exp", "exp-dep1", "exp-dep2", "exp-convert"]
    for previous, job in zip(pipeline.jobs[:2], pipeline.jobs[1:3], strict=True):
        assert job.dependencies == [previous] and job.dependency_type == "afterany"
        assert trainer_of(pipeline).argv == job.groups[0].commands[0].script.trainer.argv  # the same run, resumed
    trainer = trainer_of(pipeline)
    assert trainer.argv[:6] == [
        "uv",
        "run",
        "python",
        "examples/run_grpo.py",
        "--config",
        f"{nemo_rl_dir}/examples/configs/grpo_math_1B.yaml",
    ]
    assert "logger.wandb_enabled=true" in trainer.argv
    assert "logger.wandb.project=nemo-skills" in trainer.argv and "logger.wandb.name=exp" in trainer.argv
    tail = trainer.argv[trainer.argv.index("data.train.dataset_name=ResponseDataset") :]
    assert tail == [
        "data.train.dataset_name=ResponseDataset",
        f"+data.train.data_path={data['train.jsonl']}",
        "+data.train.split=train",
        "+data.default.input_key=input",
        "+data.default.output_key=output",
        f"data.validation={{dataset_name:ResponseDataset,data_path:{data['val.jsonl']},split:train}}",
        "data.train.split_validation_size=0",
    ]
    assert trainer.env["WANDB_RUN_GROUP"] == "g1" and trainer.env["WANDB_RESUME"] == "allow"
    convert = pipeline.jobs[-1].groups[0].commands[0].script.config
    assert (convert.average_steps, convert.step, convert.format) == ([100, 200], None, "dcp")


def test_the_rendered_grpo_config_is_what_nemo_rl_would_build(tmp_path, data, nemo_rl_dir):
    plan = nemo_rl_plan("grpo", tmp_path, data, nemo_rl_dir, validation_data=data["val.jsonl"], disable_wandb=True)
    trainer = trainer_of(build_nemo_rl_pipeline(plan))
    config = check_nemo_rl_overrides(trainer.argv[5], trainer.argv[6:], [])
    assert config.data.train.data_path == data["train.jsonl"]
    assert config.data.validation.data_path == data["val.jsonl"]
    assert config.data.default.processor == "math_hf_data_processor"  # NeMo-RL's math environment stays
    assert config.policy.tokenizer.name == "Qwen/Qwen2.5-1.5B"  # `${policy.model_name}`: follows the model


def test_megatron_backend_toggles_and_refuses_a_conversion_it_cannot_do(tmp_path, data, nemo_rl_dir):
    plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir, disable_wandb=True)
    plan.nemo_rl.backend = "megatron"
    with pytest.raises(ConfigError, match="--conversion_step none"):
        build_nemo_rl_pipeline(plan)
    plan.training.conversion_step = "none"
    pipeline = build_nemo_rl_pipeline(plan)
    assert [job.name for job in pipeline.jobs] == ["exp"]
    argv = trainer_of(pipeline).argv
    assert "policy.dtensor_cfg.enabled=false" in argv and "policy.megatron_cfg.enabled=true" in argv


def test_slurm_time_limit_makes_nemo_rl_save_before_it(tmp_path, data, nemo_rl_dir, monkeypatch):
    config = tmp_path / "slurm.yaml"
    config.write_text(f"executor: slurm\njob_dir: {tmp_path}/jobs\npartition: batch\ntimeouts:\n  batch: '04:00:00'\n")
    plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir, disable_wandb=True, num_nodes=2)
    plan.job.cluster = str(config)
    pipeline = build_nemo_rl_pipeline(plan)
    assert "checkpointing.checkpoint_must_save_by=00:03:45:00" in trainer_of(pipeline).argv
    command = pipeline.jobs[0].groups[0].commands[0]
    assert (command.nodes, command.tasks_per_node, command.gpus) == (2, 1, 8)
    script = command.script.command(_ctx(pipeline, pipeline.jobs[0]))
    assert 'head_host=$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n1)' in script
    assert '[ "$joined" -ge 2 ] && break' in script


def test_misspelt_user_key_fails_with_the_nearest_keys(tmp_path, data, nemo_rl_dir):
    plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir, ["++policy.max_total_sequence_lenght=4096"])
    with pytest.raises(ConfigError) as error:
        build_nemo_rl_pipeline(plan)
    message = str(error.value)
    assert "Unknown key 'policy.max_total_sequence_lenght'" in message
    assert "Did you mean 'policy.max_total_sequence_length'" in message
    assert "+policy.max_total_sequence_lenght=4096" in message  # how to add a new key on purpose


@pytest.mark.parametrize(
    ("launcher", "user", "expected"),
    [
        (
            ["cluster.gpus_per_nod=8"],
            [],
            r"'cluster.gpus_per_nod' .*\(rendered by the launcher\).*'cluster.gpus_per_node'",
        ),
        ([], ["sft.val_perod=5"], "Did you mean 'sft.val_period'"),
        ([], ["+sft.val_period=5"], "already has it: write 'sft.val_period=5'"),
        ([], ["~sft.no_such_key"], "Unknown key 'sft.no_such_key'"),
        (["+data.train.not_a_dataset_key=1"], [], "not a documented optional key"),
        ([], ["sft.val_period=1,2"], "unquoted comma"),
    ],
)
def test_nemo_rl_override_rules(launcher, user, expected):
    if not NEMO_RL_CONFIGS.is_dir():
        pytest.skip("no NeMo-RL configs")
    with pytest.raises(ConfigError, match=expected):
        check_nemo_rl_overrides(NEMO_RL_CONFIGS / "sft.yaml", launcher, user)


def test_nemo_rl_override_rules_that_pass():
    if not NEMO_RL_CONFIGS.is_dir():
        pytest.skip("no NeMo-RL configs")
    config = check_nemo_rl_overrides(
        NEMO_RL_CONFIGS / "grpo_math_1B.yaml",
        [],
        [
            "++policy.generation.vllm_kwargs.compilation_config.backend=eager",  # under a free-form `{}`
            "+policy.brand_new_key=1",  # `+` adds on purpose
            "~policy.draft",
            "++data.train.data_path=/d.jsonl",  # a documented optional key
            "grpo.val_period=5",
        ],
    )
    assert config.policy.generation.vllm_kwargs.compilation_config.backend == "eager"
    assert "draft" not in config.policy and config.grpo.val_period == 5


def test_nemo_rl_defaults_inheritance_and_override_marker(tmp_path):
    if not NEMO_RL_CONFIGS.is_dir():
        pytest.skip("no NeMo-RL configs")
    child = load_nemo_rl_config(NEMO_RL_CONFIGS / "sft_openmathinstruct2.yaml")  # defaults: sft.yaml
    assert child.policy.model_name == "meta-llama/Llama-3.1-8B"  # the child's value
    assert child.policy.precision == "bfloat16"  # inherited
    (tmp_path / "base.yaml").write_text("a: {x: 1, y: 2}\nb: 1\n")
    (tmp_path / "mid.yaml").write_text("defaults: base.yaml\nb: 2\n")
    (tmp_path / "top.yaml").write_text(f"defaults: [{tmp_path}/mid.yaml]\na: {{_override_: true, z: 3}}\n")
    top = load_nemo_rl_config(tmp_path / "top.yaml")
    assert dict(top) == {"a": {"z": 3}, "b": 2}
    with pytest.raises(ConfigError, match="is not on this machine"):
        load_nemo_rl_config(tmp_path / "missing.yaml")


def test_default_config_must_be_readable_here(tmp_path, data):
    plan = nemo_rl_plan("sft", tmp_path, data, tmp_path / "no-checkout")
    with pytest.raises(ConfigError, match=r"no-checkout/examples/configs/sft.yaml is not on this machine"):
        build_nemo_rl_pipeline(plan)


def verl_plan(tmp_path, data, overrides=(), **training) -> VerlPlan:
    options = TrainingOptions(
        model="/models/qwen",
        training_data=data["train.parquet"],
        output_dir=str(tmp_path / "out"),
        num_gpus=4,
        overrides=list(overrides),
        **training,
    )
    return VerlPlan(options, VerlOptions(), JobOptions(expname="ppo", exclusive=True))


def test_ppo_verl_renders_main_ppo_with_checked_overrides(tmp_path, data, verl_config_dir):
    plan = verl_plan(tmp_path, data, ["++algorithm.adv_estimator=grpo"], wandb_name="run1", with_sandbox=True)
    pipeline = build_verl_pipeline(plan)
    trainer = trainer_of(pipeline)
    out = tmp_path / "out"
    assert trainer.workdir is None
    assert trainer.argv == [
        "python3",
        "-m",
        "verl.trainer.main_ppo",
        f"data.train_files={data['train.parquet']}",
        f"data.val_files={data['train.parquet']}",
        "actor_rollout_ref.model.path=/models/qwen",
        "critic.model.path=/models/qwen",
        "trainer.n_gpus_per_node=4",
        "trainer.nnodes=1",
        f"trainer.default_local_dir={out}/checkpoints",
        "trainer.resume_mode=auto",
        "trainer.save_freq=20",
        "trainer.logger=[console,wandb]",
        "trainer.project_name=nemo-skills",
        "trainer.experiment_name=run1",
        "trainer.val_before_train=false",
        "trainer.test_freq=-1",
        # our math reward by default; without a container, the installed nemo_skills' file
        f"custom_reward_function.path={Path(nemo_skills.__file__).parent}/training/rewards/verl_reward.py",
        "custom_reward_function.name=compute_score",
        "++algorithm.adv_estimator=grpo",
    ]
    group = pipeline.jobs[0].groups[0]
    assert [c.name for c in group.commands] == ["trainer", "sandbox"]
    script = group.commands[0].script.command(_ctx(pipeline, pipeline.jobs[0]))
    sandbox_port = group.commands[1].script.port
    assert f"export NEMO_SKILLS_SANDBOX_PORT={sandbox_port}" in script
    config = pipeline.jobs[1].groups[0].commands[0].script.config
    assert (config.format, config.input, config.output) == ("fsdp", [f"{out}/checkpoints"], f"{out}/final_hf_model")


@pytest.mark.parametrize(
    ("launcher", "user", "expected"),
    [
        (["trainer.n_gpus_per_nod=4"], [], r"\(rendered by the launcher\).*Did you mean 'trainer.n_gpus_per_node'"),
        ([], ["++actor_rollout_ref.rollout.temprature=0.6"], "Did you mean 'actor_rollout_ref.rollout.temperature'"),
        ([], ["model_engine=megatorn"], "Could not find 'model_engine/megatorn'"),
        ([], ["actor_rollout_ref.actor.megatron.tensor_model_parallel_size=2"], "Unknown key"),  # dp engine
    ],
)
def test_verl_override_rules(verl_config_dir, launcher, user, expected):
    with pytest.raises(ConfigError, match=expected):
        check_verl_overrides(verl_config_dir, launcher, user)


def test_verl_group_choice_changes_which_keys_exist(verl_config_dir, tmp_path, data):
    user = ["model_engine=megatron", "actor_rollout_ref.actor.megatron.tensor_model_parallel_size=2"]
    config = check_verl_overrides(verl_config_dir, [], user)
    assert config.actor_rollout_ref.actor.strategy == "megatron"
    with pytest.raises(ConfigError, match="not supported yet"):
        build_verl_pipeline(verl_plan(tmp_path, data, user))


def test_option_errors(tmp_path, data, nemo_rl_dir):
    for change, message in [
        ({"conversion_step": "final"}, "use `last`, a step number, or `none`"),
        ({"conversion_step": "100", "average_steps": "1,2"}, "not both"),
        ({"average_steps": "1,x"}, "give checkpoint steps"),
        ({"training_data": str(tmp_path / "nope.jsonl")}, "Training data .* does not exist"),
    ]:
        plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir)
        for key, value in change.items():
            setattr(plan.training, key, value)
        with pytest.raises(ConfigError, match=message):
            build_nemo_rl_pipeline(plan)


def test_cli_dry_run_and_cli_error(tmp_path, data, nemo_rl_dir):
    base = [sys.executable, "-c", "from nemo_skills.pipeline.cli import main; main()", "sft_nemo_rl"]
    args = ["--model", "m", "--training_data", data["train.jsonl"], "--output_dir", str(tmp_path / "o")]
    args += ["--num_gpus", "2", "--nemo_rl_dir", str(nemo_rl_dir), "--disable_wandb", "--dry_run"]
    env = {k: v for k, v in os.environ.items() if k != "NEMO_SKILLS_CONFIG"}
    done = subprocess.run([*base, *args, "++sft.max_num_steps=7"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "Pipeline 'sft_nemo_rl' on executor 'none': 2 job(s)" in done.stdout
    assert "examples/run_sft.py" in done.stdout and "++sft.max_num_steps=7" in done.stdout
    bad = subprocess.run([*base, *args, "++sft.max_num_step=7"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Did you mean 'sft.max_num_steps'" in bad.stderr, bad.stderr


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


def test_ray_start_up_runs_the_trainer_on_a_local_head(tmp_path):
    """The rendered start-up, run for real with a `ray` stand-in (Ray itself needs GPUs / a real cluster)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    _stand_in(
        bin_dir,
        "ray",
        f'echo "$*" >> {calls}\ncase "$1" in status) echo " 0.0/1.0 nemo_skills_node";; esac\nexit 0\n',
    )
    spec = RayClusterSpec(num_nodes=1, gpus_per_node=0, port=6380, marker_dir=str(tmp_path / "m"), on_slurm=False)
    trainer = f'echo "trainer sees $RAY_ADDRESS $FOO" >> {calls}; exit 3'
    script = ray_start_script(spec, trainer, {"FOO": "bar baz"})
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("SLURM_NODEID", None)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 3  # the trainer's code
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("start --head --port=6380 --num-gpus=0 --resources={")
    assert lines[1] == "status"
    assert lines[2] == "trainer sees 127.0.0.1:6380 bar baz"
    assert lines[3] == "stop"
    assert (tmp_path / "m" / "ray-local.done").read_text().strip() == "3"


def test_ray_head_gives_up_when_nodes_do_not_join(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stand_in(bin_dir, "ray", 'case "$1" in status) echo " 0.0/1.0 nemo_skills_node";; esac\nexit 0\n')
    spec = RayClusterSpec(2, 0, 6381, str(tmp_path), join_timeout_s=1, poll_s=1, on_slurm=False)
    script = ray_start_script(spec, "echo trainer-ran")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("SLURM_NODEID", None)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1 and "trainer-ran" not in done.stdout
    assert "only 1 of 2 node(s) joined the Ray cluster within 1 s" in done.stderr


def test_small_helpers():
    assert [slurm_seconds(t) for t in ("30", "10:00", "04:00:00", "1-00", "2-01:30:00")] == [
        1800,
        600,
        14400,
        86400,
        (2 * 24 + 1) * 3600 + 1800,
    ]
    assert save_deadline("1-00:00:00") == "00:23:45:00" and save_deadline("00:10:00") is None
    with pytest.raises(ConfigError):
        slurm_seconds("soon")
    assert hydra_value("/a/b-1.jsonl") == "/a/b-1.jsonl"
    assert (
        hydra_value("my run") == "'my run'" and hydra_value("it's") == "'it\\'s'" and hydra_value("null") == "'null'"
    )
    assert hydra_value(True) == "true" and hydra_value(None) == "null" and hydra_value(0.05) == "0.05"


def test_the_verl_image_pins_the_release_the_launcher_checks_against():
    from nemo_skills.training.launchers.verl_config import VERL_VERSION

    dockerfile = (Path(__file__).resolve().parents[1] / "dockerfiles" / "Dockerfile.verl").read_text()
    assert f"ARG VERL_VERSION={VERL_VERSION}\n" in dockerfile


@pytest.mark.slow
def test_chained_jobs_run_for_real_under_none_after_a_failed_predecessor(tmp_path, data, nemo_rl_dir, monkeypatch):
    """Executor `none`: the local Ray head (a `ray` stand-in) and the trainer (`uv` stand-in) run for real; the
    first run fails like a time-out, the chained job (afterany) still runs, resumes, and succeeds."""
    from nemo_skills.pipeline.run import JobFailedError, run_pipeline

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "runs"
    _stand_in(bin_dir, "ray", 'case "$1" in status) echo " 0.0/1.0 nemo_skills_node";; esac\nexit 0\n')
    _stand_in(bin_dir, "uv", f'echo "$PWD|$RAY_ADDRESS|$*" >> {runs}\n[ "$(wc -l < {runs})" -ge 2 ] || exit 3\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.delenv("NEMO_SKILLS_CONFIG", raising=False)
    plan = nemo_rl_plan(
        "sft", tmp_path, data, nemo_rl_dir, disable_wandb=True, num_training_jobs=2, conversion_step="none"
    )
    pipeline = build_nemo_rl_pipeline(plan)
    rendered = pipeline.render()
    assert "did not succeed" not in rendered[1].groups[0][0].command  # afterany: no check of the predecessor
    with pytest.raises(JobFailedError) as error:
        run_pipeline(pipeline)
    assert "Job exp failed (trainer: 3)" in str(error.value) and "exp-dep1" not in str(error.value)
    lines = runs.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        cwd, address, argv = line.split("|")
        assert cwd == str(nemo_rl_dir) and address.startswith("127.0.0.1:")
        assert argv.split(" ") == trainer_of(pipeline).argv[1:]


@pytest.mark.slow
def test_ray_start_up_with_the_real_ray_cli(tmp_path):
    """The start-up script with Ray itself (a dependency of nemo-run's leptonai) on one CPU node: the head starts,
    `ray status` reports the node resource the script counts, and the trainer connects through RAY_ADDRESS."""
    ray_cli = Path(sys.executable).parent / "ray"
    if not ray_cli.exists():
        pytest.skip("no Ray CLI in this environment")
    from nemo_skills.inference.server.local import free_port

    spec = RayClusterSpec(1, 0, free_port(), str(tmp_path), join_timeout_s=120, on_slurm=False, ray=str(ray_cli))
    probe = "import ray; ray.init(); print('resources', ray.cluster_resources().get('nemo_skills_node'))"
    script = ray_start_script(spec, shlex.join([sys.executable, "-c", probe]))
    env = {k: v for k, v in os.environ.items() if k not in ("SLURM_NODEID", "RAY_ADDRESS")}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "[ray] all 1 node(s) joined; starting the trainer" in done.stdout
    assert "resources 1.0" in done.stdout
    assert (tmp_path / "ray-local.done").read_text().strip() == "0"


def test_a_local_config_travels_in_the_job_composed_exactly_as_checked(tmp_path, data, nemo_rl_dir):
    """`--config` names a file on this machine, under no mount of a Slurm cluster with containers: the job writes
    the checked config (its `defaults:` parent merged in) next to the checkpoints and trains with that file."""
    cluster = tmp_path / "slurm.yaml"
    cluster.write_text(
        f"executor: slurm\njob_dir: {tmp_path}/jobs\npartition: batch\ncontainers: {{nemo-rl: 'nemo-rl:v0.4.0'}}\n"
        f"mounts: ['{tmp_path}:/workspace']\nenv_vars: [HF_HOME=/workspace/hf]\n"
    )
    plan = nemo_rl_plan("sft", tmp_path, data, nemo_rl_dir, ["++sft.val_period=7"], disable_wandb=True)
    plan.job.cluster = str(cluster)
    plan.nemo_rl.config = str(NEMO_RL_CONFIGS / "sft_openmathinstruct2.yaml")  # `defaults: sft.yaml`, no mount
    trainer = trainer_of(build_nemo_rl_pipeline(plan))
    job_config = "/workspace/out/nemo_rl_sft_config.yaml"
    assert trainer.argv[trainer.argv.index("--config") + 1] == job_config
    assert list(trainer.files) == [job_config]

    # run the write step for real, with the job's path moved under tmp_path
    local_copy = tmp_path / "job-view" / "nemo_rl_sft_config.yaml"
    write_step = trainer.shell().split(" && cd ")[0].replace(job_config, str(local_copy))
    write_step = write_step.replace("/workspace/out", str(local_copy.parent))
    subprocess.run(["bash", "-c", write_step], check=True)
    from omegaconf import OmegaConf

    written = OmegaConf.load(local_copy)
    composed = load_nemo_rl_config(NEMO_RL_CONFIGS / "sft_openmathinstruct2.yaml")
    assert "defaults" not in written
    assert OmegaConf.to_container(written, resolve=False) == OmegaConf.to_container(composed, resolve=False)
    assert written.sft.max_num_steps == 1000000  # the child's value, over sft.yaml's
    assert "policy" in written  # from the parent


def test_trainer_on_slurm_reads_its_sandboxs_port_chosen_when_the_job_starts(tmp_path, data, verl_config_dir):
    config = tmp_path / "slurm.yaml"
    config.write_text(f"executor: slurm\njob_dir: {tmp_path}/jobs\npartition: batch\n")
    plan = verl_plan(tmp_path, data, [], with_sandbox=True, disable_wandb=True)
    plan.job.cluster = str(config)
    rendered = build_verl_pipeline(plan).render()[0]
    trainer = next(command for command in rendered.groups[0] if command.name == "trainer")
    sandbox = next(command for command in rendered.groups[0] if command.name == "sandbox")
    # unquoted, so that the shell expands the port the sandbox published
    assert 'export NEMO_SKILLS_SANDBOX_PORT="${NEMO_SKILLS_PORT_0}"' in trainer.command
    assert "NEMO_SKILLS_PORT_0=$(cat" in trainer.command
    assert '--port "${NEMO_SKILLS_PORT_0}"' in sandbox.command and ".claim" in sandbox.command


@pytest.mark.parametrize(
    ("reward", "expected"),
    [
        (
            "tool_call",
            [
                "custom_reward_function.path=" + IMAGE_REWARD_FILE,
                "custom_reward_function.name=compute_tool_call_score",
            ],
        ),
        ("verl", []),
    ],
)
def test_ppo_verl_reward_choice_in_an_image(tmp_path, data, verl_config_dir, reward, expected):
    config = tmp_path / "slurm.yaml"
    mounts = f"containers: {{verl: 'verl:0.9.1'}}\nmounts: ['{tmp_path}:{tmp_path}']\nskip_hf_home_check: true\n"
    config.write_text(f"executor: slurm\njob_dir: {tmp_path}/jobs\npartition: batch\n" + mounts)
    plan = verl_plan(tmp_path, data, [], disable_wandb=True)
    plan.job.cluster = str(config)
    plan.verl.reward = reward
    argv = trainer_of(build_verl_pipeline(plan)).argv
    assert [arg for arg in argv if arg.startswith("custom_reward_function")] == expected
    # the file the image holds is the one this package ships
    assert (Path(nemo_skills.__file__).parent / "training" / "rewards" / "verl_reward.py").is_file()


def test_ppo_verl_unknown_reward_is_refused(tmp_path, data, verl_config_dir):
    plan = verl_plan(tmp_path, data, [], disable_wandb=True)
    plan.verl.reward = "maths"
    with pytest.raises(ConfigError, match="--reward 'maths': use one of math, tool_call, verl"):
        build_verl_pipeline(plan)
