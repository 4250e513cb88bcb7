"""The language middleware: one database query for a burst of one user's updates."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import User

from service.db.userdata import UserPrefs
from service.i18n.middleware import UserLanguageMiddleware


class CountingRepo:
    def __init__(self) -> None:
        self.calls = 0

    async def remember_user(self, *, user_id: int, language_code: str | None, **_: Any) -> UserPrefs:
        self.calls += 1
        await asyncio.sleep(0.05)  # a slow database: the burst arrives while this one runs
        return UserPrefs(user_id=user_id, language="ru", language_code=language_code, output_format=None)


class FakeServices:
    def __init__(self, repo: CountingRepo) -> None:
        self.repo = repo


async def test_a_burst_of_one_users_updates_costs_one_query_and_all_get_their_language() -> None:
    repo = CountingRepo()
    middleware = UserLanguageMiddleware(FakeServices(repo))  # type: ignore[arg-type]
    user = User(id=5, is_bot=False, first_name="F", language_code="en")
    locales = await asyncio.gather(
        *(middleware.get_locale(object(), {"event_from_user": user}) for _ in range(50))  # type: ignore[arg-type]
    )
    assert repo.calls == 1
    assert set(locales) == {"ru"}  # the stored /language choice wins over Telegram's "en"
    await middleware.get_locale(object(), {"event_from_user": user})  # type: ignore[arg-type]
    assert repo.calls == 1  # cached


async def test_a_database_that_fails_leaves_telegrams_language() -> None:
    class Broken:
        async def remember_user(self, **_: Any) -> UserPrefs:
            raise RuntimeError("down")

    middleware = UserLanguageMiddleware(FakeServices(Broken()))  # type: ignore[arg-type]
    user = User(id=6, is_bot=False, first_name="F", language_code="kk")
    assert await middleware.get_locale(object(), {"event_from_user": user}) == "ru"  # type: ignore[arg-type]
