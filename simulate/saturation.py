"""What saturated first in a simulation step: CPU of which process, a pool, the loop, or Telegram.

Each candidate becomes a *pressure*, its measured use over its capacity, so they compare on one
scale (1.0 = at the limit):

* CPU of each process — cores used over the step (psutil: user + system time over wall time) over
  one core: a Python process runs its Python code on one core at a time (the GIL), so a bot at
  0.95 cores is saturated however many cores the machine has. A process's CSV child processes
  count as their own candidate, over the pool's size;
* the machine — all the run's processes together over ``os.cpu_count()``;
* the CSV pool — mean share of busy child processes (sampled ``csvbot_csv_pool_busy``);
* the database pool — pool waits p95 over the alert's threshold;
* the event loop — lag p99 over the alert's threshold;
* the host — its 1-minute load average over the cores: other work on the machine;
* Telegram — the process holding the emulator and the users (CPU over one core): when it is the
  highest, the load generator, not the service, set the limit and the step says so.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from telemetry import slo

#: The role of the process that holds the simulated users and the Telegram emulator.
DRIVER = "driver"


def _tree_seconds(proc: psutil.Process, *, children: bool = True) -> tuple[float, float]:
    """CPU seconds of ``proc`` itself and of its living descendants."""
    try:
        own = sum(proc.cpu_times()[:2])
        kids = 0.0
        for child in proc.children(recursive=True) if children else ():
            try:
                kids += sum(child.cpu_times()[:2])
            except psutil.Error:
                continue
        return own, kids
    except psutil.Error:
        return 0.0, 0.0


@dataclass
class CpuMeter:
    """Cores used by each role's process (and, apart, by its child processes) over a step."""

    pids: dict[str, int]
    _start: dict[str, tuple[float, float]] = field(default_factory=dict)
    _started_at: float = 0.0

    def start(self) -> None:
        self._start = {role: self._seconds(role, pid) for role, pid in self.pids.items()}
        self._started_at = time.monotonic()

    @staticmethod
    def _seconds(role: str, pid: int) -> tuple[float, float]:
        # The driver's children are the service's processes, measured under their own roles.
        return _tree_seconds(psutil.Process(pid), children=role != DRIVER)

    def stop(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._started_at, 1e-6)
        used: dict[str, float] = {}
        for role, pid in self.pids.items():
            own, kids = self._seconds(role, pid)
            own0, kids0 = self._start.get(role, (0.0, 0.0))
            used[role] = max(0.0, own - own0) / wall
            if kids > 0:
                # Children come and go (a killed CSV child); a negative difference means fewer now.
                used[f"{role} children"] = max(0.0, kids - kids0) / wall
        return used


@dataclass
class PoolSampler:
    """Mean busy share of the CSV pool, from ``csvbot_csv_pool_busy`` / ``..._processes`` samples."""

    busy: float = 0.0
    size: float = 0.0
    samples: int = 0

    def sample(self, registry: Any) -> None:
        size = registry.get_sample_value("csvbot_csv_pool_processes") or 0.0
        if size > 0:
            self.busy += registry.get_sample_value("csvbot_csv_pool_busy") or 0.0
            self.size += size
            self.samples += 1

    ticks: int = 0

    def sample_every(self, registry: Any, ticks: int) -> None:
        """Sample on every ``ticks``-th call: each read of a registry walks all of it."""
        self.ticks += 1
        if self.ticks % ticks == 1 or ticks == 1:
            self.sample(registry)

    @property
    def share(self) -> float | None:
        return self.busy / self.size if self.size else None


def pressures(
    cpu: dict[str, float],
    *,
    pool_share: float | None,
    pool_size: int,
    db_wait_p95: float | None,
    loop_lag_p99: float | None,
    host_load: float | None = None,
) -> dict[str, float]:
    """Candidate → use over capacity, highest first; ``host_load`` defaults to the 1-min average."""
    out: dict[str, float] = {}
    for role, cores in cpu.items():
        if role.endswith(" children"):
            out[f"CPU of {role} (cores / pool size {pool_size})"] = cores / max(pool_size, 1)
        elif role == DRIVER:
            out["Telegram side (users + emulator process CPU, cores / 1)"] = cores
        else:
            out[f"CPU of {role} (cores / 1)"] = cores
    cores = os.cpu_count() or 1
    out[f"machine CPU (this run's processes / {cores} cores)"] = sum(cpu.values()) / cores
    # Everything else on the host: a run queue longer than the cores starves every process of
    # ours, saturated or not (a shared machine, a noisy neighbour).
    load = os.getloadavg()[0] if host_load is None else host_load
    out[f"host run queue (1-min load average / {cores} cores)"] = load / cores
    if pool_share is not None:
        out["CSV pool (busy share)"] = pool_share
    if db_wait_p95 is not None:
        out["database pool (waits p95 / threshold)"] = db_wait_p95 / slo.POOL_WAIT_P95_MAX_SECONDS
    if loop_lag_p99 is not None:
        out["event loop (lag p99 / threshold)"] = loop_lag_p99 / slo.EVENT_LOOP_LAG_P99_WARN_SECONDS
    return dict(sorted(out.items(), key=lambda kv: kv[1], reverse=True))


def describe(saturation: dict[str, float], top: int = 3) -> str:
    """``"CPU of bot (cores / 1): 0.97; …"`` — the highest pressures first."""
    if not saturation:
        return "not measured"
    return "; ".join(f"{name}: {value:.2f}" for name, value in list(saturation.items())[:top])
