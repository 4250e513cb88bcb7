"""promtool cases for the recording rules: several series, label values in and out, a rate change.

Each case feeds series whose rates change once (see :mod:`alerts.cases.counters`) and whose label
values include every value a matcher must keep and one it must leave out, each with its own rate,
then checks the recorded value against the definition computed here. So a window that is twice or
half as long, a matcher that drops or adds one value, or a wrong outcome filter changes the number
and fails the case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerts import burn_rate, recording
from alerts.cases.counters import Counter, Timeline, histogram, quantile, total_rate
from alerts.cases.model import BOT, WORKER, series
from promlib import names
from promlib.promql import QUANTILES, le, quantile_label
from telemetry import slo
from telemetry.slo import COMMAND_HANDLERS, LOG_LEVELS_SHEDDABLE, UPLOAD_HANDLER

Labels = Mapping[str, str]


def _labels_text(labels: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _promql_round(value: float) -> int:
    # PromQL's round() rounds halves up; Python's round() would round them to even.
    return math.floor(value * 1e6 + 0.5)


@dataclass(frozen=True)
class RecordingCase:
    """One promtool group checking recorded series at one time against expected values."""

    what: str
    timeline: Timeline
    inputs: Sequence[Mapping[str, str]]
    #: recorded name → [(labels of the recorded series, expected value)]
    expected: Mapping[str, Sequence[tuple[Labels, float]]]

    @property
    def name(self) -> str:
        return f"{', '.join(self.expected)} when {self.what}"

    def to_dict(self) -> dict[str, Any]:
        # round(x * 1e6) on both sides: a float's last digits depend on the order Prometheus
        # sums series in, any real change (a window, a matcher) moves the sixth digit.
        return {
            "name": self.name,
            "interval": self.timeline.interval,
            "input_series": [dict(s) for s in self.inputs],
            "promql_expr_test": [
                {
                    "expr": f"round({record} * 1000000)",
                    "eval_time": self.timeline.eval_time,
                    "exp_samples": [
                        {"labels": _labels_text(labels), "value": _promql_round(value)}
                        for labels, value in sorted(samples, key=lambda s: sorted(s[0].items()))
                    ],
                }
                for record, samples in self.expected.items()
            ],
        }


def _inputs(counters: Sequence[Counter], t: Timeline) -> list[dict[str, str]]:
    return [c.input_series(t) for c in counters]


def _select(counters: Sequence[Counter], name: str, **match: Callable[[str], bool] | str) -> list[Counter]:
    def ok(c: Counter) -> bool:
        for key, want in match.items():
            value = c.labels.get(key, "")
            if callable(want) and not want(value):
                return False
            if isinstance(want, str) and value != want:
                return False
        return True

    return [c for c in counters if c.name == name and ok(c)]


# --- success ratios --------------------------------------------------------------------------


def success_case() -> RecordingCase:
    w = recording.RATE_WINDOW
    t = Timeline.for_window(w)
    updates = "csvbot_updates_total"
    jobs = "csvbot_jobs_total"
    counters = [
        Counter(updates, {**BOT, "handler": "upload", "outcome": "ok"}, 6, 2),
        Counter(updates, {**BOT, "handler": "upload", "outcome": "rejected"}, 1, 3),
        Counter(updates, {**BOT, "handler": "upload", "outcome": "failed"}, 1, 4),
        Counter(updates, {**BOT, "handler": "start", "outcome": "ok"}, 2, 5),
        Counter(jobs, {**WORKER, "outcome": "ok"}, 3, 1),
        Counter(jobs, {**WORKER, "outcome": "rejected"}, 1, 2),
        Counter(jobs, {**WORKER, "outcome": "failed"}, 0, 2),
    ]

    def good(name: str) -> float:
        return total_rate(_select(counters, name, outcome=lambda o: o != "failed"), t, w)

    def every(name: str) -> float:
        return total_rate(_select(counters, name), t, w)

    return RecordingCase(
        what="updates and jobs end ok, rejected and failed at rates that change",
        timeline=t,
        inputs=_inputs(counters, t),
        expected={
            names.SUCCESS_RATIO: [({}, (good(updates) + good(jobs)) / (every(updates) + every(jobs)))],
            names.USER_ACTIONS_RATE: [({}, every(updates) + every(jobs))],
            names.UPDATES_SUCCESS_RATIO: [({}, good(updates) / every(updates))],
            names.JOBS_SUCCESS_RATIO: [({}, good(jobs) / every(jobs))],
        },
    )


# --- latency percentiles ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Observed:
    labels: Labels
    before: Mapping[float, float]
    after: Mapping[float, float]


def _quantile_case(
    *,
    record: str,
    metric: str,
    bounds: Sequence[float],
    observed: Sequence[_Observed],
    member: Callable[[Labels], bool],
    by: Sequence[str],
    what: str,
) -> RecordingCase:
    w = recording.RATE_WINDOW
    t = Timeline.for_window(w)
    per_series = [(o, histogram(metric, o.labels, bounds, o.before, o.after)) for o in observed]
    counters = [c for _, cs in per_series for c in cs]
    groups: dict[tuple[str, ...], list[Counter]] = {}
    for o, cs in per_series:
        if member(o.labels):
            key = tuple(o.labels[k] for k in by)
            groups.setdefault(key, []).extend(c for c in cs if c.name.endswith("_bucket"))
    samples: list[tuple[Labels, float]] = []
    for key, buckets in groups.items():
        by_le: dict[float, float] = {}
        for c in buckets:
            bound = math.inf if c.labels["le"] == "+Inf" else float(c.labels["le"])
            by_le[bound] = by_le.get(bound, 0.0) + c.rate(t, w)
        cumulative = sorted(by_le.items())
        for q in QUANTILES:
            samples.append(
                ({**dict(zip(by, key, strict=True)), "quantile": quantile_label(q)}, quantile(q, cumulative))
            )
    return RecordingCase(what=what, timeline=t, inputs=_inputs(counters, t), expected={record: samples})


def latency_cases() -> list[RecordingCase]:
    upd = "csvbot_update_duration_seconds"
    b = slo.UPDATE_BUCKETS
    handlers = [*COMMAND_HANDLERS, UPLOAD_HANDLER, "admin"]
    # Each handler answers in its own bucket, and the mix moves after the change point.
    updates = [
        _Observed({**BOT, "handler": h, "outcome": "ok"}, {b[2 + i]: 2 + i}, {b[4 + i]: 1 + 2 * i})
        for i, h in enumerate(handlers)
    ]
    cases = [
        _quantile_case(
            record=names.COMMAND_LATENCY,
            metric=upd,
            bounds=b,
            observed=updates,
            member=lambda lab: lab["handler"] in COMMAND_HANDLERS,
            by=(),
            what="each command handler, the upload handler and admin answer in buckets of their own",
        ),
        _quantile_case(
            record=names.UPLOAD_LATENCY,
            metric=upd,
            bounds=b,
            observed=updates,
            member=lambda lab: lab["handler"] == UPLOAD_HANDLER,
            by=(),
            what="the upload handler and the command handlers answer in buckets of their own",
        ),
    ]
    jb = slo.JOB_BUCKETS
    results = [
        _Observed({**WORKER, "outcome": "ok"}, {jb[3]: 4, jb[5]: 1}, {jb[6]: 3, jb[8]: 2}),
        _Observed({**WORKER, "outcome": "failed"}, {jb[9]: 1}, {jb[10]: 2}),
    ]
    cases.append(
        _quantile_case(
            record=names.UPLOAD_TO_RESULT_LATENCY,
            metric="csvbot_upload_to_result_seconds",
            bounds=jb,
            observed=results,
            member=lambda lab: True,
            by=(),
            what="results arrive ok and failed, slower after the change",
        )
    )
    sb = slo.STORAGE_BUCKETS
    storage = [
        _Observed({**WORKER, "operation": "download", "outcome": "ok"}, {sb[2]: 5}, {sb[6]: 3}),
        _Observed(
            {**WORKER, "operation": "download", "outcome": "storage_timeout"}, {sb[10]: 1}, {sb[10]: 2}
        ),
        _Observed({**WORKER, "operation": "upload_file", "outcome": "ok"}, {sb[4]: 2}, {sb[1]: 4}),
        _Observed({**BOT, "operation": "upload_file", "outcome": "ok"}, {sb[7]: 1}, {sb[8]: 1}),
    ]
    cases.append(
        _quantile_case(
            record=names.STORAGE_LATENCY,
            metric="csvbot_storage_request_duration_seconds",
            bounds=sb,
            observed=storage,
            member=lambda lab: True,
            by=("operation",),
            what="two operations on two processes get slower or faster after the change",
        )
    )
    db = slo.DB_BUCKETS
    waits = [
        _Observed(BOT, {db[3]: 6, db[8]: 1}, {db[9]: 4}),
        _Observed(WORKER, {db[1]: 2}, {db[2]: 2, db[6]: 1}),
    ]
    cases.append(
        _quantile_case(
            record=names.POOL_WAIT_LATENCY,
            metric="csvbot_db_pool_wait_seconds",
            bounds=db,
            observed=waits,
            member=lambda lab: True,
            by=("instance", "job"),
            what="the bot's and the worker's pools wait differently",
        )
    )
    lb = slo.LOOP_LAG_BUCKETS
    lags = [
        _Observed(BOT, {lb[2]: 200, lb[7]: 40}, {lb[8]: 100}),
        _Observed(WORKER, {lb[0]: 240}, {lb[1]: 200, lb[5]: 40}),
    ]
    cases.append(
        _quantile_case(
            record=names.LOOP_LAG_LATENCY,
            metric="csvbot_event_loop_lag_seconds",
            bounds=lb,
            observed=lags,
            member=lambda lab: True,
            by=("instance", "job"),
            what="the bot's and the worker's loops lag differently",
        )
    )
    return cases


# --- saturation and ratios -------------------------------------------------------------------


def saturation_cases() -> list[RecordingCase]:
    w = recording.RATIO_WINDOW
    t = Timeline.for_window(w)
    count = "csvbot_storage_request_duration_seconds_count"
    storage = [
        Counter(count, {**WORKER, "operation": "download", "outcome": "ok"}, 20, 10),
        Counter(count, {**WORKER, "operation": "download", "outcome": "storage_timeout"}, 1, 4),
        Counter(count, {**WORKER, "operation": "download", "outcome": "storage_unavailable"}, 2, 1),
        Counter(count, {**BOT, "operation": "upload_file", "outcome": "storage_timeout"}, 0, 3),
        Counter(count, {**BOT, "operation": "upload_file", "outcome": "ok"}, 7, 9),
    ]
    timeouts = total_rate(_select(storage, count, outcome="storage_timeout"), t, w)
    every = total_rate(storage, t, w)

    logs: list[Counter] = []
    for proc, scale in ((BOT, 1.0), (WORKER, 2.0)):
        for level, accepted, dropped in (
            ("debug", (40, 10), (1, 6)),
            ("info", (100, 60), (2, 9)),
            ("warning", (5, 5), (1, 3)),
        ):
            logs.append(
                Counter("csvbot_log_records_total", {**proc, "level": level}, *(scale * a for a in accepted))
            )
            logs.append(
                Counter(
                    "csvbot_log_records_dropped_total",
                    {**proc, "level": level},
                    *(scale * d for d in dropped),
                )
            )
    drop_ratio: list[tuple[Labels, float]] = []
    for proc in (BOT, WORKER):
        mine = [
            c
            for c in logs
            if c.labels["instance"] == proc["instance"] and c.labels["level"] in LOG_LEVELS_SHEDDABLE
        ]
        lost = total_rate([c for c in mine if "dropped" in c.name], t, w)
        kept = total_rate([c for c in mine if "dropped" not in c.name], t, w)
        drop_ratio.append((proc, lost / (kept + lost)))

    gauges = [
        series("csvbot_db_pool_in_use", BOT, f"3x{t.samples - 1}"),
        series("csvbot_db_session_limit", BOT, f"4x{t.samples - 1}"),
        series("csvbot_db_pool_in_use", WORKER, f"1x{t.samples - 1}"),
        series("csvbot_db_session_limit", WORKER, f"0x{t.samples - 1}"),
        series("csvbot_job_queue_depth", BOT, f"3x{t.samples - 1}"),
        series("csvbot_job_queue_depth", WORKER, f"5x{t.samples - 1}"),
    ]
    return [
        RecordingCase(
            what="storage calls end ok, in timeouts and in other errors, on two processes",
            timeline=t,
            inputs=_inputs(storage, t),
            expected={
                names.STORAGE_TIMEOUT_RATIO: [({}, timeouts / every)],
                names.STORAGE_REQUESTS_RATE: [({}, every)],
            },
        ),
        RecordingCase(
            what="DEBUG, INFO and WARNING records are accepted and dropped on two processes",
            timeline=t,
            inputs=_inputs(logs, t),
            expected={names.LOG_DROP_RATIO: drop_ratio},
        ),
        RecordingCase(
            what="one process has a session limit of 0 and the two report different queue depths",
            timeline=t,
            inputs=gauges,
            expected={names.POOL_UTILISATION: [(BOT, 0.75)], names.QUEUE_DEPTH: [({}, 5.0)]},
        ),
    ]


# --- SLO error ratios --------------------------------------------------------------------------


def _slo_events() -> list[tuple[Labels, Mapping[float, float], Mapping[float, float]]]:
    """(labels, observations per sample by bucket before, after) for every handler and outcome."""
    fast, mid, slow = 0.5, 1.0, 5.0
    over = 10.0
    return [
        ({**BOT, "handler": "start", "outcome": "ok"}, {fast: 20, over: 1}, {mid: 10, slow: 4}),
        ({**BOT, "handler": "start", "outcome": "failed"}, {fast: 1}, {fast: 3}),
        ({**BOT, "handler": "help", "outcome": "rejected"}, {fast: 4, slow: 1}, {fast: 2}),
        ({**BOT, "handler": "jobs", "outcome": "ok"}, {mid: 6}, {slow: 3}),
        ({**BOT, "handler": "job", "outcome": "ok"}, {fast: 5}, {over: 2}),
        ({**BOT, "handler": "upload", "outcome": "ok"}, {slow: 12, over: 1}, {mid: 4, over: 5}),
        ({**BOT, "handler": "upload", "outcome": "failed"}, {fast: 1}, {slow: 2}),
        ({**BOT, "handler": "upload", "outcome": "rejected"}, {fast: 3}, {mid: 1, over: 1}),
        ({**BOT, "handler": "admin", "outcome": "ok"}, {over: 9}, {fast: 9}),
    ]


def slo_cases(window: str) -> RecordingCase:
    t = Timeline.for_window(window)
    bounds = (0.5, 1.0, 5.0, 10.0)
    metric = "csvbot_update_duration_seconds"
    per = [(lab, histogram(metric, lab, bounds, b, a)) for lab, b, a in _slo_events()]
    counters = [c for _, cs in per for c in cs]
    errors: list[tuple[Labels, float]] = []
    events: list[tuple[Labels, float]] = []
    for ind in burn_rate.INDICATORS:
        handlers = COMMAND_HANDLERS if ind.objective is slo.COMMAND_SLO else (UPLOAD_HANDLER,)
        threshold = ind.objective.threshold_seconds
        good = 0.0
        total = 0.0
        for lab, cs in per:
            if lab["handler"] not in handlers:
                continue
            (count,) = [c for c in cs if c.name.endswith("_count")]
            total += count.rate(t, window)
            if lab["outcome"] != "failed":
                (bucket,) = [c for c in cs if c.labels.get("le") == le(threshold)]
                good += bucket.rate(t, window)
        label = {"slo": ind.objective.name}
        errors.append((label, 1 - good / total))
        events.append((label, total))
    return RecordingCase(
        what=f"command and upload latencies, ok, rejected and failed, change inside the {window} window",
        timeline=t,
        inputs=_inputs(counters, t),
        expected={names.slo_error_ratio(window): errors, names.slo_event_rate(window): events},
    )


def recording_cases_by_step() -> dict[int, list[RecordingCase]]:
    """Cases grouped by their sample step: a promtool file evaluates its rules at one interval."""
    cases = [success_case(), *latency_cases(), *saturation_cases()]
    cases += [slo_cases(w) for w in burn_rate.burn_windows()]
    out: dict[int, list[RecordingCase]] = {}
    for case in cases:
        out.setdefault(case.timeline.step, []).append(case)
    return out
