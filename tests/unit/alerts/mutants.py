"""Mutation testing of the alert rules: change one thing in a rule, and the promtool cases must fail.

Every mutant is one small edit to one rule of a copy of the generated rules — a threshold doubled
or halved, a ``for`` doubled, halved or removed, a range window doubled or halved, a label matcher
removed, negated, narrowed (one alternative dropped, ``!=`` turned into ``=`` one other value) or
widened (one more value of the label's closed set). A mutant is *killed* when promtool reports a
failed case with it. Survivors are rules whose cases would not notice that exact mistake.

Speed: a mutant can only change the outcome of cases about its own rule and about the rules that
read it, so each mutant is tested with just those cases, against just the rules they need (its
rule mutated), and many mutants go to one promtool invocation (one test file each), on every core.
Each distinct pruned set is also run unmutated: a baseline that fails would count every mutant of
its rule as killed, so the harness refuses it.

Run alone to print the score and every survivor: ``python -m tests.unit.alerts.mutants``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alerts.generate import TESTS_DIR, generate_rules
from alerts.timing import format_duration, parse_duration
from promlib.promql import metric_names
from telemetry import labels

ROOT = Path(__file__).resolve().parents[3]

#: Closed label sets a matcher can be widened or narrowed with (``telemetry/labels.py``).
CLOSED_SETS: Mapping[str, tuple[str, ...]] = {
    "level": labels.LOG_LEVELS,
    "handler": labels.HANDLERS,
    "outcome": tuple(dict.fromkeys((*labels.UPDATE_OUTCOMES, *labels.STORAGE_OUTCOMES))),
    "operation": labels.STORAGE_OPERATIONS,
    "method": labels.TELEGRAM_METHODS,
    "status": labels.TELEGRAM_STATUSES,
}

_BRACES = re.compile(r"\{([^{}]*)\}")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
_THRESHOLD = re.compile(r"(?<![=!<>~])(>=|<=|==|!=|>|<)(\s*(?:bool\s+)?\(?\s*)(\d+(?:\.\d+)?(?:e[+-]?\d+)?)")
_WINDOW = re.compile(r"\[(\d+[smhdw])\]")
_NEGATED = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


@dataclass(frozen=True)
class Rule:
    """One rule of the generated files, where it sits, and what it reads."""

    file: str
    group: int
    index: int
    body: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.body.get("alert") or self.body["record"])

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.file, self.group, self.index)


@dataclass(frozen=True)
class Mutant:
    rule: Rule
    what: str
    body: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.rule.name}: {self.what}"


@dataclass
class Score:
    killed: list[Mutant] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)
    untested: list[Mutant] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.killed) + len(self.survived) + len(self.untested)

    @property
    def ratio(self) -> float:
        return len(self.killed) / self.total if self.total else 0.0

    def report(self) -> str:
        lines = [f"mutation score: {len(self.killed)}/{self.total} killed ({self.ratio:.1%})"]
        lines += [f"  survived: {m}" for m in self.survived]
        lines += [f"  untested: {m}" for m in self.untested]
        return "\n".join(lines)


# --- the sweep ---------------------------------------------------------------------------------


def _scaled(number: str, factor: float) -> str:
    return f"{float(number) * factor:g}"


def _duration_scaled(text: str, factor: float) -> str | None:
    seconds = parse_duration(text) * factor
    return format_duration(int(seconds)) if seconds >= 1 and seconds == int(seconds) else None


def threshold_mutants(expr: str) -> Iterator[tuple[str, str]]:
    for m in _THRESHOLD.finditer(expr):
        number = m.group(3)
        if float(number) == 0:
            continue  # ×2 and ÷2 of 0 is 0: the same rule
        for factor, word in ((2.0, "×2"), (0.5, "÷2")):
            new = expr[: m.start(3)] + _scaled(number, factor) + expr[m.end(3) :]
            yield f"threshold {m.group(1)} {number} {word}", new


def window_mutants(expr: str) -> Iterator[tuple[str, str]]:
    for window in dict.fromkeys(_WINDOW.findall(expr)):
        for factor, word in ((2.0, "×2"), (0.5, "÷2")):
            scaled = _duration_scaled(window, factor)
            if scaled is not None:
                yield f"window [{window}] {word}", expr.replace(f"[{window}]", f"[{scaled}]")


def _matcher_variants(name: str, op: str, value: str) -> Iterator[tuple[str, str | None]]:
    """(description, replacement text or None for "removed") for one matcher."""
    yield "removed", None
    yield f"negated to {_NEGATED[op]}", f'{name}{_NEGATED[op]}"{value}"'
    alternatives = value.split("|")
    if op == "=~" and len(alternatives) > 1:
        for alt in alternatives:
            rest = "|".join(a for a in alternatives if a != alt)
            yield f"narrowed (without {alt})", f'{name}=~"{rest}"'
    closed = CLOSED_SETS.get(name, ())
    others = [v for v in closed if v not in alternatives]
    if others and op in ("=", "=~"):
        yield f"widened (with {others[0]})", f'{name}=~"{value}|{others[0]}"'
    if others and op == "!=":
        yield f"narrowed to ={others[0]}", f'{name}="{others[0]}"'


def _and_only(expr: str) -> bool:
    """Operands joined by ``and`` alone (no ``or``/``unless``): the result keeps only label sets
    every operand has."""
    return " and" in f" {expr.replace(chr(10), ' ')}" and not re.search(r"\b(or|unless)\b", expr)


def matcher_mutants(expr: str) -> Iterator[tuple[str, str]]:
    for braces in _BRACES.finditer(expr):
        inner = braces.group(1)
        matchers = list(_MATCHER.finditer(inner))
        for m in matchers:
            name, op, value = m.groups()
            # Removing an equality matcher from one operand of an and-chain whose other operands
            # carry the same matcher is an equivalent mutant: `and` matches on the full label
            # set, so the other operands filter the label back in. No case can tell it apart.
            equivalent = op == "=" and _and_only(expr) and expr.count(m.group(0)) > 1
            for what, replacement in _matcher_variants(name, op, value):
                if replacement is None and equivalent:
                    continue
                if replacement is None:
                    kept = [x.group(0) for x in matchers if x is not m]
                    new_inner = "{" + ", ".join(kept) + "}" if kept else ""
                else:
                    new_inner = "{" + inner[: m.start()] + replacement + inner[m.end() :] + "}"
                new = expr[: braces.start()] + new_inner + expr[braces.end() :]
                yield f'matcher {name}{op}"{value}" {what} (at {braces.start()})', new


def hold_mutants(hold: str | None) -> Iterator[tuple[str, str | None]]:
    if hold is None:
        return
    yield f"for {hold} removed", None
    for factor, word in ((2.0, "×2"), (0.5, "÷2")):
        scaled = _duration_scaled(hold, factor)
        if scaled is not None:
            yield f"for {hold} {word}", scaled


def mutants_of(rule: Rule) -> Iterator[Mutant]:
    expr = str(rule.body["expr"])
    edits: list[tuple[str, str]] = [
        *threshold_mutants(expr),
        *window_mutants(expr),
        *matcher_mutants(expr),
    ]
    seen: set[str] = set()
    for what, new_expr in edits:
        if new_expr == expr or new_expr in seen:
            continue
        seen.add(new_expr)
        yield Mutant(rule, what, {**rule.body, "expr": new_expr})
    if "alert" in rule.body:
        for what, new_hold in hold_mutants(rule.body.get("for")):
            body = {k: v for k, v in rule.body.items() if k != "for"}
            if new_hold is not None:
                body["for"] = new_hold
            yield Mutant(rule, what, body)


# --- which cases can see a rule -------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    files: Mapping[str, Mapping[str, Any]]  # file name → the rule document
    rules: Sequence[Rule]

    @classmethod
    def load(cls, paths: Iterable[Path]) -> RuleSet:
        files: dict[str, Any] = {}
        rules: list[Rule] = []
        for path in paths:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            files[path.name] = doc
            for g, group in enumerate(doc["groups"]):
                rules += [Rule(path.name, g, i, body) for i, body in enumerate(group["rules"])]
        return cls(files, rules)

    def reads(self, rule: Rule) -> set[str]:
        recorded = {r.name for r in self.rules if "record" in r.body}
        return metric_names(str(rule.body["expr"])) & recorded

    def closure(self, names: set[str]) -> set[tuple[str, int, int]]:
        """Keys of the rules named in ``names`` and of every recording rule they read, transitively."""
        keys: set[tuple[str, int, int]] = set()
        todo = set(names)
        done: set[str] = set()
        while todo:
            name = todo.pop()
            done.add(name)
            for rule in self.rules:
                if rule.name == name:
                    keys.add(rule.key)
                    todo |= self.reads(rule) - done
        return keys

    def readers(self, name: str) -> set[str]:
        """``name`` and every rule that reads it, directly or through other recordings."""
        out = {name}
        changed = True
        while changed:
            changed = False
            for rule in self.rules:
                if rule.name not in out and self.reads(rule) & out:
                    out.add(rule.name)
                    changed = True
        return out

    def document(self, keys: set[tuple[str, int, int]], replace: Mutant | None) -> dict[str, Any]:
        """One rule document with only the rules in ``keys`` (in file order), one of them mutated."""
        groups: list[dict[str, Any]] = []
        for file, doc in self.files.items():
            for g, group in enumerate(doc["groups"]):
                kept = []
                for i, body in enumerate(group["rules"]):
                    if (file, g, i) not in keys:
                        continue
                    kept.append(dict(replace.body) if replace and replace.rule.key == (file, g, i) else body)
                if kept:
                    groups.append({**group, "name": f"{file}:{group['name']}", "rules": kept})
        return {"groups": groups}


def case_targets(case: Mapping[str, Any]) -> set[str]:
    """The alert names and recorded series one promtool test group checks."""
    out = {t["alertname"] for t in case.get("alert_rule_test", [])}
    for t in case.get("promql_expr_test", []):
        out |= metric_names(t["expr"])
    return out


@dataclass(frozen=True)
class CaseFile:
    evaluation_interval: str
    cases: Sequence[Mapping[str, Any]]


def load_cases(tests_dir: Path) -> list[CaseFile]:
    out = []
    for path in sorted(tests_dir.glob("*.test.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(CaseFile(doc.get("evaluation_interval", "1m"), doc["tests"]))
    return out


# --- running promtool ------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One promtool test file's worth of work: a rule document and the cases that check it."""

    mutant: Mutant | None
    rules: dict[str, Any]
    case_files: Sequence[CaseFile]


def _write(job: Job, directory: Path) -> list[Path]:
    directory.mkdir(parents=True)
    (directory / "rules.yaml").write_text(yaml.safe_dump(job.rules, sort_keys=False), encoding="utf-8")
    paths = []
    # Recording groups come first in the document; promtool keeps that order only when told.
    order = [g["name"] for g in job.rules["groups"]]
    for n, cf in enumerate(job.case_files):
        doc = {
            "rule_files": ["rules.yaml"],
            "evaluation_interval": cf.evaluation_interval,
            "group_eval_order": order,
            "tests": cf.cases,
        }
        path = directory / f"cases{n}.test.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def _passed_files(promtool: str, paths: Sequence[Path]) -> set[Path]:
    """Which of ``paths`` promtool passes, from one invocation over all of them."""
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    passed: set[Path] = set()
    output = result.stdout + result.stderr
    for block in output.split("Unit Testing:")[1:]:
        head, _, rest = block.strip().partition("\n")
        if rest.strip().startswith("SUCCESS"):
            passed.add(Path(head.strip()))
    return passed


def run_jobs(
    promtool: str, jobs: Sequence[Job], *, batch: int = 40, workers: int | None = None
) -> list[bool]:
    """For each job: did every one of its cases pass?"""
    workers = workers or os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="csvbot-mutants-") as tmp:
        files = [_write(job, Path(tmp) / f"m{n}") for n, job in enumerate(jobs)]
        flat = [p for paths in files for p in paths]
        # Interleave so that each batch mixes cheap and expensive jobs.
        batches = [flat[i :: workers * 4] for i in range(min(len(flat), workers * 4))] if flat else []
        batches = [b[j : j + batch] for b in batches for j in range(0, len(b), batch)]
        with ThreadPoolExecutor(workers) as pool:
            passed = (
                set().union(*pool.map(lambda b: _passed_files(promtool, b), batches)) if batches else set()
            )
        return [all(p in passed for p in paths) for paths in files]


def _job(
    ruleset: RuleSet, case_files: Sequence[CaseFile], wanted: set[str], mutant: Mutant | None
) -> Job | None:
    """The cases among ``case_files`` that check any of ``wanted``, with the rules they need."""
    selected = [
        CaseFile(cf.evaluation_interval, [c for c in cf.cases if case_targets(c) & wanted])
        for cf in case_files
    ]
    selected = [cf for cf in selected if cf.cases]
    if not selected:
        return None
    targets = set().union(*(case_targets(c) for cf in selected for c in cf.cases))
    return Job(mutant, ruleset.document(ruleset.closure(targets), mutant), selected)


def sweep(promtool: str, rules_dir: Path | None = None, tests_dir: Path = ROOT / TESTS_DIR) -> Score:
    """Every mutant of every generated rule, run against the cases that can see it.

    Two rounds: first each mutant meets only the cases about its own rule (a recording rule's
    own cases are cheap: one evaluation, one rule), then the survivors meet every case about a
    rule that reads it. Only a mutant that passes both survives.
    """
    with tempfile.TemporaryDirectory(prefix="csvbot-rules-") as tmp:
        paths = generate_rules(Path(tmp)) if rules_dir is None else sorted(rules_dir.glob("*.rules.yaml"))
        ruleset = RuleSet.load(paths)
    case_files = load_cases(tests_dir)

    score = Score()
    rounds: list[list[tuple[Mutant, Job]]] = [[], []]
    # Many rules share a pruned set (every SLO window is read by the same burn alerts): one
    # baseline per distinct set.
    baselines: dict[str, Job] = {}
    for rule in ruleset.rules:
        own = _job(ruleset, case_files, {rule.name}, None)
        readers = _job(ruleset, case_files, ruleset.readers(rule.name), None)
        for job in (own, readers):
            if job is not None:
                baselines.setdefault(yaml.safe_dump([job.rules, [cf.cases for cf in job.case_files]]), job)
        for mutant in mutants_of(rule):
            if readers is None:
                score.untested.append(mutant)
                continue
            first = _job(ruleset, case_files, {rule.name}, mutant)
            second = _job(ruleset, case_files, ruleset.readers(rule.name), mutant)
            assert second is not None
            if first is not None:
                rounds[0].append((mutant, first))
            if first is None or ruleset.readers(rule.name) != {rule.name}:
                rounds[1].append((mutant, second))  # an alert's own cases are all its cases

    results = run_jobs(promtool, [*baselines.values(), *(job for _, job in rounds[0])])
    if not all(results[: len(baselines)]):
        failed = [
            str(j.rules["groups"][-1]["rules"][-1].get("alert", "?"))
            for j, ok in zip(baselines.values(), results)
            if not ok
        ]
        raise AssertionError(f"the unmutated cases fail on their pruned rule sets: {failed}")
    first_ok = {id(m): ok for (m, _), ok in zip(rounds[0], results[len(baselines) :], strict=True)}
    second = [(m, j) for m, j in rounds[1] if first_ok.get(id(m), True)]
    second_results = run_jobs(promtool, [j for _, j in second])
    second_ok = {id(m): ok for (m, _), ok in zip(second, second_results, strict=True)}
    everyone = {id(m): m for m, _ in [*rounds[0], *rounds[1]]}
    for key, mutant in everyone.items():
        passed = first_ok.get(key, True) and second_ok.get(key, key in first_ok)
        (score.survived if passed else score.killed).append(mutant)
    return score


def main() -> None:
    import shutil
    import time

    promtool = shutil.which("promtool")
    if promtool is None:
        raise SystemExit("promtool not found: install Debian's 'prometheus' package")
    started = time.monotonic()
    score = sweep(promtool)
    print(score.report())
    print(f"{score.total} mutants in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
