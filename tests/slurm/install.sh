#!/usr/bin/env bash
# Install the Slurm daemons/clients and munge for the loopback test cluster (tests/slurm/loopback_cluster.py).
# Idempotent: returns in well under a second when everything is already installed.
# Debian/Ubuntu only (apt). Needs root, or sudo without a password.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)
BINARIES=(slurmctld slurmd sbatch srun squeue scontrol sinfo scancel munged)

versions() {
  dpkg-query -W -f='${Package} ${Version}; ' "${PACKAGES[@]}" 2>/dev/null || true
}

have_all() {
  local b
  for b in "${BINARIES[@]}"; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
  done
}

if have_all; then
  echo "slurm + munge already installed ($(versions))"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install.sh: need root or sudo to apt-get install" >&2; exit 1; }
  SUDO=(sudo -n)
fi
command -v apt-get >/dev/null 2>&1 || { echo "install.sh: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# No recommends: keeps it to the daemons, the clients and munge (no mail server, no docs).
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1 \
  || "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"  # on failure, again with the output

# The packages' own services (if an init system started them) would use /etc/slurm and the system munge
# socket; the loopback cluster runs its own daemons with its own config, so nothing else is configured here.
have_all || { echo "install.sh: slurm binaries still missing after apt-get install" >&2; exit 1; }
echo "installed $(versions)"
