"""The csvkit regexes restated for polars' string expressions (Rust's regex crate).

Per-value checks over a whole batch column run in polars, one linear-time automaton per column
instead of Python's backtracking engine over the column joined into one string. The patterns
stay written once, for Python's ``re``; :func:`fullmatch_pattern` restates one. Only the
constructs csvkit's patterns use are translated, and the tests compare both engines on
adversarial values:

* ``re.ASCII`` patterns: ``\\d`` becomes ``[0-9]`` (Rust's ``\\d`` is any Unicode digit);
* ``re.IGNORECASE`` (Unicode): Rust's ``(?i)``, Unicode simple case folding, as Python's;
* a full match: anchored with ``^``/``$``, which in Rust (no multi-line flag) mean the
  ends of the value, never a line break inside it.
"""

from __future__ import annotations

import re


def fullmatch_pattern(pattern: re.Pattern[str]) -> str:
    """A polars pattern that matches a value exactly when ``pattern.fullmatch`` does."""
    return rf"{_flags(pattern)}^(?:{_body(pattern)})$"


def prefix_pattern(pattern: re.Pattern[str]) -> str:
    """A polars pattern that matches a value exactly when ``pattern.match`` does."""
    return rf"{_flags(pattern)}^(?:{_body(pattern)})"


def _flags(pattern: re.Pattern[str]) -> str:
    return "(?i)" if pattern.flags & re.IGNORECASE else ""


def _body(pattern: re.Pattern[str]) -> str:
    if "\\D" in pattern.pattern or "\\w" in pattern.pattern or "\\s" in pattern.pattern:
        raise ValueError(f"no translation for {pattern.pattern!r}")
    if pattern.flags & re.ASCII:
        return pattern.pattern.replace(r"\d", "[0-9]")
    if r"\d" in pattern.pattern:
        raise ValueError(f"a Unicode \\d is not translated: {pattern.pattern!r}")
    return pattern.pattern
