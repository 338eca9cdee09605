"""Cluster configs: schema, lookup, env-var and mount resolution, checks before submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.pipeline.cluster import (
    ClusterConfig,
    find_cluster_config,
    load_cluster_config,
    parse_cluster_config,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["example-none", "example-local", "example-slurm"])
def test_shipped_examples_are_valid(name):
    cfg = parse_cluster_config(REPO / "cluster_configs" / f"{name}.yaml")
    assert cfg.executor == name.split("-")[1]


def write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_unknown_key_is_refused_with_suggestion(tmp_path):
    path = write(tmp_path, "executor: slurm\njob_dir: /jobs\npartiton: batch\n")
    with pytest.raises(ConfigError, match=r"partiton: Extra inputs are not permitted Did you mean 'partition'"):
        parse_cluster_config(path)


def test_slurm_needs_a_job_dir_or_tunnel(tmp_path):
    with pytest.raises(ConfigError, match="ssh_tunnel .* or job_dir"):
        parse_cluster_config(write(tmp_path, "executor: slurm\n"))
    with pytest.raises(ConfigError, match="absolute"):
        parse_cluster_config(write(tmp_path, "executor: slurm\njob_dir: relative/dir\n"))


def test_bad_executor_and_time_are_named(tmp_path):
    with pytest.raises(ConfigError, match="executor"):
        parse_cluster_config(write(tmp_path, "executor: kubernetes\n"))
    with pytest.raises(ConfigError, match="timeouts.batch"):
        parse_cluster_config(write(tmp_path, "executor: slurm\njob_dir: /j\ntimeouts:\n  batch: four hours\n"))


def test_lookup_by_name_in_config_dir_and_env(tmp_path, monkeypatch):
    write(tmp_path, "executor: none\n", "mycluster")
    assert find_cluster_config("mycluster", str(tmp_path)) == tmp_path / "mycluster.yaml"
    monkeypatch.setenv("NEMO_SKILLS_CONFIG_DIR", str(tmp_path))
    assert load_cluster_config("mycluster").executor == "none"
    with pytest.raises(ConfigError, match=r"No cluster config 'mycluser'.*Did you mean 'mycluster'"):
        load_cluster_config("mycluser")


def test_no_cluster_means_this_machine(monkeypatch):
    monkeypatch.delenv("NEMO_SKILLS_CONFIG", raising=False)
    assert load_cluster_config(None) == ClusterConfig(executor="none")


def test_env_resolution():
    cfg = ClusterConfig(
        executor="none", env_vars=["A", "B=fixed", "C=${HOME_X}/sub", "MISSING"], required_env_vars=["TOKEN"]
    )
    environ = {"A": "from-shell", "HOME_X": "/home/x", "TOKEN": "t", "HF_TOKEN": "hf"}
    assert cfg.resolved_env(environ) == {
        "TOKEN": "t",
        "A": "from-shell",
        "B": "fixed",
        "C": "/home/x/sub",
        "HF_TOKEN": "hf",
    }
    with pytest.raises(ConfigError, match="Required environment variable TOKEN"):
        cfg.resolved_env({})
    with pytest.raises(ConfigError, match="refers to NOPE"):
        ClusterConfig(executor="none", env_vars=["X=$NOPE"]).resolved_env({})


def test_mounts_resolve_and_map_paths(tmp_path):
    cfg = ClusterConfig(executor="local", mounts=["{DATA}:/data", "/models:/models"], containers={"x": "img"})
    environ = {"DATA": str(tmp_path)}
    assert cfg.container_path(str(tmp_path / "x" / "f.jsonl"), environ) == "/data/x/f.jsonl"
    with pytest.raises(ConfigError, match="not under any mount"):
        cfg.container_path("/elsewhere/f", environ)
    with pytest.raises(ConfigError, match=r"uses \{DATA\}"):
        cfg.resolved_mounts({})
    with pytest.raises(ConfigError, match="must look like"):
        ClusterConfig(executor="local", mounts=["nocolon"]).resolved_mounts({})
    assert ClusterConfig(executor="none").container_path("/any/path") == "/any/path"


def test_checks_before_submit(tmp_path):
    existing = tmp_path / "hf"
    existing.mkdir()
    good = ClusterConfig(executor="local", mounts=[f"{existing}:/hf_home"], env_vars=["HF_HOME=/hf_home/cache"])
    good.check_before_submit({})
    missing_source = ClusterConfig(executor="local", mounts=[f"{tmp_path}/nope:/x"], skip_hf_home_check=True)
    with pytest.raises(ConfigError, match="Mount source .*nope does not exist"):
        missing_source.check_before_submit({})
    images = {"nemo-skills": "nemo-skills:latest"}
    no_hf = ClusterConfig(executor="local", mounts=[f"{existing}:/hf_home"], containers=images)
    with pytest.raises(ConfigError, match="HF_HOME is not set"):
        no_hf.check_before_submit({})
    unmounted = ClusterConfig(
        executor="local", mounts=[f"{existing}:/hf_home"], env_vars=["HF_HOME=/tmp/hf"], containers=images
    )
    with pytest.raises(ConfigError, match="not under any mount"):
        unmounted.check_before_submit({})
    ClusterConfig(executor="none").check_before_submit({})  # nothing to check on this machine
    # without containers jobs use this machine's environment: HF_HOME needs no mount
    ClusterConfig(executor="slurm", job_dir="/j").check_before_submit({})
