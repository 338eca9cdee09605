"""Find the program in a model's answer.

`extract_code(text)` returns `(code, source)`; the rules, in order:

1. Thinking: when the text still holds `</think>` (the grader ran with `++remove_thinking=False`), only what follows
   the last `</think>` is searched; a text with `<think>` and no end tag has no code (its reasoning never ended).
2. Fenced blocks: a fence is a line that starts with three backticks; the opening one may carry a language tag
   (```` ```python ````). The **last** block tagged `python`, `py`, `python3` or `py3` (any case) is the code; when no
   block has such a tag, the last block without a tag; blocks tagged with another language are never used.
   Source `"fence"`.
3. A truncated fence: when no complete python or untagged block exists and the text ends inside an opened python
   (or untagged) block, i.e. the closing fence never came (a generation cut at the token limit), everything after
   the opening fence is the code (it may still run). Source `"unclosed_fence"`. A complete block always wins over
   such a tail.
4. No fence at all: the whole text is the code when it parses as Python and at least one top-level statement is
   not a bare expression (a `def`, `class`, `import`, assignment, loop...): prose almost never parses, and a lone
   expression (`42`, `Hello`) is not a program. Source `"raw"`.
5. Otherwise there is no code: `("", "none")`. An empty generation has no code.
"""

from __future__ import annotations

import ast
import re

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\s`]*)[^\n`]*$", re.MULTILINE)
THINK_BEGIN = "<think>"
THINK_END = "</think>"


def _blocks(text: str) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """Closed blocks as (tag, body), and the unclosed tail block if the text ends inside one."""
    closed: list[tuple[str, str]] = []
    opened: tuple[str, int] | None = None  # (tag, body start)
    for match in _FENCE.finditer(text):
        if opened is None:
            opened = (match.group(1).lower(), match.end() + 1)
        else:
            tag, start = opened
            end = match.start()
            closed.append((tag, text[start:end] if start <= end else ""))
            opened = None
    tail = None
    if opened is not None:
        tag, start = opened
        tail = (tag, text[start:])
    return closed, tail


def _looks_like_code(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return any(not isinstance(node, ast.Expr) for node in tree.body)


def extract_code(text: str | None) -> tuple[str, str]:
    """(code, source) where source is "fence", "unclosed_fence", "raw" or "none" (then code is "")."""
    if not text:
        return "", "none"
    if THINK_END in text:
        text = text.rsplit(THINK_END, 1)[1]
    elif THINK_BEGIN in text:
        return "", "none"
    closed, tail = _blocks(text)
    python = [body for tag, body in closed if tag in PYTHON_TAGS and body.strip()]
    untagged = [body for tag, body in closed if tag == "" and body.strip()]
    for candidates in (python, untagged):
        if candidates:
            return candidates[-1].rstrip() + "\n", "fence"
    if tail is not None and (tail[0] in PYTHON_TAGS or tail[0] == "") and tail[1].strip():
        return tail[1].rstrip() + "\n", "unclosed_fence"
    if closed or tail is not None:
        return "", "none"
    stripped = text.strip()
    if stripped and _looks_like_code(stripped):
        return stripped + "\n", "raw"
    return "", "none"
