"""The persistent interpreter behind an ``ipython`` session. Runs INSIDE the sandbox (stdlib only).

The server starts it as ``python -c <this file's source> <control fd>``; it never imports nemo_skills, so it runs
with any interpreter the sandbox user can execute. Protocol:

* requests arrive as JSON lines on the original stdin (moved to a private fd; the cell sees /dev/null or its
  ``std_input`` as ``sys.stdin``);
* for each cell the worker makes two pipes, sends their read ends to the server over the SOCK_SEQPACKET control
  socket (``{"event": "started"}`` + SCM_RIGHTS), points fds 1 and 2 at them, runs the cell, points 1 and 2 back at
  /dev/null (the server then sees EOF) and sends ``{"event": "done", "status": ...}``.

A cell is executed like an IPython cell: statements run, and the value of a trailing expression is printed.
SIGINT from the server (the cell's time is up) interrupts the cell with KeyboardInterrupt; the state survives.
"""

from __future__ import annotations

import ast
import io
import json
import linecache
import os
import socket
import sys
import traceback


def main() -> None:
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    ctrl.set_inheritable(False)
    requests = os.fdopen(os.dup(0), "rb")  # os.dup makes a non-inheritable fd: cell subprocesses don't get it
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    namespace: dict[str, object] = {"__name__": "__main__", "__builtins__": __builtins__}
    ctrl.send(json.dumps({"event": "ready", "pid": os.getpid()}).encode())
    count = 0
    while True:
        try:
            line = requests.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            return
        count += 1
        req = json.loads(line)
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        socket.send_fds(ctrl, [json.dumps({"event": "started"}).encode()], [r_out, r_err])
        os.close(r_out)
        os.close(r_err)
        os.dup2(w_out, 1)
        os.dup2(w_err, 2)
        os.close(w_out)
        os.close(w_err)
        sys.stdin = io.StringIO(req.get("std_input") or "")
        status = "completed"
        try:
            status = run_cell(req["code"], f"<cell-{count}>", namespace)
        except KeyboardInterrupt:
            status = "timeout"
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - a broken stream must not kill the session
                    pass
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        ctrl.send(json.dumps({"event": "done", "status": status}).encode())


def run_cell(code: str, filename: str, namespace: dict[str, object]) -> str:
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, filename, "eval"), namespace)
            if value is not None:
                print(repr(value))
        return "completed"
    except KeyboardInterrupt:
        print_error(sys.exc_info()[1], filename)
        return "timeout"
    except SystemExit as exc:
        return "completed" if exc.code in (None, 0) else "error"
    except BaseException as exc:  # noqa: BLE001 - the cell's error is the result
        print_error(exc, filename)
        return "error"


def print_error(exc: BaseException | None, filename: str) -> None:
    if exc is None:
        return
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list([f for f in tb.stack if f.filename.startswith("<cell-")])
    sys.stderr.write("".join(tb.format()))
    del filename


if __name__ == "__main__":
    main()
