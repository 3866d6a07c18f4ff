"""The ARQ worker, with two things ARQ does not do by itself.

**A dead worker's jobs run again within seconds.** ARQ marks a job in progress with a key that lives
as long as the longest job timeout of the worker plus 10 s (the customer import's 1,800 s), and a job
whose worker was killed waits that long. Here the key lives ``CLAIM_TTL_SECONDS`` and the worker
sets the keys of the jobs it runs again every ``CLAIM_REFRESH_SECONDS``, from its poll loop: when a
worker dies its jobs' keys lapse and another worker (or the next start) picks them up, as a further
try (``job_try`` + 1). Jobs are at-least-once already, and each one's own timeout
(``func(..., timeout=...)`` in the registry) still cancels it. Sharp edge: an event loop stalled for
``CLAIM_TTL_SECONDS`` (CPU-bound work in a job's coroutine) lets a second worker start the same job.

**Redis going away does not end the worker.** A Redis error in the poll loop is logged once and the
loop waits, backing off from 0.5 s to 10 s, then carries on; starting while Redis is down waits for it
the same way. Jobs under way go on; one that cannot record its end has its key lapse and runs again.

**SIGTERM lets the running jobs finish.** On SIGTERM (or SIGINT) the worker stops taking jobs and
waits up to ``SHUTDOWN_WAIT_SECONDS`` for the ones it runs (ARQ's ``job_completion_wait``), still
refreshing their claims; a job still running then is cancelled and handed back: ARQ leaves it in the
queue and the next worker runs it again as a further try (jobs are idempotent). Kubernetes'
``terminationGracePeriodSeconds`` for the worker is longer than that wait (infra/k8s/).

**A committed job starts at once.** The outbox relay publishes on the queue's wake channel
(``app.outbox.wake_channel``) after it enqueues; each worker listens there (one pub/sub connection)
and polls as soon as a message comes, or as soon as one of its own jobs ends (a slot is free), else
every ``poll_delay`` (ARQ's 0.5 s: deferred jobs, retries and the crons need no wake). A full worker
that is woken reads nothing, so surplus jobs stay in Redis for the next worker with a free slot. A
wake lost while Redis is away costs at most one poll delay.

**It says it is alive.** With ``ACRE_WORKER_HEARTBEAT_FILE`` set the poll loop touches that file every
``CLAIM_REFRESH_SECONDS``, Redis up or not; ``acre worker --check`` (the image's health check and the
pod's liveness probe) fails once it is older than ``HEARTBEAT_STALE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import structlog
from arq import worker as arq_worker
from arq.connections import create_pool
from arq.constants import in_progress_key_prefix
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.outbox import wake_channel

log = structlog.get_logger(__name__)
CLAIM_TTL_SECONDS = 20
CLAIM_REFRESH_SECONDS = 5
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_FIRST_WAIT, _LONGEST_WAIT = 0.5, 10.0
SHUTDOWN_WAIT_SECONDS = 50
HEARTBEAT_STALE_SECONDS = 60
_BURST_POLL = 0.005


def heartbeat_fresh(path: Path, now: float | None = None) -> bool:
    """Whether the worker that writes ``path`` has touched it in the last ``HEARTBEAT_STALE_SECONDS``."""
    try:
        touched = path.stat().st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - touched < HEARTBEAT_STALE_SECONDS


class Worker(arq_worker.Worker):
    def __init__(self, *args: object, heartbeat_file: Path | None = None, **kwargs: object) -> None:
        kwargs.setdefault("job_completion_wait", SHUTDOWN_WAIT_SECONDS)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.in_progress_timeout_s = CLAIM_TTL_SECONDS
        self.heartbeat_file = heartbeat_file
        self._beaten = 0.0
        self._claims_refreshed = 0.0
        self._redis_lost_at: float | None = None
        self._wait = _FIRST_WAIT
        # ARQ's loop sleeps ``poll_delay_s`` between polls; this worker waits for a wake instead.
        self._poll_every, self.poll_delay_s = self.poll_delay_s, 0
        self._woken = asyncio.Event()

    async def main(self) -> None:
        while self._pool is None:
            self._heartbeat()  # waiting for Redis at start is alive too
            try:
                self._pool = await create_pool(
                    self.redis_settings,
                    job_deserializer=self.job_deserializer,
                    job_serializer=self.job_serializer,
                    default_queue_name=self.queue_name,
                    expires_extra_ms=self.expires_extra_ms,
                )
            except _REDIS_DOWN as exc:
                await self._redis_unreachable(exc)
        self._redis_back()
        listener = asyncio.create_task(self._listen(), name="worker-wake")
        try:
            await super().main()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self) -> None:
        """Wake the poll loop on every message on the wake channel; subscribe again after a Redis error."""
        while True:
            pubsub = self.pool.pubsub()
            try:
                await pubsub.subscribe(wake_channel(self.queue_name))
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._woken.set()
            except _REDIS_DOWN:
                await asyncio.sleep(_FIRST_WAIT)  # the poll loop logs the outage
            finally:
                with contextlib.suppress(*_REDIS_DOWN):
                    await pubsub.aclose()  # type: ignore[attr-defined]  # stubs predate it

    async def _poll_iteration(self) -> None:
        self._woken.clear()  # a wake from here on polls again at once
        self._heartbeat()
        try:
            self._collect_finished()
            await self._refresh_claims()
            await super()._poll_iteration()
        except _REDIS_DOWN as exc:
            await self._redis_unreachable(exc)
        else:
            self._redis_back()
        # A burst worker (tests, benchmarks) with nothing running looks again soon: it stops once the
        # queue is empty, and a wait here would only delay that.
        idle_burst = self.burst and not any(not task.done() for task in self.tasks.values())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), _BURST_POLL if idle_burst else self._poll_every)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self.heartbeat_file is None or now - self._beaten < CLAIM_REFRESH_SECONDS:
            return
        try:
            self.heartbeat_file.touch()
        except OSError as exc:
            log.warning("cannot touch the heartbeat file", path=str(self.heartbeat_file), error=repr(exc))
        self._beaten = now

    def _collect_finished(self) -> None:
        """Drop the tasks of finished jobs before ARQ's poll does. A job that met Redis down (at its
        start, or recording its end) is logged, not raised: ARQ would raise the first such error from
        its poll and reach the others only after starting jobs again, when a restart of the same job
        replaces its task unread. Any other error is raised, as ARQ does."""
        for job_id, task in list(self.tasks.items()):
            if not task.done():
                continue
            del self.tasks[job_id]
            error = None if task.cancelled() else task.exception()
            if isinstance(error, _REDIS_DOWN):
                log.warning("a job met redis down; it runs again once its claim lapses", job_id=job_id)
            elif error is not None:
                raise error

    async def _refresh_claims(self) -> None:
        """Mark this worker's running jobs in progress for another ``CLAIM_TTL_SECONDS``: set, not
        just extended, so that a mark that lapsed while Redis was away is made again before this
        worker (or another) would start the job a second time."""
        now = time.monotonic()
        if now - self._claims_refreshed < CLAIM_REFRESH_SECONDS:
            return
        running = [job_id for job_id, task in self.tasks.items() if not task.done()]
        if running:
            async with self.pool.pipeline(transaction=False) as pipe:
                for job_id in running:
                    pipe.set(in_progress_key_prefix + job_id, b"1", px=CLAIM_TTL_SECONDS * 1000)
                await pipe.execute()
        self._claims_refreshed = now

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """ARQ's, except that a slot (``job_counter`` and the semaphore) taken for a job is given back
        when Redis fails before the job starts: ARQ's own keeps it, and after a few outages the worker
        would believe itself full and stop taking jobs."""
        for raw in job_ids:
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            started = False
            try:
                started = await self._start_job(raw.decode())
            finally:
                if not started:
                    self._release_sem_dec_counter_on_complete()

    async def _start_job(self, job_id: str) -> bool:
        """Mark ``job_id`` in progress and start it, unless it runs elsewhere, is gone from the queue or
        is not due yet (deferred again by another worker); says whether it started."""
        in_progress_key = in_progress_key_prefix + job_id
        async with self.pool.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(in_progress_key)
                running_elsewhere = await pipe.exists(in_progress_key)
                score = await pipe.zscore(self.queue_name, job_id)
            except WatchError as exc:  # what redis-py raises for a connection lost while watching
                raise RedisConnectionError(str(exc)) from exc
            if running_elsewhere or not score or score > arq_worker.timestamp_ms():
                return False
            pipe.multi()
            pipe.psetex(in_progress_key, int(self.in_progress_timeout_s * 1000), b"1")
            try:
                await pipe.execute()
            except (ResponseError, WatchError):  # another worker took it meanwhile
                return False
        task = self.loop.create_task(self.run_job(job_id, int(score)))
        task.add_done_callback(self._job_done)
        self.tasks[job_id] = task
        return True

    def _job_done(self, _: object) -> None:
        self._release_sem_dec_counter_on_complete()
        self._woken.set()  # a free slot: the next queued job need not wait for the poll delay

    async def close(self) -> None:
        try:
            await super().close()
        except _REDIS_DOWN as exc:  # stopping while Redis is away: nothing left to tell it
            log.warning("redis unreachable at shutdown", error=repr(exc))

    async def _redis_unreachable(self, exc: BaseException) -> None:
        self._claims_refreshed = 0.0  # first thing once it is back
        if self._redis_lost_at is None:
            self._redis_lost_at = time.monotonic()
            log.warning("redis unreachable; the worker waits for it", error=repr(exc))
        await asyncio.sleep(self._wait)
        self._wait = min(self._wait * 2, _LONGEST_WAIT)

    def _redis_back(self) -> None:
        if self._redis_lost_at is not None:
            down = round(time.monotonic() - self._redis_lost_at, 1)
            log.warning("redis is back; the worker carries on", down_s=down)
            self._redis_lost_at = None
        self._wait = _FIRST_WAIT
