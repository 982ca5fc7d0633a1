"""Queue names and enqueueing by dotted path: the enqueuer never imports the worker."""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

INGEST = "ingest"
DIGESTS = "digests"

INGEST_MESSAGE = "workers.ingest.ingest_message"


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def _ingest_job_id(inbound_id: int) -> str:
    return f"ingest-{inbound_id}"


def is_pending(connection: Redis, inbound_id: int) -> bool:
    """Say whether the ingest job for this message is still waiting, scheduled or running."""
    try:
        status = Job.fetch(_ingest_job_id(inbound_id), connection=connection).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


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
