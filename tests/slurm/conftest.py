"""The ``slurm_cluster`` session fixture: a real two-node Slurm cluster on this machine (loopback_cluster.py).

Tests that use it are marked ``@pytest.mark.slurm``. ``NEMO_SKILLS_SKIP_SLURM=1`` skips them; missing Slurm binaries
are a failure, not a skip (run ``tests/slurm/install.sh``), so that CI cannot silently lose these tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from loopback_cluster import INSTALL_HINT, LoopbackCluster, missing_binaries, start_cluster, stop_cluster

SKIP_SLURM_ENV = "NEMO_SKILLS_SKIP_SLURM"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    if os.environ.get(SKIP_SLURM_ENV) == "1":
        pytest.skip(f"{SKIP_SLURM_ENV}=1: not starting the loopback Slurm cluster")
    missing = missing_binaries()
    if missing:
        pytest.fail(f"Slurm/munge binaries not found ({', '.join(missing)}): {INSTALL_HINT}", pytrace=False)
    # node names resolve (to 127.0.0.1) as on a real cluster; a short backfill interval starts het jobs in ~1 s
    cluster = start_cluster(
        tmp_path_factory.mktemp("slurm-cluster"), num_nodes=2, cpus_per_node=1, etc_hosts=True, bf_interval=1
    )
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def slurm_jobs(slurm_cluster: LoopbackCluster) -> Iterator[list[str]]:
    """Append every submitted job id here: they are cancelled after the test, whatever happened."""
    jobs: list[str] = []
    yield jobs
    slurm_cluster.cancel(*jobs)
