"""Exception stacks as text for the ``stack`` field, in two cheap steps: freeze, then render.

:func:`freeze` walks an exception, its traceback and its chain (``__cause__``, ``__context__``)
and keeps, per frame, only the code object, the line number and the module globals — nothing
that holds a frame's locals. Each exception's text (``Type: message`` and its notes) is taken
then too. It costs a fraction of a microsecond per frame: no source lines, no column positions.

:func:`render` turns that into the text Python prints — ``Traceback (most recent call last):``,
one ``File "…", line N, in name`` and source line per frame, repeated recursive frames folded,
"The above exception was the direct cause …" between chained exceptions — reading source lines
through ``linecache``. It leaves out the ``^^^^`` column markers of Python 3.11+: computing them
parses every source line (``ast``) and made the standard ``traceback`` module five times slower
per stack, which is the writer's time and, through the GIL, the event loop's. Source files are not
re-checked for changes (``linecache.checkcache``): that is a ``stat`` per file per stack; and a
rendered frame is remembered, so a stack seen before renders from a dict.

Exception groups and ``SyntaxError`` have their own layouts: their chain is rendered by the
standard ``traceback`` module at freeze time, which is slower but rare.
"""

from __future__ import annotations

import linecache
import traceback
from types import CodeType, TracebackType
from typing import Any, NamedTuple

__all__ = ["FrozenStack", "exception_type_line", "freeze", "render"]

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
#: As Python: after three identical frames in a row (recursion), the rest are only counted.
_REPEATS_SHOWN = 3

#: One frame: code object, line number (None when Python has none), module globals (linecache
#: uses them to read sources of modules loaded from zip files).
_Frame = tuple[CodeType, "int | None", "dict[str, Any] | None"]


class _Link(NamedTuple):
    """One exception of a chain, outermost first."""

    #: Printed before this exception: how it relates to the one rendered before it (its cause or
    #: context), or "" for the innermost.
    separator: str
    frames: tuple[_Frame, ...]
    #: ``Type: message`` and notes, each line ending in a newline.
    text: str


class FrozenStack(NamedTuple):
    """An exception chain without references to frames: safe to keep, cheap to make."""

    links: tuple[_Link, ...]
    #: The finished text, for chains that the standard module rendered (groups, syntax errors).
    rendered: str | None = None


def freeze(exc: BaseException, tb: TracebackType | None, message: str | None = None) -> FrozenStack:
    """Take what :func:`render` needs from ``exc`` (its traceback ``tb``, as at the logging call).

    ``message`` replaces ``str(exc)`` when given: the text taken on the caller's thread.
    """
    links: list[_Link] = []
    seen: set[int] = set()
    separator = ""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, BaseExceptionGroup | SyntaxError):
            return FrozenStack((), _standard(exc, tb))
        seen.add(id(current))
        frames: list[_Frame] = []
        while tb is not None:
            frame = tb.tb_frame
            frames.append((frame.f_code, tb.tb_lineno, frame.f_globals))
            tb = tb.tb_next
        links.append(_Link(separator, tuple(frames), exception_type_line(current, message)))
        message = None
        cause, context = current.__cause__, current.__context__
        if cause is not None and id(cause) not in seen:
            current, separator = cause, _CAUSE
        elif context is not None and not current.__suppress_context__ and id(context) not in seen:
            current, separator = context, _CONTEXT
        else:
            current = None
        if current is not None:
            tb = current.__traceback__
    return FrozenStack(tuple(links))


def render(stack: FrozenStack) -> str:
    """The traceback text, root cause first, without a trailing newline."""
    if stack.rendered is not None:
        return stack.rendered
    parts: list[str] = []
    separator = ""
    for link in reversed(stack.links):
        parts.append(separator)
        if link.frames:
            parts.append("Traceback (most recent call last):\n")
            _render_frames(link.frames, parts)
        parts.append(link.text)
        separator = link.separator
    return "".join(parts).rstrip("\n")


def exception_type_line(exc: BaseException, message: str | None = None) -> str:
    """``module.Type: message`` (``Type`` alone for built-ins, and no colon for an empty message),
    then the exception's notes, as Python prints them."""
    exc_type = type(exc)
    name = exc_type.__qualname__
    module = exc_type.__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    if message is None:
        message = _safe_str(exc, "exception")
    text = f"{name}: {message}\n" if message else f"{name}\n"
    notes = getattr(exc, "__notes__", None)
    if notes is None:
        return text
    if isinstance(notes, list | tuple):
        return text + "".join(f"{_safe_str(note, 'note')}\n" for note in notes)
    return text + _safe_repr(notes) + "\n"


def _render_frames(frames: tuple[_Frame, ...], parts: list[str]) -> None:
    previous = ""
    repeats = 0
    texts = _FRAME_TEXTS
    for code, lineno, module_globals in frames:
        cached = texts.get((id(code), lineno))
        text = (
            cached[1]
            if cached is not None and cached[0] is code
            else _frame_text(code, lineno, module_globals)
        )
        if text == previous:  # same file, line and function: recursion
            repeats += 1
            if repeats > _REPEATS_SHOWN:
                continue
        else:
            _fold(repeats, parts)
            previous, repeats = text, 1
        parts.append(text)
    _fold(repeats, parts)


#: Rendered frames by (code object id, line number), with the code object to tell a reused id
#: apart. An error storm repeats the same few stacks, and a hit saves the frame's ``linecache``
#: lookup and formatting: 41 frames render in 8 µs instead of 60. Cleared when full: 4,096 frames
#: are a few hundred distinct stacks, under 1 MB.
_FRAME_TEXTS: dict[tuple[int, int | None], tuple[CodeType, str]] = {}
_FRAME_TEXTS_MAX = 4096


def _frame_text(code: CodeType, lineno: int | None, module_globals: dict[str, Any] | None) -> str:
    filename = code.co_filename
    text = f'  File "{filename}", line {lineno}, in {code.co_name}\n'
    line = linecache.getline(filename, lineno, module_globals).strip() if lineno else ""
    if line:
        text = f"{text}    {line}\n"
    if len(_FRAME_TEXTS) >= _FRAME_TEXTS_MAX:
        _FRAME_TEXTS.clear()
    _FRAME_TEXTS[id(code), lineno] = (code, text)
    return text


def _fold(repeats: int, parts: list[str]) -> None:
    hidden = repeats - _REPEATS_SHOWN
    if hidden > 0:
        parts.append(f"  [Previous line repeated {hidden} more time{'s' if hidden > 1 else ''}]\n")


def _standard(exc: BaseException, tb: TracebackType | None) -> str:
    return "".join(traceback.TracebackException(type(exc), exc, tb).format()).rstrip("\n")


def _safe_str(value: object, what: str) -> str:
    try:
        return str(value)
    except Exception:
        return f"<{what} str() failed>"


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return "<__notes__ repr() failed>"
