"""Issue 3, section 1: SIGKILL the gateway and the worker while a few hundred messages arrive; every 250 posts once.

Real processes (`workfeed smtp`, `workfeed worker`, `workfeed scheduler`) over the test database and a private
Redis. A sender thread sends each message like a mail server would: the same bytes again after any answer that
is not definitive. A killer thread SIGKILLs, at moments drawn from a seed, the gateway (some kills aimed at a
DATA in flight) and the worker: the whole process tree, the whole tree the instant it takes a job off the queue,
the parent alone (its work horse finishes orphaned), or the work horse alone; and starts them again. Then the
worker is restarted once, late enough that jobs of killed workers count as abandoned, its start-up sweep queues
them again, the queue drains, and the database must hold exactly one entry for every message that got a 250:
none lost, none twice, none set aside, each with its photo.

CRASH_SEED, CRASH_MESSAGES and CRASH_SECONDS change the run; the seed and the counts are printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from feed.jobs import HEARTBEAT_SILENCE
from feed.settings import Settings
from tests.crash import Killer, Sender, Service, job_states, kill_plan, make_messages, receipts, tally, waiting
from tests.processes import base_env, workfeed

STAFF = "dan.mercer@buildco.example"
SEED = int(os.environ.get("CRASH_SEED", "20250603"))
MESSAGES = int(os.environ.get("CRASH_MESSAGES", "300"))
SECONDS = float(os.environ.get("CRASH_SECONDS", "30"))
# Kills that take a job down with its worker come in the first seconds: such a job waits for 90 s of heartbeat silence.
WHOLE_WORKER_KILLS_BEFORE = 10.0
# How long the queue may take to drain after the final restart: the backlog, one period of the scheduler's sweep.
RECOVERY = 90


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds a worker's children in /proc")
def test_sigkill_gateway_and_worker_while_mail_arrives_every_250_posts_once(
    tmp_path, database_url, redis_url, sessions
):
    began = time.monotonic()
    env = base_env(tmp_path, database_url, redis_url)
    to = json.loads(workfeed(env, "project", "create", "Crash Test", "--owner", STAFF, "--json").stdout)["address"]
    messages = make_messages(MESSAGES, SEED, STAFF, to)
    logs = tmp_path / "logs"
    services = {name: Service(name, env, logs) for name in ("smtp", "worker", "scheduler")}
    plan = kill_plan(SEED, SECONDS, WHOLE_WORKER_KILLS_BEFORE)
    print(f"\ncrash test: seed {SEED}, {MESSAGES} messages over {SECONDS:.0f} s, logs in {logs}")
    try:
        for service in services.values():
            service.start()
        sender = Sender(env, messages, STAFF, to, SECONDS)
        sender_start = time.monotonic()
        killer = Killer(services, plan, sender, sender_start, redis_url, sessions)
        sender.start()
        killer.start()
        sender.join(SECONDS + 300)
        killer.stop.set()
        killer.join(60)
        assert sender.error is None, sender.error
        assert killer.error is None, killer.error
        assert not sender.is_alive() and not killer.is_alive()
        sent_at = time.monotonic()

        # Everything up; then the worker restarted once, as an operator would, and its start-up sweep queues again
        # what the kills left waiting. A job a killed worker had started counts as running until its heartbeat
        # has been silent for HEARTBEAT_SILENCE, so the restart waits for that after the last such kill.
        for service in services.values():
            if not service.alive():
                service.start()
        silent_at = (killer.last_whole_worker_kill or 0) + HEARTBEAT_SILENCE.total_seconds() + 2
        queued_before_restart = []  # (seconds after sending, messages waiting), every 5 s until the restart
        while time.monotonic() < silent_at:
            count = len(waiting(sessions))
            queued_before_restart.append((round(time.monotonic() - sent_at, 1), count))
            if not count:
                break  # nothing waits: no need to wait for the silence
            time.sleep(5)
        services["worker"].stop()
        services["worker"].start()
        restarted_at = time.monotonic()
        deadline = restarted_at + RECOVERY
        left = waiting(sessions)
        drain = []  # (seconds after the restart, messages waiting, what RQ says of their jobs) at each change
        while left and time.monotonic() < deadline:
            if not drain or drain[-1][1] != len(left):
                states = job_states(redis_url, [inbound_id for inbound_id, _, _ in left]) if len(left) <= 10 else {}
                drain.append((round(time.monotonic() - restarted_at, 1), len(left), states))
            time.sleep(0.5)
            left = waiting(sessions)
        drained_at = time.monotonic()
        stuck = job_states(redis_url, [inbound_id for inbound_id, _, _ in left])
        settings = Settings.from_env(env | {"DATA_DIR": str(tmp_path / "data")})
        outcome = tally(sessions, settings.spool_dir)
        told = receipts(settings.outbox_dir)
    finally:
        for service in services.values():
            service.clean_up()

    accepted = [m for m in messages if m.accepted]
    refused = [m for m in messages if m.code is not None and not m.accepted]
    unanswered = [m for m in messages if m.code is None]
    lost = [m.marker for m in accepted if outcome.entries[m.number] == 0]
    twice = {f"crash-{n:04d}": count for n, count in outcome.entries.items() if count > 1}
    recorded_twice = {f"crash-{n:04d}": count for n, count in outcome.inbound.items() if count > 1}
    incomplete = {
        m.marker: outcome.attachments.get(m.number)
        for m in accepted
        if outcome.entries[m.number]
        and outcome.attachments.get(m.number) != [1 if m.photo else 0] * outcome.entries[m.number]
    }
    kills = {
        f"{service} {what}": sum(1 for r in killer.done if r.kill.service == service and r.kill.what == what)
        for service, what in [
            ("smtp", "all"),
            ("smtp", "data"),
            ("smtp", "recorded"),
            ("worker", "all"),
            ("worker", "popped"),
            ("worker", "parent"),
            ("worker", "horse"),
        ]
    }
    summary = {
        "seed": SEED,
        "sent": len(messages),
        "got 250": len(accepted),
        "of which 'already have this'": sum("already have" in m.reply for m in accepted),
        "retries": sum(m.attempts - 1 for m in messages),
        "median DATA s": round(sorted(sender.data_seconds)[len(sender.data_seconds) // 2], 3)
        if sender.data_seconds
        else None,
        "refused": len(refused),
        "unanswered": len(unanswered),
        "kills": kills,
        "worker kills with a job running": sum(1 for r in killer.done if r.kill.service == "worker" and r.horse_busy),
        "gateway starts": services["smtp"].starts,
        "worker starts": services["worker"].starts,
        "inbound rows": sum(outcome.statuses.values()),
        "inbound by status": dict(outcome.statuses),
        "posted": sum(outcome.entries.values()),
        "duplicates": sum(count - 1 for count in twice.values()),
        "lost": len(lost),
        # Not asserted: a receipt is sent after the entry is committed, so a kill in between goes without one.
        "receipts": sum(told.values()),
        "posted without a receipt": sum(1 for m in accepted if outcome.entries[m.number] and not told[m.number]),
        "receipts doubled": sum(1 for count in told.values() if count > 1),
        "waiting before the final restart (s after sending, waiting)": queued_before_restart,
        "still queued": len(left),
        "drain (s after worker restart, waiting, jobs)": drain,
        "sending took s": round(sent_at - sender_start, 1),
        "drain after sending s": round(drained_at - sent_at, 1),
        "drain after the final restart s": round(drained_at - restarted_at, 1),
        "last whole-worker kill s": round(killer.last_whole_worker_kill - sender_start, 1)
        if killer.last_whole_worker_kill
        else None,
        "total s": round(time.monotonic() - began, 1),
        "kill log (s, service, what, job running, pids)": [
            (round(r.at, 1), r.kill.service, r.kill.what, r.horse_busy, r.pids) for r in killer.done
        ],
    }
    print(json.dumps(summary, indent=1))
    (logs / "summary.json").write_text(json.dumps(summary, indent=1))

    assert not refused, [(m.marker, m.reply) for m in refused]
    assert not unanswered, [(m.marker, m.answers[-3:]) for m in unanswered]
    assert not left, f"accepted messages still waiting after recovery: {left}; their jobs: {stuck}"
    assert not lost, f"got a 250 and were never posted: {lost}"
    assert not twice, f"posted more than once: {twice}"
    assert not recorded_twice, f"recorded more than once by the gateway: {recorded_twice}"
    assert not outcome.not_posted, f"recorded but not posted (set aside, refused...): {outcome.not_posted}"
    assert not incomplete, f"posted without their photo (or with extra files): {incomplete}"
    assert not outcome.not_ours, f"entries that belong to no message sent: {outcome.not_ours}"
    assert -1 not in outcome.inbound, "inbound rows whose spooled file is missing"
    assert sum(outcome.entries.values()) == len(accepted)
