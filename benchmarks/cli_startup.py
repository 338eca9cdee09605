"""How long `ns --help` takes (target: under 0.3 s), as the median of several runs.

python benchmarks/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    command = [
        sys.executable,
        "-c",
        "import sys; sys.argv=['ns','--help']; from nemo_skills.pipeline.cli import main; main()",
    ]
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"ns --help: median {statistics.median(times):.3f} s, min {min(times):.3f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
