"""The transactional outbox: jobs are written in the same transaction as the change that needs
them, then relayed to ARQ with a stable ``_job_id``. If Redis is down nothing is lost: the rows stay
pending until a later relay (right after the next commit in the API, or the worker's cron). With
replicas to wait for (``ACRE_REDIS_WAIT_REPLICAS``, 1 under Sentinel), a batch counts as relayed only
once a replica has it (``WAIT``), so a failover right after it loses nothing.

Delivery is at least once: ARQ may run a job twice, so every job checks state first.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4

import structlog
from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix

from app import db
from app.settings import get_settings

log = structlog.get_logger(__name__)
_wake = asyncio.Event()


async def add_job(tx: db.Tx, job: str, *args: Any, key: str | None = None, defer_seconds: int = 0) -> str:
    """Queue ``job(*args)`` in ``tx``. ``key`` makes it unique: the same key twice queues it once.

    Arguments must be JSON-serialisable ids, never objects."""
    job_id = f"{job}:{key}" if key else f"{job}:{uuid4()}"
    await tx.execute(
        "INSERT INTO outbox (tenant, job, args, job_id, defer_seconds) VALUES ($1, $2, $3::jsonb, $4, $5)"
        " ON CONFLICT (job_id) DO NOTHING",
        tx.tenant_id,
        job,
        json.dumps([str(a) if isinstance(a, UUID) else a for a in args]),
        job_id,
        defer_seconds,
    )
    if _wake_after_commit not in tx.after_commit:
        tx.after_commit.append(_wake_after_commit)
    return job_id


async def add_jobs(tx: db.Tx, job: str, keyed_args: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Queue ``job(*args)`` once per ``(key, args)`` in one statement (the same key twice: once)."""
    if not keyed_args:
        return
    await tx.execute(
        "INSERT INTO outbox (tenant, job, args, job_id) SELECT $1, $2, a::jsonb, j"
        " FROM unnest($3::text[], $4::text[]) AS u(j, a) ON CONFLICT (job_id) DO NOTHING",
        tx.tenant_id,
        job,
        [f"{job}:{key}" for key, _ in keyed_args],
        [json.dumps([str(a) if isinstance(a, UUID) else a for a in args]) for _, args in keyed_args],
    )


def wake_after_commit(tx: db.Tx) -> None:
    """Relay right after ``tx`` commits: for callers that insert outbox rows with their own SQL (a
    fan-out of many jobs in one statement)."""
    if _wake_after_commit not in tx.after_commit:
        tx.after_commit.append(_wake_after_commit)


def _wake_after_commit() -> None:
    _wake.set()


class NotReplicated(Exception):
    """Redis took a batch but fewer replicas than ``ACRE_REDIS_WAIT_REPLICAS`` confirmed it."""


async def _replicated(redis: ArqRedis, job_ids: list[str], replicas: int) -> None:
    """Make sure ``replicas`` replicas have the jobs just enqueued: on one connection (a pipeline), a
    fence write, ``WAIT`` for it, then whether each job (or its result) is on that same master. ``WAIT``
    counts only the writes of its own connection, and ARQ enqueues on another; the fence comes after
    the jobs in that master's stream, so a replica holding it holds them. A job found missing (it went
    to a master that failed over) makes the whole batch go again (enqueueing an id twice queues it
    once)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set("acre:outbox:fence", uuid4().hex, ex=3600)
        pipe.execute_command("WAIT", replicas, 1000)
        for job_id in job_ids:
            pipe.exists(job_key_prefix + job_id, result_key_prefix + job_id)
        _, acknowledged, *found = await pipe.execute()
    if int(acknowledged) < replicas:
        raise NotReplicated(f"{acknowledged} of {replicas} replicas confirmed the jobs")
    if not all(found):
        raise NotReplicated("a job is not on the master that confirmed them")


async def relay(redis: ArqRedis, limit: int = 500) -> int:
    """Move pending outbox rows into ARQ; returns how many were enqueued. Safe to run concurrently
    (rows are locked with SKIP LOCKED); on a Redis error the rows not yet sent stay pending."""
    settings = get_settings()
    queue = settings.queue_name
    async with db.transaction(None) as tx:
        rows = await tx.fetch(
            "SELECT id, job, args, job_id, defer_seconds FROM outbox WHERE enqueued_at IS NULL"
            " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        done: list[int] = []
        try:
            for row in rows:
                await redis.enqueue_job(
                    row["job"],
                    *json.loads(row["args"]),
                    _job_id=row["job_id"],
                    _queue_name=queue,
                    _defer_by=row["defer_seconds"] or None,
                )
                done.append(row["id"])
            if done and settings.wait_replicas:
                await _replicated(
                    redis, [r["job_id"] for r in rows if r["id"] in done], settings.wait_replicas
                )
        except Exception as exc:  # Redis unreachable (or not replicated): keep the rest pending
            if settings.wait_replicas:  # all of it again: enqueueing a job id twice queues it once
                failed, done = [r["id"] for r in rows], []
            else:
                failed = [r["id"] for r in rows if r["id"] not in done]
            await tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)",
                failed,
                repr(exc)[:500],
            )
            log.warning("outbox relay failed; jobs stay pending", error=repr(exc), pending=len(failed))
        if done:
            await tx.execute("UPDATE outbox SET enqueued_at = now() WHERE id = ANY($1)", done)
            await _wake_workers(redis, queue)
    return len(done)


def wake_channel(queue: str) -> str:
    """The pub/sub channel on which the relay tells the workers of ``queue`` that jobs came."""
    return f"{queue}:wake"


async def _wake_workers(redis: ArqRedis, queue: str) -> None:
    """Tell the idle workers that jobs came (``workers.worker``); a lost wake waits one poll delay."""
    try:
        await redis.publish(wake_channel(queue), b"1")
    except Exception as exc:
        log.warning("could not wake the workers; they find the jobs at their next poll", error=repr(exc))


class RelayLoop:
    """Relays right after commits in the API process (woken by ``add_job``'s after-commit hook)."""

    def __init__(self, redis: ArqRedis):
        self.redis = redis
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await _wake.wait()
            _wake.clear()
            try:
                while await relay(self.redis) == 500:  # a full batch: more may be pending (a burst)
                    pass
            except Exception as exc:
                log.warning("outbox relay error", error=repr(exc))
