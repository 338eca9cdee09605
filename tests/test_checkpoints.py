"""Checkpoint conversion and averaging on real saved formats of the tiny model, on CPU.

NeMo-RL's layout is written with torch.distributed.checkpoint exactly as NeMo-RL calls it (`{"model": state}`),
veRL's with `torch.save(model.state_dict())` per rank of a real 2-process gloo group under FSDP2 and FSDP1.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("safetensors")

from safetensors.torch import load_file, save_file  # noqa: E402

from nemo_skills.errors import ConfigError, InputError  # noqa: E402
from nemo_skills.training.checkpoints import ConvertConfig, conversion_command, convert_checkpoint  # noqa: E402
from nemo_skills.training.checkpoints.average import average_state_dicts  # noqa: E402
from nemo_skills.training.checkpoints.convert import parse_args  # noqa: E402
from nemo_skills.training.checkpoints.layout import find_steps, select_checkpoints  # noqa: E402

INPUT_IDS = [[1, 5, 17, 300, 1000, 42, 7, 1999]]
WORLD_SIZE = 2


def _logits(model_dir: Path) -> torch.Tensor:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    with torch.no_grad():
        return model(torch.tensor(INPUT_IDS)).logits


def _perturbed(state_dict: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {k: v + 0.01 * torch.randn(v.shape, generator=generator) for k, v in state_dict.items()}


def _hf_copy(source: Path, target: Path, state_dict: dict[str, torch.Tensor]) -> Path:
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file() and path.name != "model.safetensors":
            shutil.copy2(path, target / path.name)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(target / "model.safetensors"))
    return target


def _save_nemo_rl_step(checkpoint_dir: Path, step: int, state_dict: dict[str, torch.Tensor], base: Path) -> Path:
    """A NeMo-RL step folder: DCP weights wrapped in {"model": ...}, the tokenizer, the run's config.yaml."""
    import torch.distributed.checkpoint as dcp
    from transformers import AutoTokenizer

    step_dir = checkpoint_dir / f"step_{step}"
    with warnings.catch_warnings():  # "assuming the intent is to save in a single process": it is
        warnings.simplefilter("ignore")
        dcp.save({"model": state_dict}, checkpoint_id=str(step_dir / "policy" / "weights"), no_dist=True)
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(step_dir / "policy" / "tokenizer"))
    (step_dir / "config.yaml").write_text(f"policy:\n  model_name: {base}\n")
    (step_dir / "training_info.json").write_text(json.dumps({"step": step}))
    return step_dir


@pytest.fixture(scope="module")
def base(tiny_model_dir: Path) -> dict:
    return {"dir": tiny_model_dir, "state": load_file(str(tiny_model_dir / "model.safetensors"))}


@pytest.fixture(scope="module")
def reference_logits(base: dict) -> torch.Tensor:
    return _logits(base["dir"])


@pytest.fixture(scope="module")
def nemo_rl_run(base: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """results/<exp>/checkpoints/step_{10,20} (20 = the original weights) and an unfinished tmp_step_30."""
    run = tmp_path_factory.mktemp("nemo-rl") / "sft-run"
    checkpoints = run / "checkpoints"
    _save_nemo_rl_step(checkpoints, 10, _perturbed(base["state"], seed=1), base["dir"])
    _save_nemo_rl_step(checkpoints, 20, dict(base["state"]), base["dir"])
    (checkpoints / "tmp_step_30" / "policy" / "weights").mkdir(parents=True)
    return run


# ------------------------------------------------------------------------------------------------ DCP


def test_dcp_keys_carry_nemo_rl_model_prefix(nemo_rl_run: Path):
    from torch.distributed.checkpoint import FileSystemReader

    metadata = FileSystemReader(str(nemo_rl_run / "checkpoints/step_20/policy/weights")).read_metadata()
    assert "model.model.embed_tokens.weight" in metadata.state_dict_metadata
    assert "model.lm_head.weight" in metadata.state_dict_metadata


def test_dcp_final_step_converts_to_identical_model(nemo_rl_run: Path, reference_logits, base, tmp_path):
    output = convert_checkpoint(ConvertConfig(input=[str(nemo_rl_run)], output=str(tmp_path / "hf")))
    assert torch.equal(_logits(output), reference_logits)
    from transformers import AutoTokenizer

    text = "Alice finds 3 apples at the park."
    assert (
        AutoTokenizer.from_pretrained(str(output))(text).input_ids
        == AutoTokenizer.from_pretrained(str(base["dir"]))(text).input_ids
    )
    record = json.loads((output / "nemo_skills_conversion.json").read_text())
    assert [c["step"] for c in record["checkpoints"]] == [20]
    assert record["tokenizer_source"].endswith("step_20/policy/tokenizer")
    assert json.loads((output / "config.json").read_text())["dtype"] == "float32"
    assert not list(tmp_path.glob(".*converting"))


def test_step_choice_and_missing_step(nemo_rl_run: Path, base, tmp_path):
    assert list(find_steps(nemo_rl_run)) == [10, 20]  # tmp_step_30 is a save in progress
    [chosen] = select_checkpoints(nemo_rl_run / "checkpoints", step=10)
    assert chosen.step == 10 and chosen.base_model == str(base["dir"])
    output = convert_checkpoint(ConvertConfig(input=[str(nemo_rl_run)], output=str(tmp_path / "s10"), step=10))
    expected = _perturbed(base["state"], seed=1)
    converted = load_file(str(output / "model.safetensors"))
    assert all(torch.equal(converted[k], expected[k]) for k in expected)
    with pytest.raises(InputError, match="Step 15 is not in .*saved steps: 10, 20"):
        select_checkpoints(nemo_rl_run, step=15)
    with pytest.raises(InputError, match="already exists"):
        convert_checkpoint(ConvertConfig(input=[str(nemo_rl_run)], output=str(tmp_path / "s10"), step=10))
    with pytest.raises(InputError, match="looks like a dcp checkpoint, not fsdp"):
        select_checkpoints(nemo_rl_run, format="fsdp")


def test_average_dcp_steps_is_the_exact_float32_mean(nemo_rl_run: Path, base, tmp_path):
    config = ConvertConfig(input=[str(nemo_rl_run)], output=str(tmp_path / "avg"), average_steps=[10, 20])
    output = convert_checkpoint(config)
    averaged = load_file(str(output / "model.safetensors"))
    step10 = _perturbed(base["state"], seed=1)
    for key, tensor in base["state"].items():
        assert torch.equal(averaged[key], (step10[key] + tensor) / 2), key


def test_single_step_folder_and_wrong_base_model(nemo_rl_run: Path, base, tmp_path):
    bad_base = tmp_path / "bad-base"
    shutil.copytree(base["dir"], bad_base)
    config = json.loads((bad_base / "config.json").read_text())
    (bad_base / "config.json").write_text(json.dumps({**config, "intermediate_size": 512}))
    step_dir = nemo_rl_run / "checkpoints" / "step_20"
    with pytest.raises(InputError, match=r"layers\.0\.mlp\.\w+\.weight has shape \(\d+, \d+\), the config expects"):
        convert_checkpoint(ConvertConfig(input=[str(step_dir)], output=str(tmp_path / "o"), base_model=str(bad_base)))
    assert not (tmp_path / "o").exists()
    with pytest.raises(ConfigError, match="single checkpoint"):
        select_checkpoints(step_dir, step=20)


def test_dcp_in_hugging_face_storage_format(base, reference_logits, tmp_path):
    """NeMo-RL's `model_save_format: safetensors`: weights/model/*.safetensors read through DCP's HF reader."""
    import torch.distributed.checkpoint as dcp

    weights = tmp_path / "ckpt" / "step_3" / "policy" / "weights"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save(
            dict(base["state"]), storage_writer=dcp.HuggingFaceStorageWriter(str(weights / "model")), no_dist=True
        )
    (weights / "model" / ".hf_metadata").mkdir()
    shutil.copy2(base["dir"] / "config.json", weights / "model" / ".hf_metadata" / "config.json")
    config = ConvertConfig(input=[str(tmp_path / "ckpt")], output=str(tmp_path / "hf"), base_model=str(base["dir"]))
    assert torch.equal(_logits(convert_checkpoint(config)), reference_logits)


def test_tied_embeddings_are_written_once(base, tmp_path):
    tied = tmp_path / "tied-base"
    shutil.copytree(base["dir"], tied)
    config = json.loads((tied / "config.json").read_text())
    (tied / "config.json").write_text(json.dumps({**config, "tie_word_embeddings": True}))
    state = {k: v for k, v in base["state"].items() if k != "lm_head.weight"}
    save_file(state, str(tied / "model.safetensors"))
    trained = {**state, "lm_head.weight": state["model.embed_tokens.weight"].clone()}  # as the trainer saves it
    _save_nemo_rl_step(tmp_path / "run", 1, trained, tied)
    output = convert_checkpoint(ConvertConfig(input=[str(tmp_path / "run")], output=str(tmp_path / "hf")))
    assert "lm_head.weight" not in load_file(str(output / "model.safetensors"))
    assert torch.equal(_logits(output), _logits(tied))


# ------------------------------------------------------------------------------------------ averaging


def test_average_hf_checkpoints_exact_mean_weights_and_dtype(base, tmp_path):
    first = _perturbed(base["state"], seed=2)
    second = _perturbed(base["state"], seed=3)
    a = _hf_copy(base["dir"], tmp_path / "a", first)
    b = _hf_copy(base["dir"], tmp_path / "b", second)
    output = convert_checkpoint(ConvertConfig(input=[str(a), str(b)], output=str(tmp_path / "avg")))
    averaged = load_file(str(output / "model.safetensors"))
    assert all(torch.equal(averaged[k], (first[k] + second[k]) / 2) for k in first)
    assert (output / "tokenizer.json").is_file() and (output / "config.json").is_file()

    weighted = average_state_dicts([first, second], weights=[1.0, 3.0])
    for key in first:
        torch.testing.assert_close(weighted[key], (first[key] + 3 * second[key]) / 4, rtol=1e-6, atol=1e-7)

    halves = average_state_dicts([{k: v.bfloat16() for k, v in sd.items()} for sd in (first, second)])
    key = "model.norm.weight"
    assert halves[key].dtype == torch.bfloat16
    assert torch.equal(halves[key], ((first[key].bfloat16().float() + second[key].bfloat16().float()) / 2).bfloat16())


def test_average_rejects_mismatched_checkpoints(base):
    first = dict(base["state"])
    second = dict(base["state"])
    second["model.layers.1.mlp.up_proj.weight"] = torch.zeros(300, 128)
    with pytest.raises(InputError, match=r"model.layers.1.mlp.up_proj.weight has shape \(300, 128\) in b but"):
        average_state_dicts([first, second], names=["a", "b"])
    del second["model.layers.1.mlp.up_proj.weight"]
    with pytest.raises(InputError, match="b lacks 'model.layers.1.mlp.up_proj.weight', which a has"):
        average_state_dicts([first, second], names=["a", "b"])
    with pytest.raises(ConfigError, match="3 averaging weights for 2 checkpoints"):
        average_state_dicts([first, first], weights=[1, 1, 1])


# ---------------------------------------------------------------------------------------- command line


def test_conversion_command_round_trips():
    configs = [
        ConvertConfig(input=["/r/ckpts"], output="/r/hf"),
        ConvertConfig(input=["/r"], output="/o", format="fsdp", base_model="Qwen/Qwen3-0.6B", step=40),
        ConvertConfig(input=["/r"], output="/o", average_steps=[100, 200], average_weights=[1.0, 2.5], overwrite=True),
        ConvertConfig(input=["/a", "/b"], output="/o", dtype="bfloat16"),
    ]
    for config in configs:
        argv = conversion_command(config)
        assert argv[:3] == ["python", "-m", "nemo_skills.training.checkpoints"]
        assert parse_args(argv[3:]) == config
    assert "--average_steps" in conversion_command(configs[2]) and "100,200" in conversion_command(configs[2])
    with pytest.raises(ConfigError, match="either --step or --average_steps"):
        ConvertConfig(input=["/r"], output="/o", step=1, average_steps=[1, 2])


@pytest.mark.slow
def test_job_step_and_ns_convert_in_subprocesses(nemo_rl_run: Path, reference_logits, tmp_path):
    config = ConvertConfig(input=[str(nemo_rl_run)], output=str(tmp_path / "hf"), step=20)
    result = subprocess.run(conversion_command(config, python=sys.executable), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert torch.equal(_logits(tmp_path / "hf"), reference_logits)
    ns = [sys.executable, "-c", "from nemo_skills.pipeline.cli import main; main()"]
    missing = tmp_path / "nowhere"
    result = subprocess.run([*ns, "convert", "--input", str(missing), "--output", str(tmp_path / "x")], **_TEXT)
    assert result.returncode == 2 and f"error: Checkpoint path {missing} does not exist" in result.stderr
    assert "Traceback" not in result.stderr


_TEXT = {"capture_output": True, "text": True}


# ------------------------------------------------------------------------- veRL FSDP (and multi-rank DCP)


class _ModelState:
    """NeMo-RL's ModelState: DCP calls state_dict() on it (the Stateful protocol)."""

    def __init__(self, model):
        self.model = model

    def state_dict(self):
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(self.model, options=StateDictOptions(cpu_offload=True))

    def load_state_dict(self, state_dict):
        raise NotImplementedError


def _write_verl_hf_dir(actor: Path, model_dir: str) -> None:
    from transformers import AutoConfig, AutoTokenizer

    AutoConfig.from_pretrained(model_dir).save_pretrained(str(actor / "huggingface"))
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(str(actor / "huggingface"))
    (actor / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 2, "world_size": WORLD_SIZE}))


def _distributed_saves(rank: int, store: str, model_dir: str, out: str) -> None:
    """One rank of a gloo group: save the tiny model as veRL (FSDP2, FSDP1) and NeMo-RL (DCP) would."""
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FullyShardedDataParallel, ShardedStateDictConfig, StateDictType, fully_shard
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    from transformers import AutoModelForCausalLM

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD_SIZE)
    try:
        root = Path(out)
        mesh = init_device_mesh("cpu", (WORLD_SIZE,), mesh_dim_names=("fsdp",))
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        for layer in model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        actor = root / "verl-fsdp2" / "global_step_5" / "actor"
        actor.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), actor / f"model_world_size_{WORLD_SIZE}_rank_{rank}.pt")
        weights = root / "nemo-rl" / "checkpoints" / "step_7" / "policy" / "weights"
        dcp.save({"model": _ModelState(model)}, checkpoint_id=str(weights))

        fsdp1 = FullyShardedDataParallel(
            AutoModelForCausalLM.from_pretrained(model_dir),
            device_mesh=mesh,
            use_orig_params=True,
            device_id=torch.device("cpu"),
        )
        with FullyShardedDataParallel.state_dict_type(
            fsdp1, StateDictType.SHARDED_STATE_DICT, ShardedStateDictConfig()
        ):
            state = fsdp1.state_dict()
        actor1 = root / "verl-fsdp1" / "global_step_9" / "actor"
        actor1.mkdir(parents=True, exist_ok=True)
        torch.save(state, actor1 / f"model_world_size_{WORLD_SIZE}_rank_{rank}.pt")

        plain = FullyShardedDataParallel(  # no device mesh: ShardedTensors, which veRL never writes
            AutoModelForCausalLM.from_pretrained(model_dir), use_orig_params=True, device_id=torch.device("cpu")
        )
        with FullyShardedDataParallel.state_dict_type(
            plain, StateDictType.SHARDED_STATE_DICT, ShardedStateDictConfig()
        ):
            state = plain.state_dict()
        sharded_tensors = root / "sharded-tensors" / "global_step_1" / "actor"
        sharded_tensors.mkdir(parents=True, exist_ok=True)
        torch.save(state, sharded_tensors / f"model_world_size_{WORLD_SIZE}_rank_{rank}.pt")

        hsdp = init_device_mesh("cpu", (1, WORLD_SIZE), mesh_dim_names=("ddp", "fsdp"))
        odd = torch.arange(35.0).reshape(5, 7)
        extras = {
            "rows": distribute_tensor(odd, mesh, [Shard(0)]),  # 3 + 2 rows
            "cols": distribute_tensor(odd, mesh, [Shard(1)]),  # 4 + 3 columns
            "same": distribute_tensor(odd, mesh, [Replicate()]),
            "hsdp": distribute_tensor(odd, hsdp, [Replicate(), Shard(0)]),
        }
        torch.save(extras, root / f"extras_rank_{rank}.pt")
        if rank == 0:
            (root / "nemo-rl" / "checkpoints" / "step_7" / "config.yaml").write_text(
                f"policy:\n  model_name: {model_dir}\n"
            )
            _write_verl_hf_dir(actor, model_dir)
            _write_verl_hf_dir(actor1, model_dir)
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def distributed_saves(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch.multiprocessing as mp

    out = tmp_path_factory.mktemp("distributed")
    mp.spawn(_distributed_saves, args=(str(out / "store"), str(tiny_model_dir), str(out)), nprocs=WORLD_SIZE)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["verl-fsdp2", "verl-fsdp1"])
def test_verl_fsdp_shards_merge_to_identical_model(distributed_saves: Path, variant, reference_logits, tmp_path):
    [checkpoint] = select_checkpoints(distributed_saves / variant)
    assert checkpoint.format == "fsdp" and checkpoint.step in (5, 9)
    output = convert_checkpoint(ConvertConfig(input=[str(distributed_saves / variant)], output=str(tmp_path / "hf")))
    assert torch.equal(_logits(output), reference_logits)
    assert (output / "tokenizer.json").is_file()


@pytest.mark.slow
def test_multi_rank_dcp_from_fsdp2_converts(distributed_saves: Path, reference_logits, tmp_path):
    weights = distributed_saves / "nemo-rl" / "checkpoints" / "step_7" / "policy" / "weights"
    assert len(list(weights.glob("*.distcp"))) == WORLD_SIZE
    output = convert_checkpoint(ConvertConfig(input=[str(weights)], output=str(tmp_path / "hf")))
    assert torch.equal(_logits(output), reference_logits)


@pytest.mark.slow
def test_dtensor_placements_decide_the_merge(distributed_saves: Path):
    from nemo_skills.training.checkpoints.fsdp import merge_dtensor_shards

    ranks = [torch.load(distributed_saves / f"extras_rank_{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]
    assert ranks[0]["cols"].to_local().shape == (5, 4) and ranks[1]["rows"].to_local().shape == (2, 7)
    odd = torch.arange(35.0).reshape(5, 7)
    for key in ("rows", "cols", "same", "hsdp"):
        assert torch.equal(merge_dtensor_shards(key, [r[key] for r in ranks]), odd), key


@pytest.mark.slow
def test_missing_rank_file_and_sharded_tensors_are_reported(distributed_saves: Path, tiny_model_dir, tmp_path):
    actor = tmp_path / "global_step_5" / "actor"
    shutil.copytree(distributed_saves / "verl-fsdp2" / "global_step_5" / "actor", actor)
    (actor / f"model_world_size_{WORLD_SIZE}_rank_1.pt").unlink()
    with pytest.raises(InputError, match=r"rank file\(s\) \[1\] of world size 2 are missing"):
        convert_checkpoint(ConvertConfig(input=[str(actor)], output=str(tmp_path / "hf")))
    sharded_tensors = ConvertConfig(input=[str(distributed_saves / "sharded-tensors")], output=str(tmp_path / "st"))
    with pytest.raises(InputError, match="holds ShardedTensors .* only DTensor shards can be merged"):
        convert_checkpoint(dataclasses.replace(sharded_tensors, base_model=str(tiny_model_dir)))
