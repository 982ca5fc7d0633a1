"""Pieces of the crash test (tests/e2e/test_crash.py): killable processes, a retrying sender, a killer, a tally.

The sender behaves like a real mail server: it sends the same bytes again, after a pause, whenever it has no
definitive answer (connection refused or dropped, a 4xx), and records which messages got a 250. The killer
SIGKILLs the gateway and the worker at moments drawn from a seeded random generator, then starts them again.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from feed.models import Attachment, Entry, Inbound
from tests.processes import HOME, wait_for_port

MARKER = re.compile(r"crash-(\d{4})")


# --- processes -----------------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, process group, session) of a process, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp, session = stat[stat.rindex(")") + 2 :].split()[:4]
    return state, int(ppid), int(pgrp), int(session)


def session_members(sid: int) -> list[int]:
    """Every live process of session `sid`: a worker, its work horse, RQ's scheduler child, orphans included."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[3] == sid and stat[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def horses(sid: int) -> list[int]:
    """RQ's work horses in a worker's session: the forked child that runs a job puts itself in its own group."""
    return [pid for pid in session_members(sid) if pid != sid and (_stat(pid) or ("", 0, 0, 0))[2] == pid]


def _kill(pids: list[int]) -> list[int]:
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


class Service:
    """One `workfeed NAME` process, started in its own session so that it and its children can be found and killed."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.env = env
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.sessions: list[int] = []  # every incarnation's session, so nothing outlives the test
        self.starts = 0

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{self.name}.log", "ab") as log:
            log.write(f"\n==== start #{self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workfeed", self.name],
                env=self.env,
                cwd=self.env[HOME],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.sessions.append(self.process.pid)
        self.starts += 1
        if self.name == "smtp":
            wait_for_port(int(self.env["GATEWAY_PORT"]), self.process)

    @property
    def sid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, what: str = "all") -> list[int]:
        """SIGKILL: "all" the session (the worker, its horse and scheduler child), the "parent" only, or the "horse"."""
        assert self.process is not None
        if what == "all":
            # The parent first, so that it forks nothing more; then whatever else the session holds.
            killed = _kill([self.sid])
            killed += _kill([pid for pid in session_members(self.sid) if pid != self.sid])
        elif what == "parent":
            killed = _kill([self.sid])
        elif what == "horse":
            killed = _kill(horses(self.sid))
        else:
            raise ValueError(what)
        if what != "horse":
            self.process.wait(timeout=10)
        return killed

    def stop(self, timeout: float = 30) -> None:
        """Stop the current incarnation as an operator would (SIGTERM: RQ finishes its job first)."""
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill("all")

    def clean_up(self) -> None:
        """Kill whatever any incarnation left behind (an orphaned work horse keeps running after its parent dies)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for sid in self.sessions:
            _kill(session_members(sid))
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


# --- the messages --------------------------------------------------------------------------------------------


@dataclass
class Message:
    number: int
    message_id: str
    raw: bytes
    photo: bool
    attempts: int = 0
    code: int | None = None  # the definitive answer: 250, or a 5xx
    reply: str = ""
    accepted_at: float | None = None
    answers: list[str] = field(default_factory=list)  # every non-definitive outcome, in order

    @property
    def accepted(self) -> bool:
        return self.code == 250

    @property
    def marker(self) -> str:
        return f"crash-{self.number:04d}"


def _photo(rng: random.Random) -> bytes:
    """A small, distinct site photo: every one differs, so none looks like a repeated logo."""
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(600), rng.randrange(440)
        draw.rectangle(
            (x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def make_messages(count: int, seed: int, sender: str, to: str, photo_every: int = 3) -> list[Message]:
    rng = random.Random(seed)
    messages = []
    for number in range(count):
        marker = f"crash-{number:04d}"
        mail = EmailMessage(policy=SMTP_POLICY)
        mail["From"] = f"Dan Mercer <{sender}>"
        mail["To"] = to
        mail["Subject"] = f"{marker} site update"
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = f"<{marker}.{seed}@phone.buildco.example>"
        mail.set_content(f"Progress note {marker}: the second fix is going well.\nMore tomorrow.\n")
        photo = number % photo_every == 0
        if photo:
            mail.add_attachment(_photo(rng), maintype="image", subtype="jpeg", filename=f"IMG_{number:04d}.JPG")
        messages.append(Message(number, mail["Message-ID"], mail.as_bytes(), photo))
    return messages


# --- the sender ----------------------------------------------------------------------------------------------


def attempt(
    host: str, port: int, sender: str, to: str, raw: bytes, in_data: threading.Event, timings: list[float] | None = None
) -> tuple[int, str] | None:
    """One SMTP transaction: the DATA reply or the first refusal, or None when the connection failed or dropped."""
    client = smtplib.SMTP(timeout=15)
    try:
        client.connect(host, port)
        client.ehlo("mta.buildco.example")
        code, reply = client.mail(sender)
        if code == 250:
            code, reply = client.rcpt(to)
        if code in (250, 251):
            in_data.set()
            began = time.monotonic()
            try:
                code, reply = client.data(raw)
            finally:
                in_data.clear()
            if timings is not None and code == 250:
                timings.append(time.monotonic() - began)
        return code, reply.decode(errors="replace")
    except smtplib.SMTPResponseException as refused:  # DATA's 354 refused
        return refused.smtp_code, refused.smtp_error.decode(errors="replace")
    except (OSError, smtplib.SMTPException):  # refused, reset, dropped before the reply, timed out
        return None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


class Sender(threading.Thread):
    """Sends every message once, paced over `duration` seconds, retrying the same bytes until a definitive answer."""

    def __init__(
        self, env: dict[str, str], messages: list[Message], sender: str, to: str, duration: float, give_up: float = 90
    ) -> None:
        super().__init__(name="sender", daemon=True)
        self.host, self.port = "127.0.0.1", int(env["GATEWAY_PORT"])
        self.messages, self.sender, self.to = messages, sender, to
        self.duration, self.give_up = duration, give_up
        self.in_data = threading.Event()
        self.data_seconds: list[float] = []  # how long each accepted DATA took, from the first byte to the 250
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.finished_at: float | None = None

    def run(self) -> None:
        try:
            start = time.monotonic()
            for index, message in enumerate(self.messages):
                due = start + self.duration * index / len(self.messages)
                if self.stop.wait(max(0.0, due - time.monotonic())):
                    return
                self.deliver(message)
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.finished_at = time.monotonic()

    def deliver(self, message: Message) -> None:
        deadline = time.monotonic() + self.give_up
        while not self.stop.is_set() and time.monotonic() < deadline:
            message.attempts += 1
            answer = attempt(self.host, self.port, self.sender, self.to, message.raw, self.in_data, self.data_seconds)
            if answer is not None and answer[0] < 400:
                message.code, message.reply, message.accepted_at = answer[0], answer[1], time.monotonic()
                return
            if answer is not None and answer[0] >= 500:
                message.code, message.reply = answer
                return
            message.answers.append("no answer" if answer is None else f"{answer[0]} {answer[1]}")
            time.sleep(0.3)  # a mail server waits longer; the gateway is back within a second or two


# --- the killer ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    at: float  # seconds after the sending starts
    service: str  # "smtp" or "worker"
    what: str  # worker: "all", "popped", "parent", "horse"; smtp: "all", "data", "recorded" (see the tuples below)
    pause: float  # seconds down before the restart


# "data": while a DATA is in flight; "recorded": the instant its inbound row is committed, before the 250 is sent.
GATEWAY_KILLS = ("all", "all", "all", "data", "data", "data", "recorded", "recorded")
# "popped": the whole worker, the instant it has taken a job off the queue (before its horse marks it started).
WORKER_KILLS = ("all", "all", "popped", "popped", "parent", "parent", "horse", "horse", "horse")


def kill_plan(seed: int, duration: float, whole_worker_before: float) -> list[Kill]:
    """The kills, drawn from `seed`: the same plan on every run with that seed.

    A worker killed with its horse leaves its job "started" until its heartbeat is 90 s silent
    (feed.jobs.HEARTBEAT_SILENCE); only then may a sweep queue it again. Those kills come early
    (before `whole_worker_before`), so the test can end soon after that silence.
    """
    rng = random.Random(seed)
    plan = [Kill(rng.uniform(1, duration - 1), "smtp", what, rng.uniform(0.2, 1.5)) for what in GATEWAY_KILLS]
    for what in WORKER_KILLS:
        end = duration - 1 if what == "horse" else whole_worker_before
        plan.append(Kill(rng.uniform(1, end), "worker", what, rng.uniform(0.2, 1.5)))
    return sorted(plan, key=lambda kill: kill.at)


@dataclass
class KillRecord:
    kill: Kill
    at: float
    pids: list[int]
    horse_busy: bool


class Killer(threading.Thread):
    def __init__(
        self,
        services: dict[str, Service],
        plan: list[Kill],
        sender: Sender,
        start: float,
        redis_url: str,
        sessions: sessionmaker[Session],
    ) -> None:
        super().__init__(name="killer", daemon=True)
        self.redis_url = redis_url
        self.sessions = sessions
        self.services, self.plan, self.sender, self.start_at = services, plan, sender, start
        self.stop = threading.Event()
        self.done: list[KillRecord] = []
        self.error: BaseException | None = None
        self.last_whole_worker_kill: float | None = None  # monotonic

    def run(self) -> None:
        try:
            for kill in self.plan:
                if self.stop.wait(max(0.0, self.start_at + kill.at - time.monotonic())):
                    return
                self.execute(kill)
        except BaseException as error:
            self.error = error

    def wait_for_a_new_inbound_row(self, deadline: float) -> None:
        with self.sessions() as db:
            count = select(func.count(Inbound.id))
            before = db.scalar(count)
            while time.monotonic() < deadline and db.scalar(count) == before:
                db.rollback()  # a fresh snapshot for the next look
                time.sleep(0.0005)

    def wait_for_a_pop(self, deadline: float) -> None:
        from redis import Redis

        connection = Redis.from_url(self.redis_url)
        try:
            length = connection.llen("rq:queue:ingest")
            while time.monotonic() < deadline:
                now = connection.llen("rq:queue:ingest")
                if now < length:
                    return
                length = now
        finally:
            connection.close()

    def execute(self, kill: Kill) -> None:
        service = self.services[kill.service]
        what = kill.what
        if what == "data":
            # Aim at the dangerous moment: the message is on its way in, being spooled, recorded, answered.
            recent = sorted(self.sender.data_seconds[-20:]) or [0.03]
            self.sender.in_data.wait(timeout=5)
            time.sleep(random.Random(int(kill.at * 1000)).uniform(0, 1.2 * recent[len(recent) // 2]))
            what = "all"
        elif what == "recorded":
            # Recorded but not answered: the sender sends it again, and it must still be posted once.
            self.sender.in_data.wait(timeout=5)
            self.wait_for_a_new_inbound_row(time.monotonic() + 2)
            what = "all"
        busy = False
        if service.name == "worker":
            # Aim at a job in progress: wait for a work horse, then let it get somewhere into the job.
            deadline = time.monotonic() + 3
            while not horses(service.sid) and time.monotonic() < deadline:
                time.sleep(0.005)
            if what == "popped":
                # Or at the hand-over: the moment the worker takes the next job off the queue's list.
                self.wait_for_a_pop(deadline + 3)
                what = "all"
            else:
                time.sleep(random.Random(int(kill.at * 1000)).uniform(0, 0.2))
            busy = bool(horses(service.sid))
        pids = service.kill(what)
        if service.name == "worker" and what in ("all", "parent"):
            # Its started job, if any, counts as running until the heartbeat is silent (an orphaned horse finishes it).
            self.last_whole_worker_kill = time.monotonic()
        self.done.append(KillRecord(kill, time.monotonic() - self.start_at, pids, busy))
        if what != "horse":
            time.sleep(kill.pause)
            service.start()


# --- the outcome ---------------------------------------------------------------------------------------------


def waiting(sessions) -> list[tuple[int, str, int]]:
    """The messages not yet posted, classified, refused or set aside: (inbound id, received, attempts)."""
    with sessions() as db:
        rows = db.execute(
            select(Inbound.id, Inbound.received_at, Inbound.attempts).where(Inbound.status == Inbound.QUEUED)
        ).all()
    return [(row.id, str(row.received_at), row.attempts) for row in rows]


@dataclass
class Tally:
    entries: Counter[int]  # message number -> entries posted for it
    inbound: Counter[int]  # message number -> inbound rows recorded for it (-1: the spooled file is missing)
    statuses: Counter[str]
    attachments: dict[int, list[int]]  # message number -> attachments on each of its entries
    not_ours: list[int]  # entries that name no message we sent
    not_posted: list[tuple[int, str, str]]  # (inbound id, status, reason) of every row not posted


def tally(sessions, spool_root: Path) -> Tally:
    """Read the outcome back: entries per message (by the marker in their title), inbound rows per message."""
    entries: Counter[int] = Counter()
    attachments: dict[int, list[int]] = {}
    not_ours = []
    with sessions() as db:
        rows = db.execute(
            select(Entry.id, Entry.title, Entry.body, func.count(Attachment.id))
            .outerjoin(Attachment, Attachment.entry_id == Entry.id)
            .group_by(Entry.id, Entry.title, Entry.body)
        ).all()
        inbound_rows = db.execute(select(Inbound.id, Inbound.status, Inbound.reason, Inbound.spool_name)).all()
    for entry_id, title, body, files in rows:
        found = MARKER.search(title) or MARKER.search(body or "")
        if found is None:
            not_ours.append(entry_id)
            continue
        entries[int(found.group(1))] += 1
        attachments.setdefault(int(found.group(1)), []).append(files)
    inbound: Counter[int] = Counter()
    statuses: Counter[str] = Counter()
    not_posted = []
    for row in inbound_rows:
        statuses[row.status] += 1
        if row.status != Inbound.POSTED:
            not_posted.append((row.id, row.status, row.reason))
        spooled = spool_root / "new" / row.spool_name
        found = MARKER.search(spooled.read_bytes().decode("latin-1")) if spooled.is_file() else None
        inbound[int(found.group(1)) if found else -1] += 1
    return Tally(entries, inbound, statuses, attachments, not_ours, not_posted)


def job_states(redis_url: str, inbound_ids: list[int]) -> dict[int, str]:
    """What RQ says of each message's ingest job: status, heartbeat age, whether it is in the queue's list."""
    from datetime import UTC, datetime

    from redis import Redis
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    connection = Redis.from_url(redis_url)
    queued = set(Queue("ingest", connection=connection).get_job_ids())
    states = {}
    for inbound_id in inbound_ids:
        try:
            job = Job.fetch(f"ingest-{inbound_id}", connection=connection)
        except NoSuchJobError:
            states[inbound_id] = "no job"
            continue
        beat = job.last_heartbeat or job.started_at
        age = f", heartbeat {(datetime.now(UTC) - beat.replace(tzinfo=UTC)).total_seconds():.0f} s ago" if beat else ""
        listed = ", in the queue" if job.id in queued else ", not in the queue"
        states[inbound_id] = f"{job.get_status()}{age}{listed}"
    connection.close()
    return states


def receipts(outbox: Path) -> Counter[int]:
    """Message number -> receipts written to the outbox for it (by the marker in the receipt's subject)."""
    from email import message_from_binary_file, policy

    found: Counter[int] = Counter()
    for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
        with open(path, "rb") as handle:
            subject = str(message_from_binary_file(handle, policy=policy.default).get("Subject", ""))
        marker = MARKER.search(subject)
        if marker:
            found[int(marker.group(1))] += 1
    return found
