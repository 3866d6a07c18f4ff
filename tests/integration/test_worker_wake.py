"""An idle worker starts a relayed job when the relay wakes it, not at its next poll; a job ending
wakes its worker for the next queued one; a full worker leaves surplus jobs in Redis. The workers
here poll once a minute, so only a wake can explain a job starting within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

from arq import func
from arq.connections import RedisSettings, create_pool

from app.outbox import _wake_workers, wake_channel
from tests.conftest import Stack
from workers.worker import Worker

_NEVER = 60  # seconds between polls: longer than any wait below


async def _listening(pool: Any, queue: str) -> None:
    """Until the worker listens on the wake channel (it subscribes once it has Redis, next to its first
    poll), and a moment more for that poll: a busy machine starts it in more than a second."""
    for _ in range(200):
        [(_, listeners)] = await pool.pubsub_numsub(wake_channel(queue))
        if listeners:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)


def _worker(stack: Stack, queue: str, functions: list[Any], **options: Any) -> Worker:
    return Worker(
        functions=functions,
        redis_settings=RedisSettings.from_dsn(stack.redis_url),
        queue_name=queue,
        poll_delay=_NEVER,
        handle_signals=False,
        **options,
    )


async def test_the_relay_wakes_an_idle_worker(stack: Stack) -> None:
    queue = f"acre-test:wake:{secrets.token_hex(4)}"
    ran = asyncio.Event()

    async def job(ctx: dict[str, Any]) -> None:
        ran.set()

    pool = await create_pool(RedisSettings.from_dsn(stack.redis_url), default_queue_name=queue)
    worker = _worker(stack, queue, [func(job, name="job")])
    running = asyncio.create_task(worker.main())
    try:
        await _listening(pool, queue)  # its first poll found nothing: it waits now
        await pool.enqueue_job("job")
        await asyncio.sleep(0.5)
        assert not ran.is_set()  # queued, but nobody said so
        await _wake_workers(pool, queue)
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        # a job sets its event before ARQ stores its result: cancelled in between, close meets that run
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        await pool.delete(queue)
        await pool.aclose()


async def test_a_full_worker_leaves_surplus_jobs_queued_and_takes_the_next_when_a_slot_frees(
    stack: Stack,
) -> None:
    queue = f"acre-test:wake:{secrets.token_hex(4)}"
    release, done = asyncio.Event(), []

    async def job(ctx: dict[str, Any], name: str) -> None:
        if name == "first":
            await release.wait()
        done.append(name)

    pool = await create_pool(RedisSettings.from_dsn(stack.redis_url), default_queue_name=queue)
    worker = _worker(stack, queue, [func(job, name="job")], max_jobs=1)
    try:
        await pool.enqueue_job("job", "first")
        running = asyncio.create_task(worker.main())
        await asyncio.sleep(1)  # running "first": its one slot is taken
        await pool.enqueue_job("job", "second")
        await _wake_workers(pool, queue)
        await asyncio.sleep(0.5)
        assert done == [] and await pool.zcard(queue) == 2  # "second" waits in Redis, not here
        release.set()  # "first" ends: its slot frees, and the worker polls at once
        for _ in range(100):
            if done == ["first", "second"]:
                break
            await asyncio.sleep(0.1)
        assert done == ["first", "second"]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        # a job sets its event before ARQ stores its result: cancelled in between, close meets that run
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        await pool.delete(queue)
        await pool.aclose()
