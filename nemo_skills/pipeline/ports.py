"""Ports that are free where the service runs.

Off Slurm a job runs on this machine, so a port found free here is the one to use. On Slurm it runs on a node
nobody knows at submission, where that port may be taken: there the service's first task, on the service's first
node, asks the kernel for a free port when the job starts and writes it to the job's sync folder (shared by every
task of the job, het groups included); every task of the job reads it from there into `$NEMO_SKILLS_PORT_<k>`,
which the rendered commands use. A requeued job (`SLURM_RESTART_COUNT`) chooses again.
"""

from __future__ import annotations

import shlex

PORT_VAR = "NEMO_SKILLS_PORT_{index}"
# asks the kernel for a port that nothing on this node listens on
_FREE_PORT = "import socket; s = socket.socket(); s.bind(('', 0)); print(s.getsockname()[1])"


def port_placeholder(index: int) -> str:
    return "${" + PORT_VAR.format(index=index) + "}"


def port_file(sync_dir: str, index: int) -> str:
    return f"{sync_dir}/ports/{index}-${{SLURM_RESTART_COUNT:-0}}"


def claim_port_step(index: int, name: str, sync_dir: str, python: str) -> str:
    """Shell: on the first task of this step's first node, choose a free port and publish it (atomically)."""
    path = port_file(sync_dir, index)
    folder = shlex.quote(f"{sync_dir}/ports")
    return (
        f"mkdir -p {folder}; "
        'first_node=$(scontrol show hostnames "${SLURM_STEP_NODELIST:-$SLURM_JOB_NODELIST}" 2>/dev/null | head -n1); '
        # (without scontrol, e.g. outside Slurm, whichever task comes first claims)
        f'if {{ [ -z "$first_node" ] || [ "${{SLURMD_NODENAME:-$first_node}}" = "$first_node" ]; }} '
        f'&& mkdir "{path}.claim" 2>/dev/null; then '
        f"port=$({shlex.quote(python)} -c {shlex.quote(_FREE_PORT)}) || "
        f"{{ echo 'cannot choose a free port for {name}: {python} failed' >&2; exit 1; }}; "
        f'echo "$port" > "{path}.tmp" && mv "{path}.tmp" "{path}"; '
        f"echo '[ports] {name} listens on port '\"$port\"' of '\"$(hostname)\" >&2; fi"
    )


def await_port_step(index: int, name: str, sync_dir: str, timeout_s: float) -> str:
    """Shell: wait for the port of service `index` to be published, then export it."""
    path = port_file(sync_dir, index)
    var = PORT_VAR.format(index=index)
    seconds = max(1, int(timeout_s))
    return (
        f'for _ in $(seq {seconds}); do [ -s "{path}" ] && break; sleep 1; done; '
        f'if [ ! -s "{path}" ]; then echo "no port for {name} after {seconds} s: it did not start '
        f'(see its log)" >&2; exit 1; fi; '
        f'{var}=$(cat "{path}"); export {var}'
    )
