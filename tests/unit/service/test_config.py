"""Settings: embedded defaults when cloud settings are unset; one clear line for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.config import load_settings
from service.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("SUPABASE_", "DATABASE_", "REDIS_", "BOT_", "STORAGE_", "LOG_", "METRICS_")):
            monkeypatch.delenv(key)


def test_unset_cloud_settings_select_the_embedded_defaults() -> None:
    s = load_settings({}, env_file=None)
    assert not s.uses_postgres and not s.uses_supabase_storage and not s.uses_redis
    assert s.supabase_session_limit == 4
    assert s.storage_timeout_seconds == 15 and s.storage_slow_seconds == 10
    assert s.metrics_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        ({"SUPABASE_SESSION_LIMIT": "0"}, "SUPABASE_SESSION_LIMIT", "greater than or equal to 1"),
        ({"SUPABASE_SESSION_LIMIT": "11"}, "SUPABASE_SESSION_LIMIT", "SUPABASE_SESSION_LIMIT_MAX=10"),
        ({"SUPABASE_URL": "https://x.supabase.co"}, "SUPABASE_KEY", "required"),
        ({"SUPABASE_URL": "x.supabase.co", "SUPABASE_KEY": "k"}, "SUPABASE_URL", "http(s) URL"),
        ({"DATABASE_URL": "mysql://u:hunter2@h/db"}, "DATABASE_URL", "postgresql://"),
        ({"STORAGE_TIMEOUT_SECONDS": "soon"}, "STORAGE_TIMEOUT_SECONDS", "valid number"),
        ({"STORAGE_SLOW_SECONDS": "20"}, "STORAGE_SLOW_SECONDS", "STORAGE_TIMEOUT_SECONDS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL", "'INFO'"),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT", "65535"),
        ({"WEBHOOK_URL": "https://bot.example"}, "WEBHOOK_SECRET", "required"),
    ],
)
def test_bad_values_name_the_variable_and_what_is_allowed(
    env: dict[str, str], variable: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env, env_file=None)
    assert info.value.variable == variable
    assert fragment in str(info.value)


def test_a_bad_database_url_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"DATABASE_URL": "mysql://u:hunter2@h/db"}, env_file=None)
    assert "hunter2" not in str(info.value)


def test_admin_ids_are_a_comma_separated_list() -> None:
    assert load_settings({"ADMIN_IDS": "12, 34"}, env_file=None).admin_ids == (12, 34)


def test_secrets_do_not_appear_in_repr() -> None:
    s = load_settings({"BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"}, env_file=None)
    assert "ABCDEFGH" not in repr(s)


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path) -> None:
    env = {**os.environ, "SUPABASE_SESSION_LIMIT": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "SUPABASE_SESSION_LIMIT" in proc.stderr
    assert "Traceback" not in proc.stderr
