# ruff: noqa: B905
"""The test harness that runs *inside the sandbox* (standard library only, Python 3.8+).

The grader sends this file's source followed by one call `main(NONCE, PAYLOAD_JSON)`. Nothing here imports
nemo_skills. The model's code runs with file descriptors 1 and 2 pointed at /dev/null, so whatever it prints can
neither flood the output nor forge a result; results go to a saved copy of the real stdout as lines
`<NONCE> <json>`, one per stage, flushed as soon as the stage ends (a stage killed by the sandbox's wall-time limit
leaves the earlier stages' lines).

Modes (`payload["mode"]`):

* `script`: compile and run `solution`, then run `test` in the same namespace (HumanEval's `check(...)`, MBPP's
  asserts). One result: `passed`, `failed` (an AssertionError in the test), or `error` (anything else).
* `evalplus`: differential testing as EvalPlus does it. The trusted `reference` computes the expected output of
  every input of every stage (timing each call) before the model's code is even loaded, then reports
  `stage=reference`; the candidate's call on a deep copy of the same input must return an equal value within
  max(min_time_limit, factor x reference time). Stages (`base`, then `plus`) stop at the first
  failing input; a failing stage ends the run. Special oracles and float tolerance follow EvalPlus (see
  `_matches`).
* `functional`: LiveCodeBench call-based problems: `Solution().<fn_name>(*args)` (or a top-level function) on JSON
  arguments, one per input line; the result (a tuple counts as a list) must equal the JSON output. Every call has
  `time_limit` seconds.
"""

import copy
import io
import json
import math
import os
import signal
import sys
import time


class _TimeLimit(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _TimeLimit()


class _Harness:
    def __init__(self, nonce):
        self.nonce = nonce
        self.out = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdin = io.StringIO("")
        signal.signal(signal.SIGALRM, _on_alarm)

    def report(self, **fields):
        line = self.nonce + " " + json.dumps(fields, default=repr) + "\n"
        data = line.encode("utf-8", "replace")
        while data:
            written = os.write(self.out, data)
            data = data[written:]


def _describe(error):
    if isinstance(error, _TimeLimit):
        return "time limit"
    try:
        text = str(error)
    except BaseException:
        text = ""
    name = type(error).__name__
    if len(text) > 200:
        text = text[:200] + "..."
    return name + (": " + text if text else "")


def _limited(seconds, function, *args):
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _load(source, name, time_limit):
    namespace = {"__name__": "__solution__", "__builtins__": __builtins__}
    code = compile(source, name, "exec")
    _limited(time_limit, exec, code, namespace)
    return namespace


# -- EvalPlus input transforms (MBPP+ stores tuples, sets and complex numbers as JSON lists and strings) ----------


def _tuple_items(value):
    return [tuple(item) for item in value]


def _deep_tuple(value):
    if isinstance(value, list):
        return tuple(_deep_tuple(item) for item in value)
    return value


def _transform(name, args):
    args = list(args)
    if not name:
        return args
    if name == "all_args_tuple":
        return [tuple(arg) for arg in args]
    if name == "all_args_seq_of_tuples":
        return [_tuple_items(arg) for arg in args]
    if name == "all_args_tuple_of_tuples":
        return [tuple(_tuple_items(arg)) for arg in args]
    if name == "first_arg_tuple":
        return [tuple(args[0])] + args[1:]
    if name == "second_arg_tuple":
        return [args[0], tuple(args[1])] + args[2:]
    if name == "first_arg_seq_of_tuples":
        return [_tuple_items(args[0])] + args[1:]
    if name == "first_arg_tuple_of_items":
        return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])] + args[1:]
    if name == "first_arg_sets":
        return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]] + args[1:]
    if name == "first_arg_dict_values_tuple":
        return [{key: tuple(value) for key, value in args[0].items()}] + args[1:]
    if name == "float_complex":
        return [float(args[0]), complex(args[1])] + args[2:]
    if name == "complex_arg":
        return [complex(args[0])] + args[1:]
    if name == "deep_tuple":
        return list(_deep_tuple(args))
    raise ValueError("unknown input transform " + repr(name))


# -- EvalPlus output comparison -------------------------------------------------------------------------------------


def _is_floats(value):
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, float) for item in value)
    return False


def _close(out, exp, atol, rtol=1e-07):
    if isinstance(exp, (list, tuple)):
        if not isinstance(out, (list, tuple)) or len(out) != len(exp):
            return False
        return all(_close(o, e, atol, rtol) for o, e in zip(out, exp))
    if isinstance(out, (list, tuple)):
        return False
    o, e = complex(out), complex(exp)
    if o == e:
        return True
    if any(math.isnan(x) or math.isinf(x) for x in (o.real, o.imag, e.real, e.imag)):
        return False
    return abs(o - e) <= atol + rtol * abs(e)


def _equal(out, exp):
    try:
        return bool(out == exp)
    except Exception:
        return False


def _poly(coefficients, x):
    return sum(c * math.pow(x, i) for i, c in enumerate(coefficients))


def _pyramid_surface(base_edge, height):
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant)


def _digit_distance(a, b):
    left, right = str(a), str(b)
    width = max(len(left), len(right))
    left, right = left.zfill(width), right.zfill(width)
    return sum(abs(int(x) - int(y)) for x, y in zip(left, right))


def _flag(value):
    return value if isinstance(value, bool) else value is not None


def _matches(out, exp, args, atol, oracle):
    """True when the candidate's `out` is accepted for the reference's `exp` on `args`."""
    if oracle == "poly_root":  # HumanEval/32 find_zero: any root is fine
        return abs(_poly(args[0], out)) <= atol
    if oracle == "any":  # Mbpp/164: any output (the call must not raise)
        return True
    if oracle == "not_none":  # regex-match outputs: only None-ness (or a boolean) is compared
        return _flag(out) == _flag(exp)
    if oracle == "set_eq":
        return set(out) == set(exp)
    exact = _equal(out, exp)
    if not exact and oracle == "zero_ok":
        exact = _equal(out, 0)
    if not exact and oracle == "pyramid_surface":
        exact = abs(out - _pyramid_surface(*args)) <= atol
    if not exact and oracle == "digit_distance":
        exact = _equal(out, _digit_distance(*args))
    if exact:
        return True
    if atol == 0 and _is_floats(exp):
        atol = 1e-6
    if atol == 0:
        return False
    if type(out) is not type(exp):
        return False
    try:
        return _close(out, exp, atol)
    except (TypeError, ValueError):
        return False


def _run_evalplus(harness, payload):
    entry_point = payload["entry_point"]
    atol = payload.get("atol") or 0
    oracle = payload.get("oracle") or "exact"
    transform = payload.get("input_transform")
    min_limit = payload["min_time_limit"]
    factor = payload["time_limit_factor"]
    # every expected output first, before the model's code is loaded: nothing it does can break the reference
    try:
        reference = _load(payload["reference"], "reference.py", payload["load_time_limit"] * 10)[entry_point]
    except BaseException as error:
        harness.report(stage="reference", status="reference_error", error=_describe(error))
        return
    stages = []
    for stage, raw_inputs in payload["stages"]:
        inputs = [_transform(transform, args) for args in raw_inputs]
        expected, limits = [], []
        for index, args in enumerate(inputs):
            try:
                start = time.perf_counter()
                value = reference(*copy.deepcopy(args))
                elapsed = time.perf_counter() - start
            except BaseException as error:
                harness.report(
                    stage="reference", status="reference_error", error=f"{stage} input {index}: {_describe(error)}"
                )
                return
            expected.append(value)
            limits.append(max(min_limit, factor * elapsed))
        stages.append((stage, inputs, expected, limits))
    harness.report(stage="reference", status="ok")
    first = payload["stages"][0][0]
    try:
        candidate = _load(payload["solution"], "solution.py", payload["load_time_limit"]).get(entry_point)
    except BaseException as error:
        harness.report(stage=first, status="failed", error="loading the code: " + _describe(error))
        return
    if not callable(candidate):
        harness.report(stage=first, status="failed", error="no function " + entry_point)
        return
    for stage, inputs, expected, limits in stages:
        for index, args in enumerate(inputs):
            try:
                out = _limited(limits[index], candidate, *copy.deepcopy(args))
            except _TimeLimit:
                harness.report(stage=stage, status="timeout", error=f"input {index}: over {limits[index]:.2f}s")
                return
            except BaseException as error:
                harness.report(stage=stage, status="failed", error=f"input {index}: {_describe(error)}")
                return
            try:
                accepted = _matches(out, expected[index], args, atol, oracle)
            except BaseException:
                accepted = False
            if not accepted:
                harness.report(stage=stage, status="failed", error=f"input {index}: wrong output")
                return
        harness.report(stage=stage, status="passed", count=len(inputs))


def _run_script(harness, payload):
    try:
        namespace = _load(payload["solution"], "solution.py", payload["time_limit"])
    except BaseException as error:
        harness.report(stage="base", status="error", error="loading the code: " + _describe(error))
        return
    try:
        _limited(payload["time_limit"], exec, compile(payload["test"], "test.py", "exec"), namespace)
    except AssertionError as error:
        harness.report(stage="base", status="failed", error=_describe(error))
        return
    except _TimeLimit:
        harness.report(stage="base", status="timeout", error="time limit")
        return
    except BaseException as error:
        harness.report(stage="base", status="error", error=_describe(error))
        return
    harness.report(stage="base", status="passed")


def _run_functional(harness, payload):
    fn_name = payload["fn_name"]
    offset = payload.get("offset", 0)
    try:
        namespace = _load(payload["solution"], "solution.py", payload["time_limit"])
        holder = namespace.get("Solution")
        if "class Solution" in payload["solution"] and holder is not None:
            method = getattr(_limited(payload["time_limit"], holder), fn_name, None)
        else:
            method = namespace.get(fn_name)
    except BaseException as error:
        harness.report(stage="base", status="error", error="loading the code: " + _describe(error), index=offset)
        return
    if not callable(method):
        harness.report(stage="base", status="error", error="no method " + fn_name, index=offset)
        return
    for number, case in enumerate(payload["cases"]):
        index = offset + number
        args = [json.loads(line) for line in case["input"].strip("\n").split("\n")]
        expected = json.loads(case["output"])
        try:
            out = _limited(payload["time_limit"], method, *args)
        except _TimeLimit:
            harness.report(stage="base", status="timeout", error=f"test {index}: time limit", index=index)
            return
        except BaseException as error:
            harness.report(stage="base", status="error", error=f"test {index}: {_describe(error)}", index=index)
            return
        if isinstance(out, tuple):
            out = list(out)
        if not _equal(out, expected):
            harness.report(stage="base", status="failed", error=f"test {index}: wrong answer", index=index)
            return
    harness.report(stage="base", status="passed", count=len(payload["cases"]))


def main(nonce, payload_json):
    harness = _Harness(nonce)
    try:
        payload = json.loads(payload_json)
        mode = payload["mode"]
        if mode == "script":
            _run_script(harness, payload)
        elif mode == "evalplus":
            _run_evalplus(harness, payload)
        elif mode == "functional":
            _run_functional(harness, payload)
        else:
            harness.report(stage="harness", status="harness_error", error="unknown mode " + repr(mode))
    except BaseException as error:
        harness.report(stage="harness", status="harness_error", error=_describe(error))
    os._exit(0)  # no atexit handler or lingering thread of the model's code runs after the results
