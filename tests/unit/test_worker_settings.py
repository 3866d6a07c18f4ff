"""The worker's shipped concurrency and poll delay (``workers.settings``)."""

from __future__ import annotations

from tests.helpers import settings_env
from workers.settings import POLL_DELAY_SECONDS, max_jobs, worker_settings

_TEST = {"environment": "test", "secret_key": "k" * 40}


def test_job_slots_follow_the_converters() -> None:
    assert [max_jobs(n) for n in (0, 1, 2, 4)] == [2, 2, 3, 5]
    with settings_env(unoserver_count="4", **_TEST):
        assert worker_settings()["max_jobs"] == 5


def test_an_idle_worker_polls_every_few_milliseconds() -> None:
    # ARQ's default is 0.5 s: a committed job then waits up to that long before it starts
    with settings_env(**_TEST):
        assert worker_settings()["poll_delay"] == POLL_DELAY_SECONDS <= 0.01
