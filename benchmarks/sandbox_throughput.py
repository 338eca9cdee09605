"""Sandbox throughput: runs/s and latency for trivial programs, against a real sandbox server started here.

    python benchmarks/sandbox_throughput.py [--runs 200] [--concurrency 1 16] [--workers K] [--url URL]

Each run is `print(1+1)` in a fresh isolated process (python), plus one persistent-session (ipython) series.
Prints runs/s, p50 and p99 latency per concurrency level.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nemo_skills.code_execution.client import SandboxClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, runs: int, concurrency: int, language: str) -> dict[str, float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(runs):
        queue.put_nowait(i)

    async with SandboxClient(url) as client:

        async def worker(slot: int) -> None:
            session = f"bench-{slot}" if language == "ipython" else None
            while not queue.empty():
                queue.get_nowait()
                t0 = time.perf_counter()
                res = await client.execute("print(1+1)", language=language, session_id=session)
                latencies.append(time.perf_counter() - t0)
                if res.stdout != "2\n":
                    raise RuntimeError(f"wrong result: {res}")
            if session:
                await client.delete_session(session)

        if language == "ipython":  # warm the sessions up: session start is not what we measure
            await asyncio.gather(
                *(client.execute("0", language="ipython", session_id=f"bench-{s}") for s in range(concurrency))
            )
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in range(concurrency)))
        wall = time.perf_counter() - t0
    return {
        "runs_per_s": runs / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


async def bench(url: str, runs: int, levels: list[int]) -> None:
    async with SandboxClient(url) as client:
        health = await client.health()
    print(
        f"sandbox: {health['workers']['total']} workers, isolation {health['isolation']['network']}/"
        f"{health['isolation']['user']}, python {health['python']}, {os.cpu_count()} cores"
    )
    print(f"{'language':<9} {'conc':>4} {'runs':>5} {'runs/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for language in ("python", "ipython"):
        for conc in levels:
            n = runs if language == "python" else runs * 5
            m = await measure(url, n, conc, language)
            print(f"{language:<9} {conc:>4} {n:>5} {m['runs_per_s']:>8.1f} {m['p50_ms']:>8.1f} {m['p99_ms']:>8.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    p.add_argument("--workers", type=int, default=None, help="server workers (default: the server's 2*cores)")
    p.add_argument("--url", default=None, help="use a running sandbox instead of starting one")
    args = p.parse_args()
    if args.url:
        asyncio.run(bench(args.url, args.runs, args.concurrency))
        return
    port = free_port()
    argv = [sys.executable, "-m", "nemo_skills.code_execution.server", "--port", str(port)]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parents[1], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("sandbox server did not start") from None
                time.sleep(0.1)
        asyncio.run(bench(f"http://127.0.0.1:{port}", args.runs, args.concurrency))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
