"""The `workfeed` command as an admin uses it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import requests

from tests.processes import base_env, wait_for_port, workfeed


def test_project_create_prints_the_address_and_each_clients_link(tmp_path, database_url, redis_url):
    env = base_env(tmp_path, database_url, redis_url)
    result = workfeed(
        env,
        "project",
        "create",
        "Holloway Kitchen",
        "--owner",
        "dan@buildco.example",
        "--client",
        "Jane Holloway <jane@mailbox.example>",
        "--json",
    )
    created = json.loads(result.stdout)
    assert created["address"] == "holloway-kitchen@updates.example.com"
    [jane] = created["clients"]
    assert jane["email"] == "jane@mailbox.example"
    assert jane["link"].startswith(env["PUBLIC_URL"] + "/c/")


def test_project_create_explains_what_is_wrong(tmp_path, database_url, redis_url):
    env = base_env(tmp_path, database_url, redis_url)
    workfeed(env, "project", "create", "Holloway Kitchen", "--owner", "dan@buildco.example")
    cases = {
        ("Holloway Kitchen", "--owner", "dan@buildco.example"): "already used by another project",
        ("!!!", "--owner", "dan@buildco.example"): "give one with --address",
        ("Loft", "--owner", "not-an-address"): "is not an email address",
        ("Loft", "--owner", "dan@buildco.example", "--timezone", "Mars/Olympus"): "is not a time zone",
        ("Loft", "--owner", "dan@buildco.example", "--client", "dan@buildco.example"): "both staff and a client",
    }
    for args, words in cases.items():
        result = workfeed(env, "project", "create", *args, check=False)
        assert result.returncode != 0, args
        assert words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_send_explains_a_gateway_that_is_not_running(tmp_path, database_url, redis_url):
    env = base_env(tmp_path, database_url, redis_url)
    result = workfeed(env, "send", "--to", "x@updates.example.com", "--from", "dan@buildco.example", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"nothing answers at 127.0.0.1:{env['GATEWAY_PORT']}" in result.stderr


def test_run_restarts_a_process_that_dies(tmp_path, database_url):
    env = base_env(tmp_path, database_url, "")
    env.pop("REDIS_URL")
    run = subprocess.Popen(
        [sys.executable, "-m", "workfeed", "run"],
        env=env,
        cwd=env["WORKFEED_TEST_HOME"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(int(env["PORT"]), run)
        wait_for_port(int(env["GATEWAY_PORT"]), run)
        web = _child_pid(run.pid, "web")
        os.kill(web, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(env["PUBLIC_URL"] + "/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert requests.get(env["PUBLIC_URL"] + "/", timeout=5).status_code == 200
        assert _child_pid(run.pid, "web") != web
    finally:
        run.send_signal(signal.SIGINT)
        output = run.communicate(timeout=30)[0].decode()
    assert "workfeed web stopped (exit code -9); starting it again" in output
    assert "Traceback" not in output
    assert run.returncode == 0


def _child_pid(parent: int, name: str) -> int:
    for line in subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True, text=True
    ).stdout.splitlines():
        pid, args = line.strip().split(" ", 1)
        if args.endswith(f"-m workfeed {name}"):
            return int(pid)
    raise AssertionError(f"no workfeed {name} under {parent}")


def test_inbound_list_and_retry_bring_back_a_message_set_aside(tmp_path, database_url, redis_url, sessions):
    from sqlalchemy import select

    from feed.models import Inbound, Project

    env = base_env(tmp_path, database_url, redis_url)
    workfeed(env, "project", "create", "Holloway Kitchen", "--owner", "dan@buildco.example")
    with sessions.begin() as db:
        row = Inbound(
            project_id=db.scalar(select(Project.id)),
            spool_name="gone.eml",
            sha256="0" * 64,
            size=1,
            mail_from="dan@buildco.example",
            rcpt_to="holloway-kitchen@updates.example.com",
            status=Inbound.FAILED,
            reason="FileNotFoundError: gone",
            attempts=4,
        )
        db.add(row)
    listed = workfeed(env, "inbound", "list", "--failed").stdout
    assert "failed" in listed and "FileNotFoundError: gone" in listed and f"ref {row.key}" in listed
    assert workfeed(env, "inbound", "list", "--status", "posted").stdout.strip() == "no messages"

    assert "queued again" in workfeed(env, "inbound", "retry", row.key).stdout
    with sessions() as db:
        again = db.get(Inbound, row.id)
        assert (again.status, again.attempts, again.reason) == (Inbound.QUEUED, 0, "")
    from redis import Redis
    from rq import Queue

    assert Queue("ingest", connection=Redis.from_url(redis_url)).job_ids == [f"ingest-{row.id}"]
    unknown = workfeed(env, "inbound", "retry", "nope", check=False)
    assert unknown.returncode != 0 and "no accepted message has the number or reference 'nope'" in unknown.stderr


def test_entry_hide_takes_an_entry_off_the_clients_timeline(tmp_path, database_url, redis_url, sessions):
    from sqlalchemy import select

    from feed.models import Entry, Project

    env = base_env(tmp_path, database_url, redis_url)
    workfeed(env, "project", "create", "Holloway Kitchen", "--owner", "dan@buildco.example")
    with sessions.begin() as db:
        made = Entry(project_id=db.scalar(select(Project.id)), title="Wrong photos")
        db.add(made)
    assert "hidden from the clients: Wrong photos" in workfeed(env, "entry", "hide", made.key).stdout
    with sessions() as db:
        assert db.get(Entry, made.id).hidden is True
    missing = workfeed(env, "entry", "hide", "nope", check=False)
    assert missing.returncode != 0 and "no entry has the key 'nope'" in missing.stderr


def test_project_stages_can_be_edited(tmp_path, database_url, redis_url):
    env = base_env(tmp_path, database_url, redis_url)
    workfeed(env, "project", "create", "Oak Table", "--owner", "dan@buildco.example", "--trade", "furniture")
    assert workfeed(env, "project", "stages", "oak-table").stdout.split("\n")[0].strip() == "Design"
    shown = workfeed(env, "project", "stages", "oak-table", "--set", "Design, Making, Delivery", "--current", "makng")
    assert shown.stdout.splitlines() == ["  Design", "→ Making", "  Delivery"]
    wrong = workfeed(env, "project", "stages", "oak-table", "--current", "Roofing", check=False)
    assert wrong.returncode != 0 and "'Roofing' is not one of the stages: Design, Making, Delivery" in wrong.stderr
