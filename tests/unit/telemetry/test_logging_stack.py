"""The ``stack`` text: what Python itself prints for the exception, without the ``^^^`` markers."""

from __future__ import annotations

import gc
import re
import traceback
import weakref
from collections.abc import Callable

import pytest

from telemetry.logging.stack import freeze, render

_MARKERS = re.compile(r"^\s*[~^]+\s*$")


def python_prints(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    return "\n".join(line for line in text.split("\n") if not _MARKERS.match(line))


def ours(exc: BaseException) -> str:
    return render(freeze(exc, exc.__traceback__))


def caught(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


def _recurse(n: int) -> None:
    if n == 0:
        raise ValueError("bottom")
    _recurse(n - 1)


def _ping(n: int) -> None:
    _pong(n)


def _pong(n: int) -> None:
    if n == 0:
        raise LookupError("no partner")
    _ping(n - 1)


def _caused() -> None:
    try:
        {}["missing"]
    except KeyError as error:
        raise ValueError("bad column") from error


def _during_handling() -> None:
    try:
        _caused()
    except ValueError:
        1 / 0


def _suppressed() -> None:
    try:
        raise KeyError("hidden")
    except KeyError:
        raise OSError("shown") from None


def _with_notes() -> None:
    error = RuntimeError("with notes")
    error.add_note("first note")
    error.add_note("two\nlines")
    raise error


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def _unprintable() -> None:
    raise Unprintable


def _cycle() -> None:
    first, second = KeyError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    raise second


CASES: dict[str, Callable[[], object]] = {
    "plain": lambda: _recurse(0),
    "deep recursion folds repeated frames": lambda: _recurse(40),
    "mutual recursion": lambda: _ping(10),
    "explicit cause": _caused,
    "context, two levels": _during_handling,
    "suppressed context": _suppressed,
    "notes": _with_notes,
    "empty message": lambda: (_ for _ in ()).throw(ValueError()),
    "str() fails": _unprintable,
    "context cycle": _cycle,
    "exception group": lambda: (_ for _ in ()).throw(ExceptionGroup("two", [KeyError("x"), OSError()])),
}


@pytest.mark.parametrize("case", CASES)
def test_the_stack_reads_as_pythons_own_traceback(case: str) -> None:
    exc = caught(CASES[case])
    assert ours(exc) == python_prints(exc)


def test_the_frozen_stack_holds_no_frame_and_renders_the_same_later() -> None:
    class Local:
        pass

    refs: list[weakref.ref[Local]] = []

    def fail() -> None:
        local = Local()
        refs.append(weakref.ref(local))
        _caused()

    exc = caught(fail)
    expected = python_prints(exc)
    frozen = freeze(exc, exc.__traceback__)
    del exc
    gc.collect()
    assert refs[0]() is None
    assert render(frozen) == expected


def test_the_given_message_replaces_the_exceptions_text() -> None:
    exc = caught(lambda: _recurse(0))
    assert render(freeze(exc, exc.__traceback__, "as at the call")).endswith("ValueError: as at the call")
