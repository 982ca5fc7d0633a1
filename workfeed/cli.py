"""The `workfeed` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time

import click

from feed.db import migrate, sessionmaker_for, transaction
from feed.projects import ProjectError, create_project, parse_person, personal_link
from feed.settings import Settings
from workfeed.supervisor import Supervisor


def _settings() -> Settings:
    return Settings.from_env()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Every SMTP connection and every migration check would otherwise fill the log.
    for chatty in ("mail.log", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _prepare(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)


@click.group()
def main() -> None:
    """workfeed: staff email updates to a project; clients see a private timeline."""


@main.command()
def run() -> None:
    """Run everything locally: Redis (unless REDIS_URL is set), SMTP gateway, web portal, worker, scheduler."""
    _logging()
    settings = _settings()
    _prepare(settings)
    env = dict(os.environ)
    redis_process = None
    if not settings.redis_url:
        from workfeed.localredis import start_local_redis

        redis_process, env["REDIS_URL"] = start_local_redis(settings.data_dir / "redis")
    supervisor = Supervisor(("smtp", "web", "worker", "scheduler"), env)
    supervisor.start_all()
    outbox = (
        ""
        if settings.outbound_smtp_url
        else f"\n  Outgoing mail is not sent: it is written to {settings.outbox_dir.resolve()}"
    )
    click.echo(
        f"""
workfeed is running.
  SMTP gateway:  {settings.gateway_host}:{settings.gateway_port} (mail domain {settings.mail_domain})
  Web portal:    {settings.public_url}{outbox}

Create a project (in another terminal, same folder):
  .venv/bin/workfeed project create "Holloway Kitchen" --owner dan@example.com --client "Jane <jane@example.com>"
Send it a first email (or point any mail app at the SMTP gateway):
  .venv/bin/workfeed send --to holloway-kitchen@{settings.mail_domain} --from dan@example.com
Then open Jane's link that `project create` printed.
Press Ctrl-C to stop.
""",
        err=False,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failure = None
    try:
        while not stopping and failure is None:
            failure = supervisor.revive()
            time.sleep(0.5)
    finally:
        supervisor.stop_all()
        # Redis goes last, so nothing still running loses its connection on the way out.
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=15)
    if failure:
        raise click.ClickException(failure)


@main.command()
def smtp() -> None:
    """Run the SMTP gateway."""
    from gateway.server import serve

    _logging()
    serve(_settings())


@main.command()
def web() -> None:
    """Run the web portal."""
    from waitress import serve

    from portal import create_app

    _logging()
    settings = _settings()
    serve(create_app(settings), host=os.environ.get("WEB_HOST", "127.0.0.1"), port=settings.web_port, threads=8)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """Run a worker for the ingest and digest queues."""
    from workers.worker import run_worker

    _logging()
    run_worker(_settings(), burst=burst)


@main.command()
def scheduler() -> None:
    """Run the scheduler that queues digests when they are due."""
    from workers.schedule import run_scheduler

    _logging()
    run_scheduler(_settings())


@main.group()
def db() -> None:
    """Database administration."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema."""
    _prepare(_settings())
    click.echo("database is up to date")


@main.group()
def project() -> None:
    """Manage projects."""


@project.command("create")
@click.argument("name")
@click.option("--address", help="The local part of the project's email address (default: from the name).")
@click.option("--owner", required=True, help="Email of the staff member who owns the project's updates.")
@click.option("--staff", multiple=True, help="Email of another staff member who may post (repeatable).")
@click.option("--client", multiple=True, help='A client, as "Name <email>" (repeatable).')
@click.option("--timezone", default=None, help="The project's time zone (default: DEFAULT_TIMEZONE or Europe/London).")
@click.option(
    "--trade",
    default="renovation",
    show_default=True,
    help="Which stages to start with.",
    type=click.Choice(["renovation", "fabrication", "furniture"]),
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def project_create(
    name: str,
    address: str | None,
    owner: str,
    staff: tuple[str, ...],
    client: tuple[str, ...],
    timezone: str | None,
    trade: str,
    as_json: bool,
) -> None:
    """Create a project; print its email address and each client's personal link."""
    settings = _settings()
    _prepare(settings)
    try:
        with transaction(sessionmaker_for(settings)) as session:
            created = create_project(
                session,
                name,
                owner=parse_person(owner),
                address=address,
                staff=[parse_person(s) for s in staff],
                clients=[parse_person(c) for c in client],
                timezone=timezone or settings.default_timezone,
                trade=trade,
            )
            email = f"{created.address}@{settings.mail_domain}"
            clients = [
                {"email": m.email, "name": m.name, "link": personal_link(settings.public_url, m.access_token)}
                for m in created.members
                if m.role == m.CLIENT
            ]
    except ProjectError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps({"address": email, "clients": clients}))
        return
    click.echo(f"Project {name!r} created. Staff send updates to: {email}")
    for item in clients:
        click.echo(f"  {item['name'] or item['email']} <{item['email']}>: {item['link']}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "to", help="Recipient, e.g. holloway-kitchen@updates.example.com (default: the To of each file).")
@click.option("--from", "sender", help="Envelope sender (default: the From of each file).")
def send(files: tuple[str, ...], to: str | None, sender: str | None) -> None:
    """Send .eml files (or, with none, a made-up update with a photo) to the local SMTP gateway."""
    from workfeed.sending import demo_update, recipient_of, send_raw

    settings = _settings()
    if not files:
        if not to or not sender:
            raise click.UsageError("without files, give --to PROJECT-ADDRESS and --from STAFF-EMAIL")
        messages = [("made-up update", demo_update(sender, to))]
    else:
        messages = [(name, open(name, "rb").read()) for name in files]
    refused = 0
    for name, raw in messages:
        recipient = to or recipient_of(raw)
        if not recipient:
            raise click.ClickException(f"{name} has no To: address; give one with --to")
        try:
            answer = send_raw(settings.gateway_host, settings.gateway_port, raw, recipient, sender)
        except OSError as error:
            raise click.ClickException(
                f"nothing answers at {settings.gateway_host}:{settings.gateway_port} ({error.strerror or error});"
                " is `workfeed run` (or `workfeed smtp`) running?"
            ) from error
        refused += not answer.startswith("2")
        click.echo(f"{name} -> {recipient}: {answer}")
    if refused:
        sys.exit(1)


@main.group()
def inbound() -> None:
    """Accepted mail: what became of it, and retrying what was set aside."""


@inbound.command("list")
@click.option("--failed", is_flag=True, help="Only messages set aside after failing every try.")
@click.option("--status", type=click.Choice(["queued", "posted", "automated", "refused", "held", "failed"]))
@click.option("--limit", default=50, show_default=True)
def inbound_list(failed: bool, status: str | None, limit: int) -> None:
    """List the newest accepted messages with their status and reason."""
    from feed.intake import list_inbound

    settings = _settings()
    _prepare(settings)
    with sessionmaker_for(settings)() as session:
        rows = list_inbound(session, status="failed" if failed else status, limit=limit)
        for row in rows:
            click.echo(
                f"{row.id:>6}  {row.received_at:%Y-%m-%d %H:%M}  {row.status:<9}  {row.mail_from or '<>'} -> "
                f"{row.rcpt_to}  ref {row.key}" + (f"\n        {row.reason}" if row.reason else "")
            )
        if not rows:
            click.echo("no messages")


@inbound.command("retry")
@click.argument("ref")
def inbound_retry(ref: str) -> None:
    """Give a set-aside message another go (by its number or the reference its sender got)."""
    from feed.intake import UnknownInbound, reopen_inbound
    from feed.jobs import enqueue_ingest, redis_connection

    settings = _settings()
    _prepare(settings)
    try:
        with transaction(sessionmaker_for(settings)) as session:
            inbound_id = reopen_inbound(session, ref).id
    except (UnknownInbound, ValueError) as error:
        raise click.ClickException(str(error)) from error
    try:
        enqueue_ingest(redis_connection(settings.redis_url), inbound_id)
        click.echo(f"message {inbound_id} is queued again")
    except Exception:
        click.echo(f"message {inbound_id} is marked to try again; a worker picks it up when it starts")


@project.command("stages")
@click.argument("address")
@click.option("--set", "names", help='The new ordered list, comma-separated: "Design, Demolition, Installation".')
@click.option("--current", help="Make this stage the current one.")
def project_stages(address: str, names: str | None, current: str | None) -> None:
    """Show a project's stages, or set them and the current one."""
    from sqlalchemy import select

    from feed.models import Project
    from feed.stages import match_stage

    settings = _settings()
    _prepare(settings)
    with transaction(sessionmaker_for(settings)) as session:
        found = session.scalar(select(Project).where(Project.address == address.partition("@")[0].lower()))
        if found is None:
            raise click.ClickException(f"no project uses the address {address!r}")
        if names is not None:
            stages = [name.strip() for name in names.split(",") if name.strip()]
            if not stages:
                raise click.ClickException("give at least one stage name")
            found.stages = stages
            if found.current_stage not in stages:
                found.current_stage = None
        if current is not None:
            matched = match_stage(current, found.stages)
            if matched is None:
                raise click.ClickException(f"{current!r} is not one of the stages: {', '.join(found.stages)}")
            found.current_stage = matched
        for name in found.stages:
            click.echo(f"{'→' if name == found.current_stage else ' '} {name}")


@main.group()
def entry() -> None:
    """Timeline entries."""


@entry.command("hide")
@click.argument("key")
def entry_hide(key: str) -> None:
    """Hide an entry from the clients (its key is in the receipt's links and the page's #entry- anchors)."""
    from sqlalchemy import select

    from feed.models import Entry

    settings = _settings()
    _prepare(settings)
    with transaction(sessionmaker_for(settings)) as session:
        found = session.scalar(select(Entry).where(Entry.key == key))
        if found is None:
            raise click.ClickException(f"no entry has the key {key!r}")
        found.hidden = True
        click.echo(f"hidden from the clients: {found.title}")


@main.group()
def digest() -> None:
    """Client digests."""


@digest.command("send")
@click.option("--project", "project_address", help="Only this project (its address local part).")
@click.option("--now", "force", is_flag=True, help="Send now, whatever the schedule says.")
def digest_send(project_address: str | None, force: bool) -> None:
    """Send the digests that are due (with --now: regardless of schedule)."""
    from workers.digests import send_digests

    _logging()
    settings = _settings()
    _prepare(settings)
    try:
        results = send_digests(settings, project_address=project_address, force=force)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{len(results)} digest(s) considered")
    for line in results:
        click.echo(f"  {line}")
