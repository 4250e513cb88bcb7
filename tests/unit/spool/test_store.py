"""The spool on disk: complete entries survive a restart, half-written ones never come back, and
the byte bound holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.spool import Spool, SpoolEntry, SpoolFullError, Stage
from telemetry.metrics import Metrics


def _entry(job_id: str = "abc123abc123") -> SpoolEntry:
    return SpoolEntry(
        job_id=job_id,
        user_id=1,
        chat_id=1,
        username=None,
        file_name="a.csv",
        size=4,
        input_key=f"inputs/1/{job_id}.csv",
        progress_message_id=7,
        trace_context={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
        accepted_at=1.0,
    )


def _spool(root: Path, max_bytes: int = 1000) -> tuple[Spool, Metrics]:
    metrics = Metrics(CollectorRegistry(), process_metrics=False)
    return Spool(root, max_bytes, metrics), metrics


def _download(spool: Spool, job_id: str, data: bytes) -> Path:
    path = spool.incoming_path(job_id)
    path.write_bytes(data)
    return path


def test_a_committed_entry_comes_back_after_a_restart_with_its_stage(tmp_path: Path) -> None:
    spool, metrics = _spool(tmp_path)
    spool.open()
    entry = _entry()
    spool.commit(entry, _download(spool, entry.job_id, b"a,b\n"))
    entry.stage, entry.waiting_for = Stage.STORED, "database"
    spool.save(entry)
    assert metrics.registry.get_sample_value("csvbot_spool_bytes") == 4
    assert metrics.registry.get_sample_value("csvbot_spool_entries") == 1

    again, _ = _spool(tmp_path)
    [loaded] = again.open()
    assert loaded == entry
    assert again.data_path(entry.job_id).read_bytes() == b"a,b\n"
    assert not list(tmp_path.glob("*.tmp"))


def test_half_downloaded_files_and_records_without_data_are_dropped_at_start_up(tmp_path: Path) -> None:
    spool, _ = _spool(tmp_path)
    spool.open()
    _download(spool, "deadbeef0000", b"partial")
    (tmp_path / "feedfeed0000.json").write_text(_entry("feedfeed0000").to_json())  # no data file
    (tmp_path / "0123456789ab.json").write_text("{not json")
    (tmp_path / "0123456789ab.csv").write_bytes(b"x")
    again, metrics = _spool(tmp_path)
    assert again.open() == []
    assert list(tmp_path.rglob("*.*")) == []
    assert metrics.registry.get_sample_value("csvbot_spool_entries") == 0


def test_an_entry_past_the_byte_bound_is_refused_and_left_where_it_was(tmp_path: Path) -> None:
    spool, _ = _spool(tmp_path, max_bytes=6)
    spool.open()
    spool.commit(_entry("aaaaaaaaaaaa"), _download(spool, "aaaaaaaaaaaa", b"1234"))
    big = _download(spool, "bbbbbbbbbbbb", b"567")
    with pytest.raises(SpoolFullError):
        spool.commit(_entry("bbbbbbbbbbbb"), big)
    assert big.exists() and len(spool) == 1
    spool.remove("aaaaaaaaaaaa")
    assert spool.bytes_used == 0 and not spool.data_path("aaaaaaaaaaaa").exists()


def test_commits_in_threads_never_both_take_the_last_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk commits in worker threads: the room is taken before the (slow) fsync."""
    import threading
    import time

    from service.spool import store

    fsync = store._fsync_file

    def slow_fsync(path: Path) -> None:
        time.sleep(0.2)
        fsync(path)

    monkeypatch.setattr(store, "_fsync_file", slow_fsync)
    spool, metrics = _spool(tmp_path, max_bytes=6)
    spool.open()
    outcomes: list[str] = []

    def commit(job_id: str) -> None:
        try:
            spool.commit(_entry(job_id), _download(spool, job_id, b"1234"))
            outcomes.append("kept")
        except SpoolFullError:
            outcomes.append("full")

    threads = [threading.Thread(target=commit, args=(job_id,)) for job_id in ("aaaaaaaaaaaa", "bbbbbbbbbbbb")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["full", "kept"]
    assert spool.bytes_used == 4 and len(spool) == 1
    assert metrics.registry.get_sample_value("csvbot_spool_bytes") == 4
