"""Redis high availability (app.redis_conn): the queue and the rate limits through Redis Sentinel, on
real processes this test starts on free loopback ports (a master, its replica, one sentinel with
quorum 1): jobs relayed from the outbox while the sentinel fails the master over are all in the new
master's queue afterwards, and the rate limits count on the new master."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis

from app import db, outbox, rate_limits, redis_conn
from app.dev import free_port
from app.rate_store import FallbackStore
from app.settings import get_settings
from tests.helpers import settings_env
from workers.settings import worker_settings
from workers.worker import Worker

MASTER = "acre-test"


class Node:
    def __init__(self, directory: Path, *config: str, sentinel: bool = False) -> None:
        self.port = free_port()
        directory.mkdir()
        conf = directory / "redis.conf"
        lines = [f"port {self.port}", "bind 127.0.0.1", f'dir "{directory}"', 'save ""', *config]
        conf.write_text("\n".join(lines) + "\n")
        args = ["redis-server", str(conf), *(["--sentinel"] if sentinel else [])]
        log = (directory / "log").open("wb")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def sentinel_set(app: object, tmp_path: Path) -> Iterator[tuple[Node, Node, Node]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    primary = Node(tmp_path / "a", "appendonly yes", "appendfsync always")
    replica = Node(
        tmp_path / "b", "appendonly yes", "appendfsync always", f"replicaof 127.0.0.1 {primary.port}"
    )
    sentinel = Node(
        tmp_path / "s",
        f"sentinel monitor {MASTER} 127.0.0.1 {primary.port} 1",
        f"sentinel down-after-milliseconds {MASTER} 1000",
        f"sentinel failover-timeout {MASTER} 5000",
        sentinel=True,
    )
    try:
        yield primary, replica, sentinel
    finally:
        for node in (sentinel, replica, primary):
            node.stop()


async def _until(probe, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(Exception):
            if result := await probe():
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.1)


async def test_jobs_relayed_during_a_failover_are_all_in_the_new_master(sentinel_set):
    _primary, replica, sentinel = sentinel_set
    control = Redis(port=sentinel.port)
    replica_client = Redis(port=replica.port)

    async def replica_synced() -> bool:
        info = await replica_client.info("replication")
        return info.get("master_link_status") == "up"

    await _until(replica_synced, 30, "the replica in sync")
    await _until(lambda: control.execute_command("SENTINEL", "MASTER", MASTER), 30, "the sentinel up")

    async def replica_known() -> bool:
        """The sentinel has found the replica (it learns of it from the master's INFO, every ~10 s)
        and sees it healthy: before that, a failover answers NOGOODSLAVE."""
        replicas = await control.sentinel_slaves(MASTER)
        return any(
            r.get("is_slave")
            and not (r.get("is_sdown") or r.get("is_odown") or r.get("is_disconnected"))
            and r.get("master-link-status") == "ok"
            for r in replicas
        )

    await _until(replica_known, 30, "the sentinel to know the replica")
    queue = f"acre-sentinel:{uuid.uuid4().hex[:8]}"
    env = {
        "redis_sentinels": f"127.0.0.1:{sentinel.port}",
        "redis_sentinel_master": MASTER,
        "queue_name": queue,
    }
    names: list[str] = []
    with settings_env(**env):
        settings = get_settings()
        assert redis_conn.arq_settings(settings).sentinel
        redis = redis_conn.arq_client(settings, socket_connect_timeout=1, socket_timeout=1)
        try:
            failover_at = 30
            for i in range(80):
                async with db.transaction(None) as tx:
                    names.append(await outbox.add_job(tx, "send_email", None, str(uuid.uuid4())))
                if i == failover_at:  # the sentinel promotes the replica while the writes go on
                    await control.execute_command("SENTINEL", "FAILOVER", MASTER)
                await outbox.relay(redis)  # a failure keeps the rows pending
                await asyncio.sleep(0.02)

            async def moved() -> bool:
                _host, port = await control.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
                return int(port) == replica.port

            await _until(moved, 30, "the failover")

            async def all_relayed() -> bool:
                await outbox.relay(redis)
                async with db.transaction(None) as tx:
                    left = await tx.fetchval(
                        "SELECT count(*) FROM outbox WHERE job_id = ANY($1) AND enqueued_at IS NULL", names
                    )
                return left == 0

            await _until(all_relayed, 30, "every row relayed")
            new_master = Redis(port=replica.port)
            queued = {m.decode() for m in await new_master.zrange(queue, 0, -1)}
            assert set(names) <= queued, f"lost: {sorted(set(names) - queued)[:5]}"
            assert len(names) == 80

            # a worker configured with the sentinels runs them all from the new master
            config = worker_settings()
            assert config["redis_settings"].sentinel
            config.update(on_startup=None, on_shutdown=None, burst=True, cron_jobs=[])
            worker = Worker(**config)
            try:
                await worker.main()
            finally:
                await worker.close()
            assert await new_master.zcard(queue) == 0
            assert worker.jobs_complete >= len(names) and not worker.jobs_failed

            # the rate limits count on the new master too
            store = rate_limits.stores(settings)[rate_limits.ROOT_STORE]
            assert isinstance(store, FallbackStore)
            hits = [await store.hit("sentinel-probe", 2, 30) for _ in range(3)]  # the limiter's count
            assert [h.allowed for h in hits] == [True, True, False] and not store.outage.since
            assert await new_master.keys("*sentinel-probe*")
            await store.aclose()
            await new_master.aclose()
        finally:
            await redis.aclose()
            async with db.transaction(None) as tx:
                await tx.execute("DELETE FROM outbox WHERE job_id = ANY($1)", names)
    await control.aclose()
    await replica_client.aclose()
    assert isinstance(redis, ArqRedis)
