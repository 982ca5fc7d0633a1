"""Turn a raw email into a ParsedEmail: title, kind, the clean note, its files and who sent it."""

from __future__ import annotations

import email
import email.message
import email.parser
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import mailparser

from feed.automated import automated_reason, bounced_recipients
from feed.headers import FOLDING, decode_words, header_text, unescape
from feed.inline import choose_files
from feed.mime import FoundFile, declared_charset, walk
from feed.notes import clean_note, without_controls

KINDS = ("update", "stage", "decision", "variation", "delay", "milestone")
TAG_ALIASES = {
    "update": ("update",),
    "stage": ("stage", "phase"),
    "decision": ("decision", "approval", "approve"),
    "variation": ("variation", "change", "vo"),
    "delay": ("delay", "delayed"),
    "milestone": ("milestone", "delivered", "delivery", "handover"),
}
TAG_KINDS = {alias: kind for kind, aliases in TAG_ALIASES.items() for alias in aliases}
KIND_LABELS = {kind: kind.capitalize() for kind in KINDS} | {"stage": "Stage update"}
TITLE_LIMIT = 200

REPLY_PREFIX = re.compile(r"^(re|fwd?|aw|wg|sv|tr|rv)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*", re.IGNORECASE)
FORWARD_PREFIXES = frozenset({"fwd", "fw", "wg", "tr", "rv"})
LEADING_TAG = re.compile(r"^\[\s*([^\[\]]{1,40}?)\s*\]\s*")
# Direction overrides and isolates: in a title they can flip the text around them on the timeline.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


@dataclass(frozen=True)
class ParsedAttachment:
    """One file from the email: a photo, a video or a document."""

    filename: str
    content_type: str
    payload: bytes
    content_id: str | None
    inline: bool
    staff_only: bool = False  # kept for staff, not for the timeline: the winmail.dat an Outlook sent


@dataclass(frozen=True)
class ParsedEmail:
    """What the email says, cleaned for the timeline; the raw bytes stay in the spool."""

    message_id: str | None
    subject: str
    title: str
    kind: str
    text: str
    quoted: str
    from_address: str
    from_name: str
    sent_at: datetime | None
    attachments: tuple[ParsedAttachment, ...]
    automated: str | None
    bounced_recipients: tuple[str, ...]
    titled: bool = True  # False when the subject said nothing and the title is made up


def kind_from_tag(tag: str) -> str | None:
    """Map a subject tag such as "Decision" or "[handover]" to an entry kind; None if unknown."""
    return TAG_KINDS.get(tag.strip().strip("[]").strip().casefold())


def _sender(message: email.message.Message, fallback: str | None = None) -> tuple[str, str]:
    """Return the From name and lowercased address; decode the name after splitting the address."""
    try:
        value = message.get("From")
        raw = "" if value is None else FOLDING.sub("", unescape(str(value), fallback))
        pairs = email.utils.getaddresses([raw]) if raw else []
    except Exception:
        pairs = []
    name, address = next(((n, a) for n, a in pairs if a or n), ("", ""))
    name = " ".join(without_controls(decode_words(name, fallback)).split()).strip("\"' ")
    return name, without_controls(address).strip().lower()


def _sent_at(message: email.message.Message) -> datetime | None:
    value = header_text(message, "Date")
    for read in (email.utils.parsedate_to_datetime, datetime.fromisoformat):
        try:
            sent = read(value)
            # No zone given: RFC 5322 "-0000" says the same, so read it as UTC.
            return sent.replace(tzinfo=UTC) if sent.tzinfo is None else sent.astimezone(UTC)
        except Exception:
            continue
    return None


def _message_id(message: email.message.Message) -> str | None:
    value = header_text(message, "Message-ID")
    bracketed = re.search(r"<([^<>\s]+)>", value)
    found = bracketed.group(1) if bracketed else "".join(value.split()).strip("<>")
    return found[:998] or None


def _first_name(name: str, address: str) -> str:
    words = name.split(",", 1)[-1].split()  # "Mercer, Dan" as well as "Dan Mercer"
    return words[0] if words else re.split(r"[._+\-]", address.split("@", 1)[0])[0].capitalize()


def _title_and_kind(subject: str, from_name: str, from_address: str) -> tuple[str, str, bool]:
    """Strip reply prefixes and the kind tag from the subject; name the sender when nothing is left."""
    rest = " ".join(subject.translate(BIDI_CONTROLS).split())
    kind: str | None = None
    kept_tags: list[str] = []
    while match := REPLY_PREFIX.match(rest) or LEADING_TAG.match(rest):
        rest = rest[match.end() :]
        tagged = kind_from_tag(match.group(1)) if match.re is LEADING_TAG else None
        if tagged and kind is None:
            kind = tagged
        elif match.re is LEADING_TAG:
            kept_tags.append(match.group(0).strip())  # "[Photos]" and later tags stay in the title
    kind = kind or "update"
    title = " ".join([*kept_tags, rest]).strip()
    titled = bool(title)
    if not title:
        first = _first_name(from_name, from_address)
        title = f"{KIND_LABELS[kind]} from {first}" if first else KIND_LABELS[kind]
    if len(title) > TITLE_LIMIT:
        cut = title[: TITLE_LIMIT - 1]
        if " " in cut[TITLE_LIMIT // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        title = cut.rstrip(" ,;:-–") + "…"
    return title, kind, titled


def is_forward(subject: str) -> bool:
    """Say whether the subject's first reply or forward prefix is a forward's (Fwd:, Fw:, WG:, TR:, RV:)."""
    rest = " ".join(subject.split())
    while match := LEADING_TAG.match(rest):
        rest = rest[match.end() :]
    prefix = REPLY_PREFIX.match(rest)
    return bool(prefix) and prefix.group(1).lower() in FORWARD_PREFIXES


def _read(raw: bytes) -> email.message.Message:
    """Parse with mail-parser; fall back to the stdlib parser, then to the headers alone."""
    # Only the message tree is taken from mail-parser: its body text reads undeclared 8-bit
    # text as U+FFFD and takes in the text of attached messages, so bodies come from feed.mime.
    try:
        return mailparser.parse_from_bytes(raw).message
    except Exception:
        pass
    try:
        return email.message_from_bytes(raw)
    except Exception:
        return email.parser.BytesHeaderParser().parsebytes(raw)


def _attachments(files: list[FoundFile], htmls: list[str]) -> tuple[ParsedAttachment, ...]:
    """Turn the files worth posting into ParsedAttachments."""
    return tuple(
        ParsedAttachment(
            chosen.file.filename,
            chosen.file.content_type,
            chosen.file.payload,
            chosen.file.content_id,
            chosen.inline,
            chosen.file.staff_only,
        )
        for chosen in choose_files(files, htmls)
    )


def _parse(raw: bytes, mail_from: str | None) -> ParsedEmail:
    message = _read(raw)
    walked = walk(message)
    charset = declared_charset(message)
    from_name, from_address = _sender(message, charset)
    subject = header_text(message, "Subject", charset)
    title, kind, titled = _title_and_kind(subject, from_name, from_address)
    text, quoted = clean_note([(body.subtype, body.text) for body in walked.bodies], forwarded=is_forward(subject))
    return ParsedEmail(
        _message_id(message),
        subject,
        title,
        kind,
        text,
        quoted,
        from_address,
        from_name,
        _sent_at(message),
        _attachments(walked.files, walked.htmls),
        automated_reason(message, mail_from),
        bounced_recipients(message),
        titled,
    )


def parse_email(raw: bytes, mail_from: str | None = None) -> ParsedEmail:
    """Parse raw message bytes into a ParsedEmail; never raises, degrading to what can be read.

    `mail_from` is the envelope sender when known ("" is the null sender of bounces).
    """
    raw = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    try:
        return _parse(raw, mail_from)
    except Exception:
        pass
    try:
        headers_only = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        return _parse(headers_only, mail_from)
    except Exception:
        automated = automated_reason(email.message.Message(), mail_from)
        return ParsedEmail(None, "", KIND_LABELS["update"], "update", "", "", "", "", None, (), automated, (), False)
