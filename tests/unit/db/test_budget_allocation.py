"""The budget rule: grants never sum past the budget, shares move to demand, minimums hold."""

from __future__ import annotations

import random

from service.db.budget.allocation import Lease, LeaseReport, grant_for, wanted_sessions

BUDGET = 10


def report(
    pid: str, *, role: str = "worker", held: int = 0, wanted: int = 4, minimum: int = 1
) -> LeaseReport:
    return LeaseReport(
        process_id=pid,
        role=role,
        minimum=minimum,
        held=held,
        wanted=wanted,
        in_use=0,
        waiting=0,
        pinned=False,
        db_errors=0,
    )


def lease(pid: str, granted: int, **kw: int | str) -> Lease:
    return Lease(report(pid, **kw), granted, expires_at=1e12)  # type: ignore[arg-type]


def test_a_process_gets_the_limit_while_the_budget_has_room() -> None:
    assert grant_for(report("a"), 0, [lease("b", 4)], budget=BUDGET, limit=4) == 4


def test_a_grant_never_exceeds_what_the_others_leave_free() -> None:
    others = [lease("b", 4), lease("c", 4)]
    assert grant_for(report("a"), 0, others, budget=BUDGET, limit=4) == 2


def test_a_share_given_back_counts_until_its_connections_are_closed() -> None:
    # b was granted 1 but still has 4 open from its earlier grant: only 2 are free.
    others = [lease("b", 1, held=4), lease("c", 4)]
    assert grant_for(report("a"), 0, others, budget=BUDGET, limit=4) == 2


def test_a_starting_process_waits_for_its_minimum() -> None:
    others = [lease("b", 5), lease("c", 4)]
    assert grant_for(report("bot", role="bot", minimum=2), 0, others, budget=BUDGET, limit=5) == 0


def test_others_give_back_down_to_a_fair_share_when_someone_is_starved() -> None:
    starved = lease("bot", 0, wanted=2, role="bot", minimum=2)
    busy = report("w1", wanted=5)
    assert grant_for(busy, 5, [starved, lease("w2", 5)], budget=BUDGET, limit=5) == 3  # 10 // 3
    idle = report("w1", wanted=2)
    assert grant_for(idle, 5, [starved, lease("w2", 5)], budget=BUDGET, limit=5) == 2


def test_an_idle_process_asks_for_its_minimum_and_a_busy_one_for_the_limit() -> None:
    assert wanted_sessions(role_minimum=2, limit=5, grant=5, peak_in_use=0, pressure=False) == 2
    assert wanted_sessions(role_minimum=1, limit=5, grant=5, peak_in_use=3, pressure=False) == 4
    assert wanted_sessions(role_minimum=1, limit=5, grant=2, peak_in_use=2, pressure=True) == 5


def test_random_renewal_orders_never_overbook_the_budget() -> None:
    """Processes renew in random order with random demand and limit changes: the invariant holds."""
    rng = random.Random(7)
    grants: dict[str, int] = {}
    held: dict[str, int] = {}
    limit = 4
    for step in range(5000):
        if step % 500 == 0:
            limit = rng.randint(1, 10)
        pid = f"p{rng.randint(0, 5)}"
        if rng.random() < 0.02:
            grants.pop(pid, None)  # the process died: its lease expired, its connections closed
            held.pop(pid, None)
            continue
        others = [
            Lease(report(p, held=held[p], wanted=rng.randint(1, 10)), g, 1e12)
            for p, g in grants.items()
            if p != pid
        ]
        current = grants.get(pid, 0)
        mine = report(pid, held=max(held.get(pid, 0), current), wanted=rng.randint(1, 10))
        new = grant_for(mine, current, others, budget=BUDGET, limit=limit)
        grants[pid] = new
        # The pool closes surplus connections only as they come back: some stay open a while.
        held[pid] = new if new >= current else rng.randint(new, current)
        assert sum(max(grants[p], held[p]) for p in grants) <= BUDGET, (step, grants, held)
