"""Creating projects and their people, and answering who may post to them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.utils import parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feed.models import Member, Project
from feed.stages import STAGE_TEMPLATES

ADDRESS_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_ADDRESSES = {"bounces", "reply", "postmaster", "abuse", "mailer-daemon", "updates", "noreply"}


class ProjectError(ValueError):
    """A project cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


def address_from_name(name: str) -> str:
    """Make an address local part from a project name: `Holloway Kitchen` → `holloway-kitchen`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:63].rstrip("-")


def parse_person(text: str) -> Person:
    """Read `Jane Holloway <jane@example.com>` or a bare address."""
    name, email = parseaddr(text)
    email = email.strip().lower()
    if "@" not in email or " " in email:
        raise ProjectError(f"{text!r} is not an email address")
    return Person(email=email, name=name.strip())


def create_project(
    session: Session,
    name: str,
    *,
    owner: Person,
    address: str | None = None,
    staff: list[Person] | tuple[Person, ...] = (),
    clients: list[Person] | tuple[Person, ...] = (),
    timezone: str = "Europe/London",
    trade: str = "renovation",
) -> Project:
    """Create a project with its owner, staff and clients; refuse a taken or malformed address."""
    name = name.strip()
    if not name:
        raise ProjectError("a project needs a name")
    local = (address or address_from_name(name)).strip().lower()
    if not local:
        raise ProjectError(f"could not make an email address from the name {name!r}; give one with --address")
    if not ADDRESS_PATTERN.match(local):
        raise ProjectError(
            f"{local!r} cannot be an email address: use letters, digits and dashes (e.g. holloway-kitchen)"
        )
    if local in RESERVED_ADDRESSES:
        raise ProjectError(f"{local!r} is reserved for the system; choose another address")
    if session.scalar(select(func.count()).select_from(Project).where(Project.address == local)):
        raise ProjectError(f"the address {local!r} is already used by another project")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProjectError(f"{timezone!r} is not a time zone (for example Europe/London)") from None
    staff_emails = {owner.email, *(person.email for person in staff)}
    for client in clients:
        if client.email in staff_emails:
            raise ProjectError(f"{client.email} is both staff and a client; a person is one or the other")
    if trade not in STAGE_TEMPLATES:
        raise ProjectError(f"{trade!r} is not a trade we have stages for: {', '.join(STAGE_TEMPLATES)}")
    project = Project(name=name, address=local, timezone=timezone, trade=trade)
    project.stages = STAGE_TEMPLATES[trade]
    seen: set[str] = set()
    people = [(owner, Member.OWNER), *[(p, Member.STAFF) for p in staff], *[(p, Member.CLIENT) for p in clients]]
    for person, role in people:
        if person.email not in seen:
            seen.add(person.email)
            project.members.append(Member(email=person.email, name=person.name, role=role))
    session.add(project)
    session.flush()
    return project


def staff_member(session: Session, project_id: int, email: str) -> Member | None:
    """Return the staff member (owner or staff) of the project with this address, if there is one."""
    return session.scalar(
        select(Member).where(
            Member.project_id == project_id,
            Member.email == email.strip().lower(),
            Member.role.in_((Member.OWNER, Member.STAFF)),
        )
    )


def project_zone(project: Project, fallback: str = "Europe/London") -> ZoneInfo:
    """The project's time zone; a name Python does not know falls back to the install's default, then UTC."""
    for name in (project.timezone, fallback):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def staff_domains(session: Session, project_id: int) -> set[str]:
    """The email domains of the project's owner and staff."""
    emails = session.scalars(
        select(Member.email).where(Member.project_id == project_id, Member.role.in_((Member.OWNER, Member.STAFF)))
    )
    return {email.rpartition("@")[2] for email in emails}


def lock_project(session: Session, project_id: int) -> None:
    """Hold the project's row until commit, so posting and digest cut-offs take turns.

    A digest covers what is posted up to its cut-off; an entry stamped before the cut-off but
    committed after it would be in no digest. Posting stamps its time only once it holds this lock,
    and a digest takes the lock before it reads (SQLite serialises writers by itself).
    """
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())


def personal_link(public_url: str, access_token: str) -> str:
    """The link that lets a member in without a password (what clients get in every email)."""
    return f"{public_url.rstrip('/')}/c/{access_token}"
