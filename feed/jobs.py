"""Queue names and enqueueing by dotted path: the enqueuer never imports the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

INGEST = "ingest"
MAIL = "mail"
DIGESTS = "digests"

INGEST_MESSAGE = "workers.ingest.ingest_message"
HEARTBEAT_SILENCE = timedelta(seconds=90)


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def _ingest_job_id(inbound_id: int) -> str:
    return f"ingest-{inbound_id}"


def is_pending(connection: Redis, inbound_id: int) -> bool:
    """Say whether the ingest job for this message is still waiting, scheduled or running on a live worker."""
    try:
        job = Job.fetch(_ingest_job_id(inbound_id), connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status()
    if status == JobStatus.STARTED:
        # A worker beats every 30 s while it runs a job; a job whose worker was killed stops beating.
        beat = job.last_heartbeat or job.started_at
        return beat is not None and datetime.now(UTC) - beat.replace(tzinfo=UTC) < HEARTBEAT_SILENCE
    if status == JobStatus.QUEUED:
        # A worker killed right after taking the job off the queue leaves it marked queued but in no queue.
        return Queue(job.origin, connection=connection).get_job_position(job.id) is not None
    return status in (JobStatus.SCHEDULED, JobStatus.DEFERRED)


def enqueue_ingest(connection: Redis, inbound_id: int) -> Job:
    """Queue one accepted message for parsing and posting; retried with backoff if the job fails."""
    return Queue(INGEST, connection=connection).enqueue(
        INGEST_MESSAGE,
        inbound_id,
        job_id=_ingest_job_id(inbound_id),
        retry=Retry(max=3, interval=[5, 30, 120]),
        job_timeout=600,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def enqueue_staff_alert(connection: Redis, entry_id: int) -> Job:
    """Queue telling the project's staff about a client's answer or question."""
    return Queue(MAIL, connection=connection).enqueue(
        "workers.decisions.tell_staff_job", entry_id, retry=Retry(max=3, interval=[10, 60, 300])
    )


def enqueue_held_report(connection: Redis, inbound_id: int) -> Job:
    """Queue telling the project owner that an email was held as a likely forgery."""
    return Queue(MAIL, connection=connection).enqueue(
        "workers.ingest.report_held", inbound_id, retry=Retry(max=3, interval=[10, 60, 300])
    )
