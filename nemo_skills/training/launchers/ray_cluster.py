"""The start-up script of a Ray cluster across a job's nodes, rendered into the training job.

The job runs one task per node (Slurm: `srun` with one task per node, node rank in `$SLURM_NODEID`):
- node 0 starts the Ray head, waits until every node has joined (each node brings one `nemo_skills_node` resource,
  counted in `ray status`), runs the trainer with `RAY_ADDRESS` pointing at the head, then records the trainer's
  exit code in a marker file on the shared log folder and stops Ray;
- every other node runs `ray start --address=<head>:<port> --block` (retried while the head is not up yet) until
  the marker appears, then stops Ray and exits 0, so that Slurm's step ends with the trainer.
A head that does not see every node within the join timeout stops with a message naming how many joined. Under
executor `none` (one node) the same script starts a local head and runs the trainer.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

NODE_RESOURCE = "nemo_skills_node"


@dataclass(frozen=True)
class RayClusterSpec:
    num_nodes: int
    gpus_per_node: int
    port: int
    marker_dir: str  # a folder every node sees (the job's log folder), as the job sees it
    join_timeout_s: int = 900
    poll_s: int = 3
    on_slurm: bool = True
    ray: str = "ray"  # the Ray CLI in the trainer's environment


def ray_start_script(spec: RayClusterSpec, trainer: str, env: dict[str, str] | None = None) -> str:
    """Shell that brings the cluster up on every node and runs `trainer` (a shell command) on node 0."""
    ray = shlex.quote(spec.ray)
    resources = shlex.quote(json.dumps({NODE_RESOURCE: 1}))
    common = f"--num-gpus={spec.gpus_per_node} --resources={resources} --disable-usage-stats"
    # the allocation's first node; without Slurm's tools (some images), the node the batch script runs on: the same
    first = '$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n1)'
    head_host = f"{first}; head_host=${{head_host:-$SLURM_LAUNCH_NODE_IPADDR}}" if spec.on_slurm else "127.0.0.1"
    marker = shlex.quote(spec.marker_dir) + '/ray-"${SLURM_JOB_ID:-local}".done'
    from nemo_skills.inference.server.commands import to_shell  # quotes all but the placeholders set in the job

    exports = "".join(f"export {key}={to_shell([value])}; " for key, value in (env or {}).items())
    timeout, nodes = spec.join_timeout_s, spec.num_nodes
    count = f'{ray} status 2>/dev/null | awk \'$2 == "{NODE_RESOURCE}" {{split($1, a, "/"); print int(a[2]); exit}}\''
    return f"""\
head_host={head_host}
head_ip=$(getent hosts "$head_host" 2>/dev/null | awk '{{print $1; exit}}'); head_ip=${{head_ip:-$head_host}}
ray_address="$head_ip:{spec.port}"
done_marker={marker}
mkdir -p {shlex.quote(spec.marker_dir)}
node_rank=${{SLURM_NODEID:-0}}
echo "[ray] node $node_rank ($(hostname)): Ray head at $ray_address, {nodes} node(s)"
if [ "$node_rank" = 0 ]; then
  finish() {{ echo "$1" > "$done_marker"; {ray} stop >/dev/null 2>&1; exit "$1"; }}
  rm -f "$done_marker"
  {ray} start --head --port={spec.port} {common} || {{ echo "[ray] error: the Ray head did not start" >&2; finish 1; }}
  deadline=$((SECONDS + {timeout}))
  while :; do
    joined=$({count}); joined=${{joined:-0}}
    [ "$joined" -ge {nodes} ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[ray] error: only $joined of {nodes} node(s) joined the Ray cluster within {timeout} s" >&2
      finish 1
    fi
    sleep {spec.poll_s}
  done
  echo "[ray] all {nodes} node(s) joined; starting the trainer"
  export RAY_ADDRESS="$ray_address"
  ( {exports}{trainer} ); finish $?
else
  deadline=$((SECONDS + {timeout}))
  while :; do
    {ray} start --address="$ray_address" {common} --block & ray_pid=$!
    while kill -0 "$ray_pid" 2>/dev/null && [ ! -e "$done_marker" ]; do sleep {spec.poll_s}; done
    if [ -e "$done_marker" ]; then
      {ray} stop >/dev/null 2>&1; kill "$ray_pid" 2>/dev/null; wait "$ray_pid" 2>/dev/null
      echo "[ray] node $node_rank: training finished (code $(cat "$done_marker")); leaving"; exit 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[ray] error: node $node_rank could not stay in the Ray cluster at $ray_address ({timeout} s)" >&2; exit 1
    fi
    sleep {spec.poll_s}
  done
fi"""
