"""Every message of the public test-mail corpora through the real ingest path: posted, or recorded with a reason."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

import pytest

from feed.db import transaction
from feed.models import Inbound
from feed.projects import Person, create_project
from tests.conftest import CORPUS, absent
from workers.ingest import ingest
from workers.runtime import Runtime

ADDRESS = "corpus@updates.example.com"
# Stands in for the envelope sender of a message that names no sender at all.
NAMELESS_SENDER = "site.office@buildco.example"
SISIMAI = CORPUS / "sisimai-set-of-emails" / "maildir"
# sisimai's bounce folders hold bounces, auto-replies (rfc3834-*) and abuse reports (arf-*).
MACHINE_FOLDERS = (SISIMAI / "bsd", SISIMAI / "dos")
PERSON_FOLDER = SISIMAI / "not"
# A "mailbox full" notice from a postmaster, saying Auto-Submitted: auto-replied: sisimai files it
# under not/ only because it cannot read it as a bounce. It is machine mail all the same.
MACHINE_MAIL_IN_PERSON_FOLDER = {PERSON_FOLDER / "rb-issue-368-bug.eml"}
NOT_MESSAGES = {"LICENSE", "SOURCE.txt", "README.md", "files.tsv"}
FINAL = {Inbound.POSTED, Inbound.AUTOMATED, Inbound.REFUSED}


def corpus_messages() -> list[Path]:
    return sorted(path for path in CORPUS.rglob("*") if path.is_file() and path.name not in NOT_MESSAGES)


def envelope_sender(raw: bytes) -> str:
    """The MAIL FROM this message came with: its recorded Return-Path, else the From address (null for a report)."""
    headers = BytesHeaderParser().parsebytes(raw)
    return_path = str(headers.get("Return-Path") or "").strip()
    if return_path:
        # The receiving server's own record of the envelope: "<>" was a bounce's null sender.
        return parseaddr(return_path)[1].strip().lower() if return_path.strip("<> ") else ""
    if headers.get_content_type() == "multipart/report":
        return ""
    address = parseaddr(str(headers.get("From") or ""))[1].strip().lower()
    return address if "@" in address else NAMELESS_SENDER


def is_machine_mail(path: Path) -> bool:
    return any(path.is_relative_to(folder) for folder in MACHINE_FOLDERS) or path in MACHINE_MAIL_IN_PERSON_FOLDER


def is_person_mail(path: Path) -> bool:
    return path.is_relative_to(PERSON_FOLDER) and path not in MACHINE_MAIL_IN_PERSON_FOLDER


def reason_kind(reason: str) -> str:
    """Group reasons by kind: drop the addresses and header values that differ from message to message."""
    kind = reason.split("; delivery failed to", 1)[0].split(". ", 1)[0]
    kind = re.sub(r"\(([\w-]+): [^()]*\)", r"(\1)", kind)
    kind = re.sub(r"\(sent by [^()]*\)", "(sent by a mail daemon)", kind)
    kind = re.sub(r"\(sent from [^()]*\)", "(sent from a no-reply address)", kind)
    kind = re.sub(r'subject starts "[^"]*"', "subject", kind)
    return re.sub(r"report-type=[^)]*", "report-type", kind)


@pytest.fixture(scope="module")
def counts(request) -> Counter:
    """Tally outcomes, printed in pytest's closing summary whatever the capture setting."""
    tally: Counter = Counter()

    class Summary:
        def pytest_terminal_summary(self, terminalreporter) -> None:
            if not tally:
                return
            terminalreporter.section("public test-mail corpus through ingest")
            totals = Counter()
            for (status, _), n in tally.items():
                totals[status] += n
            terminalreporter.write_line(
                f"{sum(totals.values())} messages: {totals[Inbound.POSTED]} posted, "
                f"{totals[Inbound.REFUSED]} refused, {totals[Inbound.AUTOMATED]} automated"
            )
            for status in (Inbound.REFUSED, Inbound.AUTOMATED):
                for (kind_status, kind), n in sorted(tally.items(), key=lambda item: (-item[1], item[0])):
                    if kind_status == status:
                        terminalreporter.write_line(f"  {status:9} {n:4}  {kind}")

    request.config.pluginmanager.register(Summary(), "workfeed-corpus-summary")
    return tally


@pytest.fixture
def project_for(runtime: Runtime):
    """Make one project whose staff are all the given senders, so each message is judged on its content."""

    def make(senders: set[str]) -> int:
        first, *rest = sorted(senders)
        with transaction(runtime.sessions) as db:
            staff = [Person(address) for address in rest]
            return create_project(db, "Corpus", address="corpus", owner=Person(first), staff=staff).id

    return make


def accept(runtime: Runtime, raw: bytes, project_id: int, mail_from: str) -> int:
    """Do what the gateway does before it says 250."""
    name = runtime.spool.write(raw)
    with transaction(runtime.sessions) as db:
        row = Inbound(
            project_id=project_id,
            spool_name=name,
            sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            mail_from=mail_from,
            rcpt_to=ADDRESS,
        )
        db.add(row)
        db.flush()
        return row.id


def test_every_corpus_message_is_posted_or_recorded_with_a_reason(runtime, project_for, counts):
    if not CORPUS.is_dir():
        absent(f"shared corpus not present at {CORPUS}")
    messages = {path: path.read_bytes() for path in corpus_messages()}
    senders = {path: envelope_sender(raw) for path, raw in messages.items()}
    project_id = project_for({sender for sender in senders.values() if sender} | {NAMELESS_SENDER})

    problems = []
    for path, raw in messages.items():
        name = path.relative_to(CORPUS)
        inbound_id = accept(runtime, raw, project_id, senders[path])
        try:
            ingest(runtime, inbound_id)
        except Exception as error:  # collected, so one report names every message that fails
            problems.append(f"{name}: {type(error).__name__}: {error}")
            continue
        with runtime.sessions() as db:
            row = db.get(Inbound, inbound_id)
            status, reason = row.status, row.reason
        counts[status, reason_kind(reason)] += 1
        if status not in FINAL:
            problems.append(f"{name}: ended {status} ({reason})")
        elif status != Inbound.POSTED and not reason:
            problems.append(f"{name}: {status} without a reason")
        elif is_person_mail(path) and status == Inbound.AUTOMATED:
            problems.append(f"{name}: an ordinary mail taken as automated ({reason})")
        elif is_machine_mail(path) and status != Inbound.AUTOMATED:
            problems.append(f"{name}: a bounce or auto-reply ended {status} ({reason or 'no reason'})")

    assert len(messages) > 250
    assert not problems, "\n".join(problems)
