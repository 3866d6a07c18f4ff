"""SIGTERM on a worker (a rollout, a scale-down): it stops taking jobs, lets the running one finish,
and hands back one that outlasts the wait so another worker runs it. Real Redis, ARQ's own handler."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from pathlib import Path
from typing import Any

from arq import func
from arq.connections import RedisSettings, create_pool

from tests.conftest import Stack
from workers.worker import SHUTDOWN_WAIT_SECONDS, Worker, heartbeat_fresh


def _worker(stack: Stack, queue: str, functions: list[Any], **options: Any) -> Worker:
    return Worker(
        functions=functions,
        redis_settings=RedisSettings.from_dsn(stack.redis_url),
        queue_name=queue,
        poll_delay=0.01,
        handle_signals=False,
        **options,
    )


async def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(stack: Stack, tmp_path: Path) -> None:
    queue = f"acre-test:shutdown:{secrets.token_hex(4)}"
    started, done = asyncio.Event(), []

    async def slow(ctx: dict[str, Any], name: str) -> None:
        started.set()
        await asyncio.sleep(0.5)
        done.append(name)

    beat = tmp_path / "heartbeat"
    worker = _worker(stack, queue, [func(slow, name="slow")], heartbeat_file=beat)
    assert worker._job_completion_wait == SHUTDOWN_WAIT_SECONDS  # the default every worker gets
    pool = await create_pool(RedisSettings.from_dsn(stack.redis_url), default_queue_name=queue)
    try:
        await pool.enqueue_job("slow", "first")
        running = asyncio.create_task(worker.async_run())
        await asyncio.wait_for(started.wait(), 10)
        worker.handle_sig_wait_for_completion(signal.SIGTERM)
        await pool.enqueue_job("slow", "second")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 20)
        assert done == ["first"]  # finished, not cancelled; the second left for another worker
        assert await pool.zcard(queue) == 1
        assert heartbeat_fresh(beat)
        await worker.close()
    finally:
        await pool.delete(queue)
        await pool.aclose()


async def test_a_job_outlasting_the_wait_is_handed_back_and_runs_again(stack: Stack) -> None:
    queue = f"acre-test:shutdown:{secrets.token_hex(4)}"
    started, tries = asyncio.Event(), []

    async def long(ctx: dict[str, Any]) -> None:
        tries.append(ctx["job_try"])
        started.set()
        if ctx["job_try"] == 1:
            await asyncio.sleep(30)

    pool = await create_pool(RedisSettings.from_dsn(stack.redis_url), default_queue_name=queue)
    try:
        await pool.enqueue_job("long")
        first = _worker(stack, queue, [func(long, name="long")], job_completion_wait=0.2)
        running = asyncio.create_task(first.async_run())
        await asyncio.wait_for(started.wait(), 10)
        first.handle_sig_wait_for_completion(signal.SIGTERM)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 20)
        # the cancelled job records its hand-back before the worker closes
        await asyncio.gather(*first.tasks.values(), return_exceptions=True)
        await first.close()
        assert await pool.zcard(queue) == 1  # handed back, still queued
        second = _worker(stack, queue, [func(long, name="long")], burst=True)
        await asyncio.wait_for(second.main(), 20)
        await second.close()
        assert tries == [1, 2]
    finally:
        await pool.delete(queue)
        await pool.aclose()
