"""Run a picklable function over many items in worker processes, with a hard time limit per item.

`grade_in_processes(function, items, item_timeout_s=...)` returns one `GradeOutcome` per item, in input order:

* `value`: what `function(item)` returned;
* `error`: set when the function raised (`"ValueError: ..."`), when it ran past the limit, when its result could not
  be sent back (unpicklable), or when the worker died while running it. A failed item never carries a value, so a
  failure cannot be mistaken for a pass;
* `timed_out`: True when the item ran longer than `item_timeout_s` and its worker was killed.

How the limit is enforced. Each worker writes the index of the item it is running into a shared-memory slot (a plain
store, no system call). The parent polls those slots; an item seen running for longer than `item_timeout_s` gets its
worker SIGKILLed and replaced. This stops anything (a C extension spinning while it holds the GIL, a process
that ignores signals, `time.sleep`), which no in-process mechanism can: signals need the interpreter to regain
control, and threads cannot be stopped at all. So there is no in-process mode: `num_workers=1` still runs one worker
process (started with `fork` when the caller is single-threaded, which costs milliseconds). The limit is measured
from when the worker starts the item, so time spent importing the function's module does not count; an item is killed
no earlier than `item_timeout_s` after it started, and normally within two poll intervals (<= 100 ms) after that.

Throughput. Items travel in chunks (one message per chunk each way), and workers are long-lived; only a killed
worker is replaced. When a worker is killed or dies, the items of its chunk that had finished but not been reported
are run again by another worker, so `function` should be pure (grading is). Items after the stuck one are re-queued,
never lost, and outcomes stay in input order.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

__all__ = ["GradeOutcome", "WorkerStartupError", "grade_in_processes"]

T = TypeVar("T")
R = TypeVar("R")

_IDLE = -1
_MAX_POLL_S = 0.05
_MAX_AUTO_CHUNK = 256


@dataclass(frozen=True)
class GradeOutcome(Generic[R]):
    value: R | None = None
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class WorkerStartupError(RuntimeError):
    """A worker could not load the function (for example, it is not importable in a fresh process)."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _worker_main(conn: Connection, slots: Any, slot: int, function_bytes: bytes) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent owns shutdown
    try:
        function = pickle.loads(function_bytes)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("fatal", _describe(error)))
        return
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        results = []
        for index, item in chunk:
            slots[slot] = index
            try:
                results.append((index, True, function(item)))
            except Exception as error:
                results.append((index, False, _describe(error)))
        slots[slot] = _IDLE
        try:
            conn.send(("results", results))
        except Exception:  # some value did not pickle: report those items as errors
            conn.send(("results", [_picklable(result) for result in results]))


def _picklable(result: tuple[int, bool, Any]) -> tuple[int, bool, Any]:
    index, ok, value = result
    try:
        pickle.dumps(value)
    except Exception as error:
        return index, False, f"result could not be sent back: {_describe(error)}"
    return result


def _default_start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    # fork is the cheapest start, and safe when no other thread can hold a lock at fork time
    if "fork" in methods and sys.platform.startswith("linux") and _single_threaded():
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1  # sees threads started by C libraries too
    except OSError:
        return threading.active_count() == 1


class _Worker:
    def __init__(self, context: Any, slots: Any, slot: int, function_bytes: bytes) -> None:
        self.slot = slot
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_conn, slots, slot, function_bytes), daemon=True, name=f"grader-{slot}"
        )
        self.process.start()
        child_conn.close()
        self.chunk: list[int] | None = None
        self.seen_index = _IDLE
        self.seen_at = 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()

    def receive(self) -> tuple | None:
        """The worker's next message, or None when the pipe is closed (the worker is gone)."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None


class _Run(Generic[T, R]):
    """The parent's bookkeeping for one `grade_in_processes` call."""

    def __init__(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        *,
        num_workers: int,
        timeout_s: float,
        chunk_size: int,
        start_method: str,
    ) -> None:
        self.items = items
        self.timeout_s = timeout_s
        self.poll_s = min(_MAX_POLL_S, timeout_s / 4)
        self.outcomes: list[GradeOutcome[R] | None] = [None] * len(items)
        self.queue: deque[list[int]] = deque(
            list(range(start, min(start + chunk_size, len(items)))) for start in range(0, len(items), chunk_size)
        )
        self.retried_unstarted: set[int] = set()
        self.context = multiprocessing.get_context(start_method)
        self.slots = self.context.RawArray("q", num_workers)
        for slot in range(num_workers):
            self.slots[slot] = _IDLE
        self.function_bytes = pickle.dumps(function)
        self.num_workers = num_workers
        self.workers: list[_Worker] = []

    def run(self) -> list[GradeOutcome[R]]:
        try:
            for slot in range(self.num_workers):
                self.workers.append(_Worker(self.context, self.slots, slot, self.function_bytes))
            while self.queue or any(worker.chunk is not None for worker in self.workers):
                self._dispatch()
                busy = [worker for worker in self.workers if worker.chunk is not None]
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=self.poll_s))
                for worker in busy:
                    if worker.conn in ready:
                        message = worker.receive()
                        if message is None:
                            self._replace(worker, timed_out=False)
                        else:
                            self._record(worker, message)
                    elif worker.process.sentinel in ready:
                        self._replace(worker, timed_out=False)
                self._enforce_time_limit()
        finally:
            self._shut_down()
        return [outcome for outcome in self.outcomes if outcome is not None]

    def _shut_down(self) -> None:
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 1.0
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            worker.kill()
            worker.conn.close()

    def _dispatch(self) -> None:
        for worker in self.workers:
            if worker.chunk is None and self.queue:
                worker.chunk = self.queue.popleft()
                worker.seen_index, worker.seen_at = _IDLE, time.monotonic()
                try:
                    worker.conn.send([(index, self.items[index]) for index in worker.chunk])
                except OSError:  # it died while idle; the chunk goes back to the queue
                    self._replace(worker, timed_out=False)

    def _record(self, worker: _Worker, message: tuple) -> None:
        if message[0] == "fatal":
            raise WorkerStartupError(f"a grading worker could not load the function: {message[1]}")
        for index, ok, value in message[1]:
            self.outcomes[index] = GradeOutcome(value=value) if ok else GradeOutcome(error=value)
        worker.chunk = None

    def _enforce_time_limit(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.chunk is None:
                continue
            index = self.slots[worker.slot]
            if index != worker.seen_index:
                worker.seen_index, worker.seen_at = index, now
            elif index != _IDLE and now - worker.seen_at > self.timeout_s:
                self._replace(worker, timed_out=True)

    def _replace(self, worker: _Worker, *, timed_out: bool) -> None:
        """Kill `worker`, settle the item it was running, re-queue the rest of its chunk, start a new worker."""
        stuck = self.slots[worker.slot]
        worker.kill()
        # it may have reported just before it was killed
        while worker.chunk is not None and worker.conn.poll() and (message := worker.receive()) is not None:
            self._record(worker, message)
        chunk = worker.chunk
        worker.conn.close()
        if chunk is not None:
            exit_code = worker.process.exitcode
            if stuck in chunk and timed_out:
                message = f"timed out after {self.timeout_s:g} s; the worker was killed"
                self.outcomes[stuck] = GradeOutcome(error=message, timed_out=True)
            elif stuck in chunk:
                self.outcomes[stuck] = GradeOutcome(error=f"the worker died running this item (exit code {exit_code})")
            elif chunk[0] in self.retried_unstarted:  # died twice before starting this chunk: stop retrying
                for index in chunk:
                    self.outcomes[index] = GradeOutcome(error=f"the worker died before running it (exit {exit_code})")
            else:
                self.retried_unstarted.add(chunk[0])
            rest = [index for index in chunk if self.outcomes[index] is None]
            if rest:
                self.queue.appendleft(rest)
        self.slots[worker.slot] = _IDLE
        self.workers[self.workers.index(worker)] = _Worker(self.context, self.slots, worker.slot, self.function_bytes)


def grade_in_processes(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    num_workers: int | None = None,
    item_timeout_s: float,
    chunk_size: int | None = None,
    start_method: str | None = None,
) -> list[GradeOutcome[R]]:
    """`function(item)` for every item in worker processes; one outcome per item, in order (see module docstring).

    `function` and the items must be picklable (a top-level function, or `functools.partial` of one).
    `num_workers` defaults to the CPUs this process may use; `chunk_size` to about a quarter of an even share per
    worker (at most 256), which keeps messages few without leaving a worker idle at the end. `start_method` is a
    multiprocessing start method; by default `fork` when this process has a single thread, else `forkserver`.
    """
    if item_timeout_s <= 0:
        raise ValueError(f"item_timeout_s must be positive, got {item_timeout_s}")
    if not items:
        return []
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(num_workers or cpus, len(items)))
    if chunk_size is None:
        chunk_size = max(1, min(_MAX_AUTO_CHUNK, len(items) // (workers * 4)))
    elif chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    method = start_method or _default_start_method()
    return _Run(
        function, items, num_workers=workers, timeout_s=item_timeout_s, chunk_size=chunk_size, start_method=method
    ).run()
