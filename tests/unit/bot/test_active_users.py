"""ActiveUsers: distinct users in a sliding window, in bounded memory."""

from __future__ import annotations

import time

from service.bot.middlewares import ActiveUsers


def test_each_user_counts_once_however_often_seen() -> None:
    active = ActiveUsers(window_seconds=60)
    for user_id in (1, 2, 1, 3, 2, 1):
        active.seen(user_id)
    assert active.count() == 3


def test_users_not_seen_within_the_window_are_no_longer_counted() -> None:
    active = ActiveUsers(window_seconds=0.1)
    active.seen(1)
    active.seen(2)
    time.sleep(0.15)
    active.seen(3)
    assert active.count() == 1


def test_seeing_a_user_again_keeps_them_in_the_window() -> None:
    active = ActiveUsers(window_seconds=0.2)
    active.seen(1)
    active.seen(2)
    time.sleep(0.12)
    active.seen(1)  # refreshed: now the most recent
    time.sleep(0.12)
    assert active.count() == 1  # user 2 expired, user 1 did not


def test_memory_is_bounded_by_max_users() -> None:
    """Past ``max_users`` the least recently seen are forgotten: a flood of new ids cannot grow it."""
    active = ActiveUsers(window_seconds=60, max_users=3)
    for user_id in range(1000):
        active.seen(user_id)
    assert active.count() == 3


def test_no_users_counts_zero() -> None:
    assert ActiveUsers().count() == 0
