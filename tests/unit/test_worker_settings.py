"""The worker's shipped concurrency and poll delay (``workers.settings``)."""

from __future__ import annotations

from tests.helpers import settings_env
from workers.settings import POLL_DELAY_SECONDS, max_jobs, worker_settings

_TEST = {"environment": "test", "secret_key": "k" * 40}


def test_job_slots_follow_the_converters() -> None:
    assert [max_jobs(n) for n in (0, 1, 2, 4)] == [2, 2, 3, 5]
    with settings_env(unoserver_count="4", **_TEST):
        assert worker_settings()["max_jobs"] == 5


def test_an_idle_worker_polls_rarely_and_is_woken_for_jobs() -> None:
    # relayed jobs wake the worker (tests/integration/test_worker_wake.py); polling every few ms
    # instead costs an idle worker a share of a core
    with settings_env(**_TEST):
        assert worker_settings()["poll_delay"] == POLL_DELAY_SECONDS >= 0.5


def test_every_cron_job_runs_once_a_period_on_a_utc_schedule() -> None:
    """Each period's job id is the period (``unique``) and its result is kept, so a worker scheduling
    it late queues it no second time; the schedule does not follow the host's time zone
    (tests/integration/test_many_processes.py races real workers on it)."""
    from datetime import UTC

    from workers.settings import CRON_JOBS, CRON_RESULT_SECONDS

    assert CRON_RESULT_SECONDS >= 3600
    for job in CRON_JOBS:
        assert job.unique and job.job_id is None, job.name
        assert job.keep_result_s == CRON_RESULT_SECONDS, job.name
    with settings_env(**_TEST):
        settings = worker_settings()
    assert settings["timezone"] is UTC
    assert all(c.keep_result_s == CRON_RESULT_SECONDS for c in settings["cron_jobs"])  # kept when timed
