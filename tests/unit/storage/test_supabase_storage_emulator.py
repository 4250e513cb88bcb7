"""The Supabase Storage test server speaks Storage's wire format and injects faults on command."""

from __future__ import annotations

import asyncio
import random
import statistics
from pathlib import Path

import httpx
import pytest

from emulators.supabase_storage import Fault, SupabaseStorageServer
from emulators.supabase_storage.faults import FaultPlan, LogNormalDelay
from emulators.supabase_storage.objects import BucketRecord, ObjectStore
from tests.unit.storage.support import KEY

AUTH = {"apikey": KEY, "Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def http(storage_server: SupabaseStorageServer):
    async with httpx.AsyncClient(base_url=f"{storage_server.url}/storage/v1") as client:
        yield client


async def _make_bucket(http: httpx.AsyncClient, name: str = "b1") -> None:
    response = await http.post("/bucket", json={"id": name, "name": name}, headers=AUTH)
    assert response.status_code == 200


async def test_missing_object_is_http_400_with_status_code_404_in_the_body(http: httpx.AsyncClient) -> None:
    """Storage's quirk, which clients must handle: the real status is in the JSON body."""
    await _make_bucket(http)
    response = await http.get("/object/b1/nope.csv", headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": "404",
        "code": "NoSuchKey",
        "error": "not_found",
        "message": "Object not found",
    }


async def test_a_wrong_bearer_token_is_access_denied(http: httpx.AsyncClient) -> None:
    response = await http.get("/bucket", headers={"apikey": KEY, "Authorization": "Bearer wrong"})
    assert response.status_code == 400
    assert response.json()["statusCode"] == "403"
    assert response.json()["code"] == "AccessDenied"


async def test_a_missing_apikey_is_refused_by_the_gateway(http: httpx.AsyncClient) -> None:
    response = await http.get("/bucket", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 401
    assert "message" in response.json()


async def test_upsert_header_decides_between_conflict_and_replace(http: httpx.AsyncClient) -> None:
    await _make_bucket(http)
    first = await http.post("/object/b1/a.csv", content=b"1", headers={**AUTH, "content-type": "text/csv"})
    assert first.status_code == 200 and first.json()["Key"] == "b1/a.csv"
    conflict = await http.post("/object/b1/a.csv", content=b"2", headers=AUTH)
    assert conflict.json()["statusCode"] == "409"
    replaced = await http.post("/object/b1/a.csv", content=b"3", headers={**AUTH, "x-upsert": "true"})
    assert replaced.status_code == 200
    body = await http.get("/object/authenticated/b1/a.csv", headers=AUTH)
    assert body.content == b"3"


async def test_a_tampered_signed_url_token_is_refused(http: httpx.AsyncClient) -> None:
    await _make_bucket(http)
    await http.post("/object/b1/s.csv", content=b"secret", headers=AUTH)
    signed = await http.post("/object/sign/b1/s.csv", json={"expiresIn": 60}, headers=AUTH)
    path = signed.json()["signedURL"]
    assert (await http.get(path)).content == b"secret"
    other = await http.get(path.replace("/s.csv", "/other.csv"))
    assert other.status_code == 400 and other.json()["code"] == "InvalidSignature"
    forged = await http.get(path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB"))
    assert forged.status_code == 400


async def test_remove_returns_only_the_objects_that_existed(http: httpx.AsyncClient) -> None:
    await _make_bucket(http)
    await http.post("/object/b1/x/1.csv", content=b"1", headers=AUTH)
    response = await http.request(
        "DELETE", "/object/b1", json={"prefixes": ["x/1.csv", "x/2.csv"]}, headers=AUTH
    )
    assert [row["name"] for row in response.json()] == ["x/1.csv"]


async def test_faults_can_be_added_and_cleared_over_http(
    storage_server: SupabaseStorageServer, http: httpx.AsyncClient
) -> None:
    control = httpx.AsyncClient(base_url=storage_server.url)
    async with control:
        added = await control.post(
            "/_faults", json={"kind": "status", "status": 500, "operations": ["list_buckets"]}
        )
        assert added.status_code == 200
        assert (await http.get("/bucket", headers=AUTH)).status_code == 500
        await control.delete("/_faults")
        assert (await http.get("/bucket", headers=AUTH)).status_code == 200
        stats = (await control.get("/_stats")).json()
    assert {"operation": "list_buckets", "kind": "status", "count": 1} in stats["faults_fired"]
    assert {"operation": "list_buckets", "status": "500", "count": 1} in stats["requests"]


async def test_a_bad_fault_document_is_refused(storage_server: SupabaseStorageServer) -> None:
    async with httpx.AsyncClient(base_url=storage_server.url) as control:
        response = await control.post("/_faults", json={"kind": "hang", "operations": ["no-such-op"]})
    assert response.status_code == 400


async def test_open_connections_follow_the_clients(storage_server: SupabaseStorageServer) -> None:
    assert storage_server.open_connections == 0
    async with httpx.AsyncClient() as client:
        await client.get(f"{storage_server.url}/storage/v1/bucket", headers=AUTH)
        assert storage_server.open_connections == 1  # kept alive by the client's pool
    for _ in range(50):
        if storage_server.open_connections == 0:
            break
        await asyncio.sleep(0.01)
    assert storage_server.open_connections == 0


def test_store_holds_thousands_of_objects_on_disk_not_in_memory(tmp_path: Path) -> None:
    """Bodies spill to files; memory keeps only a small record per object."""
    store = ObjectStore(max_object_bytes=1024, root=tmp_path)
    bucket = BucketRecord(id="b1")
    store.buckets["b1"] = bucket
    for i in range(2000):
        writer = store.writer(bucket)
        writer.write(b"%d\n" % i)
        store.commit("b1", f"many/{i}.csv", writer, "text/csv", "max-age=60")
    assert len(store.objects) == 2000
    assert len(list(tmp_path.glob("*.obj"))) == 2000
    record = store.get("b1", "many/1999.csv")
    assert record is not None and store.read(record) == b"1999\n"


def test_count_limits_how_often_a_fault_fires() -> None:
    plan = FaultPlan(seed=1)
    plan.add(Fault.error_status(503, operations={"download"}, count=2))
    hits = [plan.take("download").failure for _ in range(5)]
    assert [h is not None for h in hits] == [True, True, False, False, False]
    assert plan.take("upload").failure is None


def test_probability_fires_about_that_share_of_requests() -> None:
    plan = FaultPlan(seed=3)
    plan.add(Fault.reset(probability=0.25))
    fired = sum(plan.take("download").failure is not None for _ in range(4000))
    assert 850 < fired < 1150


def test_latency_distribution_has_the_requested_median_and_p99() -> None:
    delay = LogNormalDelay(median_seconds=0.05, p99_seconds=0.8)
    rng = random.Random(5)
    samples = sorted(delay.sample(rng) for _ in range(20000))
    assert statistics.median(samples) == pytest.approx(0.05, rel=0.1)
    assert samples[int(0.99 * len(samples))] == pytest.approx(0.8, rel=0.2)


def test_same_seed_gives_the_same_faults() -> None:
    def run() -> list[float]:
        plan = FaultPlan(seed=9)
        plan.add(Fault.latency_distribution(0.01, 0.2))
        return [plan.take("download").delay_seconds for _ in range(20)]

    assert run() == run()


def test_latency_combines_with_a_failure_on_the_same_request() -> None:
    plan = FaultPlan()
    plan.add(Fault.latency(0.2))
    plan.add(Fault.error_status(503))
    selection = plan.take("sign")
    assert selection.delay_seconds == 0.2
    assert selection.failure is not None and selection.failure.status == 503
