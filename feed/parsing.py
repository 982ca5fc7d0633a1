"""Turn a raw email into a ParsedEmail: title, kind, the clean note, its files and who sent it."""

from __future__ import annotations

import email
import email.message
import email.parser
import email.utils
import hashlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.header import Header, decode_header
from urllib.parse import unquote

import mailparser

from feed.automated import automated_reason, bounced_recipients
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
FILENAME_LIMIT = 150

REPLY_PREFIX = re.compile(r"^(?:re|fwd?|aw|wg|sv)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*", re.IGNORECASE)
LEADING_TAG = re.compile(r"^\[\s*([^\[\]]{1,40}?)\s*\]\s*")
CID_REFERENCE = re.compile(r"""cid:([^"'\s<>)]+)""", re.IGNORECASE)
FOLDING = re.compile(r"\r?\n(?=[ \t])")

# Parts that are plumbing, not something a client should see.
NOT_CONTENT = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-keys",
        "application/ms-tnef",
        "text/rfc822-headers",
    }
)


@dataclass(frozen=True)
class ParsedAttachment:
    """One file from the email: a photo, a video or a document."""

    filename: str
    content_type: str
    payload: bytes
    content_id: str | None
    inline: bool


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


def _bytes_text(data: bytes, charset: str | None = None) -> str:
    """Decode bytes with the declared charset, else UTF-8, else Windows-1252, else Latin-1."""
    for encoding in (charset, "utf-8", "cp1252"):
        if encoding and encoding.lower() != "unknown-8bit":
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeError):
                continue
    return data.decode("latin-1")


def _unescape(text: str) -> str:
    """Recover raw 8-bit bytes the email package kept as surrogates."""
    escaped = any("\udc80" <= ch <= "\udcff" for ch in text)
    return _bytes_text(text.encode("utf-8", "surrogateescape")) if escaped else text


def _chunk_text(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    # decode_header() hands back unencoded stretches of a str as raw-unicode-escape bytes.
    return chunk.decode("raw-unicode-escape") if charset is None else _bytes_text(chunk, charset)


def _decode_words(value: object) -> str:
    """Decode a header value: RFC 2047 words, raw UTF-8 or Latin-1 bytes, folding."""
    if isinstance(value, Header):  # compat32's wrapper for raw 8-bit header bytes
        value = "".join(_chunk_text(chunk, charset) for chunk, charset in decode_header(value))
    text = FOLDING.sub("", _unescape(str(value)))
    try:
        return "".join(_chunk_text(chunk, charset) for chunk, charset in decode_header(text))
    except Exception:
        return text


def _header(message: email.message.Message, name: str) -> str:
    """Return a header as clean one-line text; "" when absent or unreadable."""
    try:
        value = message.get(name)
        text = "" if value is None else _decode_words(value)
    except Exception:
        return ""
    return without_controls(text.replace("\t", " ").replace("\n", " ")).strip()


def _sender(message: email.message.Message) -> tuple[str, str]:
    """Return the From name and lowercased address; decode the name after splitting the address."""
    try:
        value = message.get("From")
        raw = "" if value is None else FOLDING.sub("", _unescape(str(value)))
        pairs = email.utils.getaddresses([raw]) if raw else []
    except Exception:
        pairs = []
    name, address = next(((n, a) for n, a in pairs if a or n), ("", ""))
    name = " ".join(without_controls(_decode_words(name)).split()).strip("\"' ")
    return name, without_controls(address).strip().lower()


def _sent_at(message: email.message.Message) -> datetime | None:
    value = _header(message, "Date")
    for read in (email.utils.parsedate_to_datetime, datetime.fromisoformat):
        try:
            sent = read(value)
            # No zone given: RFC 5322 "-0000" says the same, so read it as UTC.
            return sent.replace(tzinfo=UTC) if sent.tzinfo is None else sent.astimezone(UTC)
        except Exception:
            continue
    return None


def _message_id(message: email.message.Message) -> str | None:
    value = _header(message, "Message-ID")
    bracketed = re.search(r"<([^<>\s]+)>", value)
    found = bracketed.group(1) if bracketed else "".join(value.split()).strip("<>")
    return found[:998] or None


def _first_name(name: str, address: str) -> str:
    words = name.split(",", 1)[-1].split()  # "Mercer, Dan" as well as "Dan Mercer"
    return words[0] if words else re.split(r"[._+\-]", address.split("@", 1)[0])[0].capitalize()


def _title_and_kind(subject: str, from_name: str, from_address: str) -> tuple[str, str, bool]:
    """Strip reply prefixes and the kind tag from the subject; name the sender when nothing is left."""
    rest = " ".join(subject.split())
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


def _safe_filename(name: str, content_type: str, position: int) -> str:
    """Make a display filename: last path segment, no control or direction characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = " ".join(name.split()).strip(" .")
    if len(name) > FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        name = stem[: FILENAME_LIMIT - len(ext) - 1] + "." + ext if dot and len(ext) <= 10 else name[:FILENAME_LIMIT]
    if name:
        return name
    extension = mimetypes.guess_extension(content_type) or (".txt" if content_type.startswith("text/") else ".bin")
    return f"attachment-{position}{extension}"


def _part_filename(part: email.message.Message) -> str:
    """Read a part's filename from its raw headers, where 8-bit names are still intact."""
    # The compat32 policy turns raw 8-bit header bytes into U+FFFD before get_filename()
    # sees them; raw_items() is how the stdlib generator (and mail-parser) reaches them.
    view = email.message.Message()
    try:
        for name, value in part.raw_items():
            if name.lower() in ("content-type", "content-disposition"):
                view[name] = _unescape(str(value))
        found = view.get_filename()
    except Exception:
        return ""
    return _decode_words(found) if found else ""


def _leaves(message: email.message.Message) -> list[email.message.Message]:
    """List the leaf parts in message order, without entering attached or reported messages."""
    found, stack = [], [message]
    while stack:
        part = stack.pop()
        if not part.is_multipart():
            found.append(part)
        elif part is message or part.get_content_maintype() != "message":
            stack.extend(reversed([p for p in part.get_payload() if isinstance(p, email.message.Message)]))
    return found


def _walk(message: email.message.Message) -> tuple[list[str], list[str], list[ParsedAttachment]]:
    """Split the message into plain bodies, HTML bodies and files."""
    plain: list[str] = []
    htmls: list[str] = []
    files: list[ParsedAttachment] = []
    for part in _leaves(message):
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = _part_filename(part)
        is_body_text = content_type in ("text/plain", "text/html") and disposition != "attachment"
        if is_body_text and (not filename or disposition == "inline"):
            payload = part.get_payload(decode=True) or b""
            text = _bytes_text(payload, part.get_content_charset())
            (htmls if content_type == "text/html" else plain).append(text)
            continue
        if content_type in NOT_CONTENT or part.get_content_maintype() in ("message", "multipart"):
            continue
        payload = part.get_payload(decode=True)
        if not payload:
            continue
        content_id = _header(part, "Content-ID").strip().strip("<>").strip() or None
        name = _safe_filename(filename, content_type, len(files) + 1)
        files.append(ParsedAttachment(name, content_type, payload, content_id, False))
    return plain, htmls, files


def _mark_inline(files: list[ParsedAttachment], htmls: list[str]) -> tuple[ParsedAttachment, ...]:
    """Flag files the HTML shows by cid:, and keep each distinct payload once, in order."""
    referenced = {unquote(m).casefold() for body in htmls for m in CID_REFERENCE.findall(body)}
    kept: dict[str, ParsedAttachment] = {}
    for file in files:
        inline = bool(file.content_id) and file.content_id.casefold() in referenced
        digest = hashlib.sha256(file.payload).hexdigest()
        first = kept.get(digest)
        if first is None:
            kept[digest] = replace(file, inline=inline)
        elif inline and not first.inline:
            kept[digest] = replace(first, inline=True, content_id=file.content_id)
    return tuple(kept.values())


def _read(raw: bytes) -> tuple[email.message.Message, list[str] | None, list[str] | None]:
    """Parse with mail-parser; fall back to the stdlib parser, then to the headers alone."""
    try:
        mail = mailparser.parse_from_bytes(raw)
        return mail.message, list(mail.text_plain), list(mail.text_html)
    except Exception:
        pass
    try:
        return email.message_from_bytes(raw), None, None
    except Exception:
        return email.parser.BytesHeaderParser().parsebytes(raw), [], []


def _parse(raw: bytes, mail_from: str | None) -> ParsedEmail:
    message, plain, htmls = _read(raw)
    walked_plain, walked_html, files = _walk(message)
    # mail-parser decodes bodies with charset recovery and rescues parts behind broken
    # boundaries; files come from our own walk because it names nameless parts at random
    # and leaves nameless photos (MMS gateways) in the body.
    plain = walked_plain if plain is None else plain
    htmls = walked_html if htmls is None else htmls
    from_name, from_address = _sender(message)
    subject = _header(message, "Subject")
    title, kind, titled = _title_and_kind(subject, from_name, from_address)
    text, quoted = clean_note(plain, htmls)
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
        _mark_inline(files, htmls),
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
