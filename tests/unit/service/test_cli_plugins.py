"""Tool subcommands reach the ``csvbot`` command through entry points, never through imports."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from service import cli


def test_an_installed_checkout_has_the_simulate_and_generate_subcommands() -> None:
    assert {"simulate", "generate"} <= set(cli.plugin_commands())


def test_a_declared_tool_whose_package_is_absent_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        EntryPoint(name="generate", value="monitoring.command", group=cli.PLUGIN_GROUP),
        EntryPoint(name="simulate", value="not_shipped_here.subcommand", group=cli.PLUGIN_GROUP),
    ]
    monkeypatch.setattr(cli, "entry_points", lambda group: entries if group == cli.PLUGIN_GROUP else [])
    assert set(cli.plugin_commands()) == {"generate"}
    with pytest.raises(SystemExit):
        cli.main(["simulate"])  # argparse: invalid choice, exit status 2


def test_generate_runs_without_loading_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("generate must not need the service's settings")

    monkeypatch.setattr(cli, "load_settings", refuse)
    assert cli.main(["generate", "--check"]) == 0
