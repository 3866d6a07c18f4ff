"""Many processes, one truth: two API processes (``acre serve``, granian) and two workers
(``acre worker``), real processes on free loopback ports, against the suite's one PostgreSQL database
and one redis-server of this module's own (started here, never the machine's shared one).

What holds across them: a session made through one API works, and ends, through the other (the API's
bearer token, and the pages' cookie with its CSRF token); a rate limit counts once for both (a burst
split over the two lets exactly the limit through); the outbox relays each job once and each job runs
once, whichever process relayed or ran it; each cron job runs once per period although both workers
schedule every period (the second worker's host in another time zone); and a handover executed
through one API is undone through the other.

Each worker serves its metrics on a port of its own: the runs of a job are the two workers'
``acre_jobs_total``, summed.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job
from prometheus_client.parser import text_string_to_metric_families

from app.dev import free_port
from tests.conftest import Stack
from tests.helpers import PASSWORD, connect, signup
from tests.integration.customers.pool.support import team
from tests.integration.handover.support import owned, owners, plan
from tests.integration.test_outages import RedisServer, Services, eventually, kill_group
from workers.settings import CRON_JOBS, worker_settings
from workers.worker import Worker

TOKEN = "many-processes-metrics"
LIMIT = 10  # requests a minute per client address in each public bucket (the login limit sets them)
RELAY = "cron:relay_outbox"
RELAY_PERIOD_MS = 5000  # workers.settings: every 5 s
RELAY_PHASE_MS = next(c for c in CRON_JOBS if c.name == RELAY).microsecond // 1000  # ARQ's default: .123 s
OTHER_ZONE = "Asia/Kolkata"  # +05:30: not even the minutes of the hour agree with UTC

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Cluster:
    services: Services
    apis: tuple[str, str]
    worker_ports: tuple[int, int]
    redis: ArqRedis
    admin_db: str
    workers: tuple[subprocess.Popen[bytes], ...] = ()

    @asynccontextmanager
    async def clients(self) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
        """A client of API A and one of API B."""
        async with (
            httpx.AsyncClient(base_url=self.apis[0], timeout=30) as on_a,
            httpx.AsyncClient(base_url=self.apis[1], timeout=30) as on_b,
        ):
            yield on_a, on_b

    async def worker_metrics(self, port: int) -> Samples:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        await writer.drain()
        raw = (await reader.read()).decode()
        writer.close()
        head, _, body = raw.partition("\r\n\r\n")
        assert head.split(" ")[1] == "200", raw[:500]
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    async def runs(self, job: str, outcome: str | None = None) -> list[int]:
        """How many times each worker ran ``job`` (that ended with ``outcome``, or at all)."""
        counts = []
        for port in self.worker_ports:
            found = await self.worker_metrics(port)
            counts.append(
                int(
                    sum(
                        v
                        for (name, labels), v in found.items()
                        if name == "acre_jobs_total"
                        and ("job", job) in labels
                        and (outcome is None or ("outcome", outcome) in labels)
                    )
                )
            )
        return counts

    async def quiet(self) -> None:
        """Wait until no outbox row is pending and no job is due (left over from the suite's other tests:
        these APIs and workers relay and run the whole database's outbox)."""
        state: dict[str, Any] = {}

        async def idle() -> bool:
            async with connect(self.admin_db) as conn:
                state["pending"] = await conn.fetch(
                    "SELECT job_id, attempts, last_error FROM outbox WHERE enqueued_at IS NULL"
                )
            now = int(time.time() * 1000)
            state["due"] = await self.redis.zrangebyscore(self.services.queue, "-inf", now)
            return not (state["pending"] or state["due"])

        await eventually(idle, 60, "the jobs settling", lambda: f"{state}\n{self.services.log_text()}")


@pytest.fixture(scope="module")
async def cluster(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    root = tmp_path_factory.mktemp("many-processes")
    (root / "redis").mkdir()
    (root / "logs").mkdir()
    redis_server = RedisServer(root / "redis")
    redis_server.start()
    services = Services(redis_server, root / "logs")
    api_ports = free_port(), free_port()
    worker_ports = free_port(), free_port()
    for port in api_ports:
        services.start("api", "serve", "--port", str(port), ACRE_LOGIN_RATE_LIMIT_PER_MINUTE=str(LIMIT))
    workers = tuple(
        services.start(
            "worker", "worker", ACRE_METRICS_TOKEN=TOKEN, ACRE_WORKER_METRICS_PORT=str(port), TZ=zone
        )
        for port, zone in zip(worker_ports, ("UTC", OTHER_ZONE), strict=True)
    )
    redis = await create_pool(RedisSettings.from_dsn(redis_server.url), default_queue_name=services.queue)
    made = Cluster(
        services, (f"http://127.0.0.1:{api_ports[0]}", f"http://127.0.0.1:{api_ports[1]}"), worker_ports,
        redis, stack.admin_url, workers,
    )  # fmt: skip
    try:

        async def up() -> bool:
            try:
                async with made.clients() as (on_a, on_b):
                    for http in (on_a, on_b):
                        if (await http.get("/health", timeout=1)).status_code != 200:
                            return False
                for port in worker_ports:
                    await made.worker_metrics(port)
            except (httpx.HTTPError, OSError, AssertionError):
                return False
            return True

        await eventually(up, 90, "two APIs and two workers answering", services.log_text)
        yield made
    finally:
        await redis.aclose()
        for process in services.processes:  # no graceful stop to wait for: test_worker_shutdown has it
            kill_group(process)
        redis_server.stop()


async def test_a_session_made_through_one_api_works_and_ends_through_the_other(cluster: Cluster) -> None:
    async with cluster.clients() as (on_a, on_b):
        owner = await signup(on_a)
        r = await on_a.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        bearer = {"Authorization": f"Bearer {r.json()['session']['token']}"}
        me = await on_b.get("/api/v1/me", headers=bearer)
        assert me.status_code == 200 and me.json()["email"] == owner.email, me.text
        assert (await on_b.post("/api/v1/auth/logout", headers=bearer)).status_code == 200
        assert (await on_a.get("/api/v1/me", headers=bearer)).status_code == 401  # ended for both

        # the pages' cookie session and its CSRF token: signed in on A, used and ended on B
        r = await on_a.post("/login", data={"email": owner.email, "password": PASSWORD})
        assert r.status_code == 303, r.text
        session, csrf = r.cookies["acre_session"], r.cookies["acre_csrf"]
        on_a.cookies.clear()
        cookie = {"Cookie": f"acre_session={session}; acre_csrf={csrf}"}
        page = await on_b.get("/customers", headers=cookie)
        assert page.status_code == 200, page.text
        assert csrf in page.text  # the layout hands htmx the same CSRF token on B
        out = await on_b.post("/logout", headers={**cookie, "HX-Request": "true", "X-CSRF-Token": csrf})
        assert out.status_code == 200 and out.headers["hx-redirect"] == "/login", out.text
        gone = await on_a.get("/customers", headers=cookie)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login"), gone.text


async def test_a_rate_limit_split_over_two_apis_lets_exactly_the_limit_through(cluster: Cluster) -> None:
    """2 × LIMIT verifications at once, half through each API, all from 127.0.0.1: LIMIT are answered
    and the rest refused, as by one process. Counted per process all would pass; counted by reading
    the count and writing it back (Litestar's limiter), a few more than LIMIT did."""
    async with cluster.clients() as (on_a, on_b):

        async def verify(http: httpx.AsyncClient) -> httpx.Response:
            return await http.post("/api/v1/verify", files={"file": ("x.pdf", b"not a pdf")})

        answers = await asyncio.gather(*(verify((on_a, on_b)[i % 2]) for i in range(2 * LIMIT)))
        statuses = Counter(r.status_code for r in answers)
        assert statuses[429] == LIMIT and statuses[422] == LIMIT, statuses  # 422: not a PDF
        refused = next(r for r in answers if r.status_code == 429)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(refused.headers["retry-after"]) <= 60
        answered = [r for r in answers if r.status_code == 422]
        remaining = sorted(int(r.headers["ratelimit-remaining"]) for r in answered)
        assert remaining == list(range(LIMIT)), remaining  # each answered request counted once
        for _ in range(5):  # spent for both; each refusal reaches the client whole (its body read),
            for http in (on_a, on_b):  # and the connection serves the next request
                assert (await verify(http)).status_code == 429


async def test_the_outbox_relays_each_job_once_and_each_job_runs_once(
    cluster: Cluster, admin_db: str
) -> None:
    """N rows written straight to the outbox while both APIs' relays are woken at once (a document
    requested through each) and the workers' relay cron comes round: every row is enqueued once and
    its job run once, by one of the two workers, both of which take some."""
    await cluster.quiet()
    before = await cluster.runs("send_email")
    n = 100
    ids = [f"send_email:many-{uuid.uuid4()}" for _ in range(n)]
    async with cluster.clients() as (on_a, on_b):
        owner = await signup(on_a)
        async with connect(admin_db) as conn:  # jobs for mails that do not exist: each answers "missing"
            await conn.executemany(
                "INSERT INTO outbox (tenant, job, args, job_id)"
                " VALUES ($1::uuid, 'send_email', $2::jsonb, $3)",
                [(owner.tenant_id, json.dumps([owner.tenant_id, str(uuid.uuid4())]), i) for i in ids],
            )

        async def document(http: httpx.AsyncClient) -> None:
            body = {"kind": "contract", "subject_type": "sample", "subject_id": "s-1"}
            r = await http.post(
                "/api/v1/documents",
                json={**body, "idempotency_key": secrets.token_hex(8)},
                headers=owner.headers,
            )
            assert r.status_code == 202, r.text

        await asyncio.gather(document(on_a), document(on_b))

    async def all_ran() -> bool:
        async with connect(admin_db) as conn:
            pending = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE job_id = ANY($1) AND enqueued_at IS NULL", ids
            )
        return pending == 0 and await cluster.redis.exists(*(result_key_prefix + i for i in ids)) == n

    await eventually(all_ran, 60, "every outbox job run", cluster.services.log_text)
    await cluster.quiet()
    async with connect(admin_db) as conn:
        attempts = await conn.fetch("SELECT attempts FROM outbox WHERE job_id = ANY($1)", ids)
    assert len(attempts) == n and {r["attempts"] for r in attempts} == {0}  # relayed at the first try
    results = [await Job(i, cluster.redis).result_info() for i in ids]
    assert all(r is not None and r.success and r.job_try == 1 for r in results)
    after = await cluster.runs("send_email")
    ran = [x - y for x, y in zip(after, before, strict=True)]
    assert sum(ran) == n, ran  # each once: none twice, whichever worker took it
    assert all(r > 0 for r in ran), ran  # and both workers took some


async def _into_the_period(start: float, end: float) -> None:
    """Sleep until between ``start`` and ``end`` seconds into a relay period (the period starts at
    ARQ's .123 s past a multiple of 5 s)."""
    period_s = RELAY_PERIOD_MS / 1000
    into = (time.time() - RELAY_PHASE_MS / 1000) % period_s
    if not start <= into < end:
        await asyncio.sleep((start - into) % period_s)


async def _cron_snapshot(cluster: Cluster) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Per cron job: the periods (job ids) that have a result in Redis, and the runs the two workers
    counted; taken when two reads 0.3 s apart agree, away from the relay's period boundaries."""
    names = [c.name for c in CRON_JOBS]
    while True:
        await _into_the_period(0.5, 4.0)  # a relay run takes milliseconds
        reads = []
        for _ in range(2):
            periods = {
                name: sorted(
                    int(key.decode().rsplit(":", 1)[1])
                    for key in await cluster.redis.keys(f"{result_key_prefix}{name}:*")
                )
                for name in names
            }
            runs = {name: sum(await cluster.runs(name)) for name in names}
            reads.append((periods, runs))
            await asyncio.sleep(0.3)
        if reads[0] == reads[1]:
            return reads[0]


async def test_each_cron_job_runs_once_per_period_even_with_a_worker_late(cluster: Cluster) -> None:
    """Both workers schedule every period of every cron job under the same job id (the period), and one
    of them runs it. The second worker is made late for one: stopped (SIGSTOP) just after a relay period
    and resumed 2 s after the next, which the first ran meanwhile; resumed, it schedules that period
    late, and the period is not queued again (ARQ keeps the result, and queues a job id once while it is
    kept). Then over the module's whole run: every relay period (every 5 s) ran, each once, besides the
    run at each worker's start; every other cron job that came round ran once a period too."""
    await _into_the_period(0.5, 1.5)
    missed = (int(time.time() * 1000) // RELAY_PERIOD_MS + 1) * RELAY_PERIOD_MS + RELAY_PHASE_MS
    job_id = f"{RELAY}:{missed}"
    late = cluster.workers[1]
    os.kill(late.pid, signal.SIGSTOP)
    try:

        async def ran() -> bool:
            return bool(await cluster.redis.exists(result_key_prefix + job_id))

        await eventually(ran, 15, f"the first worker running {job_id}", cluster.services.log_text)
        await asyncio.sleep(max(0.0, missed / 1000 + 2 - time.time()))
    finally:
        os.kill(late.pid, signal.SIGCONT)
    for _ in range(10):  # the resumed worker's first polls: it schedules the missed period now
        await asyncio.sleep(0.1)
        assert await cluster.redis.zscore(cluster.services.queue, job_id) is None, job_id
    assert late.poll() is None
    following = f"{RELAY}:{missed + RELAY_PERIOD_MS}"  # the period after: run too, once (checked below)

    async def next_ran() -> bool:
        return bool(await cluster.redis.exists(result_key_prefix + following))

    await eventually(next_ran, 15, f"a worker running {following}", cluster.services.log_text)

    periods, runs = await _cron_snapshot(cluster)
    for name, ran_times in runs.items():
        assert ran_times == len(periods[name]), (name, ran_times, periods[name])  # none ran twice
    every_5s = [p for p in periods[RELAY] if p % RELAY_PERIOD_MS == RELAY_PHASE_MS]
    at_start = [p for p in periods[RELAY] if p % RELAY_PERIOD_MS != RELAY_PHASE_MS]
    assert missed in every_5s and missed + RELAY_PERIOD_MS in every_5s, every_5s
    assert every_5s == list(range(every_5s[0], every_5s[-1] + 1, RELAY_PERIOD_MS))  # none missed
    assert len(at_start) == 2  # run_at_startup: each worker's own start


@contextmanager
def host_time_zone(zone: str) -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


async def _schedule(workers: tuple[Worker, ...], queue: str, redis: ArqRedis, now: datetime) -> list[str]:
    """Let ``workers`` (on ``queue``) schedule each cron job's next period after ``now`` at the same
    moment, one period after the other as the time would; returns the job ids queued."""
    for worker in workers:
        worker._pool = redis
    # as in each worker's poll: the time in the worker's own zone (``Worker.timezone``)
    await asyncio.gather(*(w.run_cron(now.astimezone(w.timezone), 0.5) for w in workers))
    for raw in await redis.zrange(queue, 0, -1):  # the relay's run at the start: not a period
        await redis.delete(job_key_prefix + raw.decode())
    await redis.delete(queue)
    periods = sorted({c.next_run for c in workers[0].cron_jobs if c.next_run is not None})
    for t in periods:  # every worker schedules each period just before it comes
        moment = t - timedelta(seconds=0.2)
        await asyncio.gather(*(w.run_cron(moment.astimezone(w.timezone), 0.5) for w in workers))
    return sorted(raw.decode() for raw in await redis.zrange(queue, 0, -1))


async def test_every_shipped_cron_job_is_queued_once_per_period_by_two_racing_workers(
    cluster: Cluster,
) -> None:
    """The whole shipped schedule (the hourly and daily jobs cannot be waited for): two ARQ workers with
    the shipped settings, the second made on a host in another time zone, schedule every period of
    every cron job at the same moments, on a queue of this test's own that no worker serves. They queue
    exactly what one worker alone queues: the same job id for the same period, so it runs once."""
    redis_settings = RedisSettings.from_dsn(cluster.services.redis.url)
    pair_queue, alone_queue = (f"acre-cron-race:{secrets.token_hex(4)}" for _ in range(2))

    def worker(queue: str) -> Worker:
        shipped = worker_settings()
        return Worker(
            **{**shipped, "queue_name": queue, "redis_settings": redis_settings, "handle_signals": False}
        )

    first = worker(pair_queue)
    with host_time_zone(OTHER_ZONE):
        second = worker(pair_queue)
    alone = worker(alone_queue)
    try:
        now = datetime.now(UTC)
        one = await _schedule((alone,), alone_queue, cluster.redis, now)
        await cluster.redis.delete(alone_queue, *(job_key_prefix + job_id for job_id in one))
        pair = await _schedule((first, second), pair_queue, cluster.redis, now)
        assert pair == one  # the second worker queued no period the first had not
        names = Counter(job_id.rsplit(":", 1)[0] for job_id in pair)
        assert set(names) == {c.name for c in CRON_JOBS}  # every cron job came round
        cadence = next(c for c in second.cron_jobs if c.name == "cron:cadence_tasks")
        assert cadence.next_run is not None
        assert (cadence.next_run.astimezone(UTC).hour, cadence.next_run.minute) == (20, 50)  # as shipped
    finally:
        for queue in (pair_queue, alone_queue):
            queued = await cluster.redis.zrange(queue, 0, -1)
            await cluster.redis.delete(queue, *(job_key_prefix + raw.decode() for raw in queued))


async def test_a_handover_executed_through_one_api_is_undone_through_the_other(
    cluster: Cluster, admin_db: str
) -> None:
    async with cluster.clients() as (on_a, on_b):
        t = await team(on_a, admin_db, reps=2)
        leaving, receiver = t.reps
        made = [c["id"] for c in await owned(on_a, t, leaving, "ABC")]
        body = await plan(
            on_a,
            t.owner,
            selection={"owner_ids": [leaving.membership_id]},
            targets=[{"membership_id": receiver.membership_id}],
            mode="single",
        )
        r = await on_a.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
        assert r.status_code == 200 and r.json()["status"] == "executed", r.text
        assert set((await owners(admin_db, made)).values()) == {receiver.membership_id}
        seen = await on_b.get(f"/api/v1/handovers/{body['id']}", headers=t.owner.headers)
        assert seen.json()["status"] == "executed", seen.text
        r = await on_b.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
        assert r.status_code == 200 and r.json()["status"] == "undone", r.text
        assert set((await owners(admin_db, made)).values()) == {leaving.membership_id}
        again = await on_a.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
        assert again.status_code == 409, again.text  # undone once, whichever API is asked
