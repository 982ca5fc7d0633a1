"""Turn a raw email into a ParsedEmail: title, kind, the clean note, its files and who sent it."""

from __future__ import annotations

import email
import email.message
import email.parser
import email.utils
import hashlib
import html
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.header import Header, decode_header
from urllib.parse import unquote

import mailparser
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from mailparser_reply import EmailReplyParser

from feed.automated import automated_reason, bounced_recipients

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
    {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature",
     "application/pgp-keys", "application/ms-tnef", "text/rfc822-headers"}
)

# Where a quoted or forwarded message starts, beyond what mail-parser-reply knows.
FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|"
    r"ursprüngliche nachricht|message transféré|mensaje original|messaggio originale)\s*-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:)\s*$",
    re.IGNORECASE,
)
SEPARATOR_LINE = re.compile(r"^\s*[_\-=]{5,}\s*$")
MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:sent from my \S.{0,40}|sent from (?:outlook|mail|yahoo mail|aol mobile mail|samsung mail)"
    r"(?: for \S+)?|get outlook for (?:ios|android)|von meinem \S.{0,40} gesendet"
    r"|gesendet von meinem \S.{0,40}|envoyé de mon \S.{0,40}|enviado desde mi \S.{0,40})"
    r"\s*(?:<https?://[^>\s]*>)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
# Languages staff and clients write in; each adds patterns, and so chances of a false split
# (Italian is left out: its Outlook block takes any two lines such as "A: …" and "Data: …").
QUOTE_LANGUAGES = ["en", "de", "fr", "es", "nl"]
# mail-parser-reply's header patterns backtrack badly on very long lines (a 16 kB line
# starting with "On" takes seconds), and reply headers are short: probe bounded lines only.
PROBE_LINE_LIMIT = 500
PROBE_LINES = 2000
SHORT_SIGNATURE_LINES = 10


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


def _without_controls(text: str, keep: str = "") -> str:
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) != "Cc")


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
    return _without_controls(text.replace("\t", " ").replace("\n", " ")).strip()


def _sender(message: email.message.Message) -> tuple[str, str]:
    """Return the From name and lowercased address; decode the name after splitting the address."""
    try:
        value = message.get("From")
        raw = "" if value is None else FOLDING.sub("", _unescape(str(value)))
        pairs = email.utils.getaddresses([raw]) if raw else []
    except Exception:
        pairs = []
    name, address = next(((n, a) for n, a in pairs if a or n), ("", ""))
    name = " ".join(_without_controls(_decode_words(name)).split()).strip("\"' ")
    return name, _without_controls(address).strip().lower()


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


def _title_and_kind(subject: str, from_name: str, from_address: str) -> tuple[str, str]:
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
    if not title:
        first = _first_name(from_name, from_address)
        title = f"{KIND_LABELS[kind]} from {first}" if first else KIND_LABELS[kind]
    if len(title) > TITLE_LIMIT:
        cut = title[: TITLE_LIMIT - 1]
        if " " in cut[TITLE_LIMIT // 2 :]:
            cut = cut.rsplit(" ", 1)[0]
        title = cut.rstrip(" ,;:-–") + "…"
    return title, kind


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


def _html_to_text(markup: str) -> str:
    """Convert HTML to text with inscriptis ("strict" adds no indentation); crudely if it fails."""
    try:
        return get_text(markup, ParserConfig(css=CSS_PROFILES["strict"]))
    except Exception:
        without_code = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
        return html.unescape(re.sub(r"(?s)<[^>]*>", " ", without_code))


def _reply_header_line(lines: list[str]) -> int | None:
    """Find the line where mail-parser-reply sees a reply header ("On … wrote:", "From: … Sent: …")."""
    # Its normaliser strips lines and drops long underscore rules; doing both here first keeps
    # its line numbers equal to ours, and we keep the original text rather than its copy.
    probe = [
        "" if len(line) > PROBE_LINE_LIMIT or re.match(r"[_\-]{20,}", line.strip()) else line.strip()
        for line in lines[:PROBE_LINES]
    ]
    text = "\n".join(probe)
    message = EmailReplyParser(languages=QUOTE_LANGUAGES).read(text)
    if message.text.count("\n") != text.count("\n"):
        return None
    header = next((reply.headers for reply in message.replies if reply.headers), "")
    position = message.text.find(header) if header else -1
    return message.text.count("\n", 0, position) if position >= 0 else None


def _split_quote(text: str) -> tuple[str, str]:
    """Split a note into what the sender wrote and the message they quoted or forwarded."""
    lines = text.split("\n")
    cuts = [i for i, line in enumerate(lines) if FORWARD_MARKER.match(line)][:1]
    try:
        header_line = _reply_header_line(lines)
    except Exception:
        header_line = None
    if header_line is not None:
        cuts.append(header_line)
    cut = min(cuts, default=len(lines))
    if cuts:
        while cut > 0 and (not lines[cut - 1].strip() or SEPARATOR_LINE.match(lines[cut - 1])):
            cut -= 1
    # A bare "> …" block at the end is a quote even without an attribution line.
    end = cut
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in lines[end:cut]):
        cut = end
    return "\n".join(lines[:cut]), "\n".join(lines[cut:]).strip("\n")


def _strip_signatures(text: str) -> str:
    """Remove phone-app signatures and a "-- " signature block."""
    lines = [line for line in text.split("\n") if not MOBILE_SIGNATURE.match(line)]
    for i, line in enumerate(lines):
        after = [rest for rest in lines[i + 1 :] if rest.strip()]
        # "-- " is the standard delimiter; a bare "--" counts only before a short block.
        if line == "-- " or (line.strip() == "--" and len(after) <= SHORT_SIGNATURE_LINES):
            lines = lines[:i]
            break
    return "\n".join(lines)


def _normalise(text: str) -> str:
    """Normalise line ends and spaces, and drop control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _without_controls(text.replace("\xa0", " "), keep="\n\t")


def _tidy(text: str) -> str:
    """Drop trailing spaces, runs of blank lines and outer blank lines."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _note(plain: list[str], htmls: list[str]) -> tuple[str, str]:
    """Return the sender's own words and the quoted rest, from plain text or else HTML."""
    bodies = [body for body in plain if body.strip()]
    if bodies:
        source = "\n\n".join(body.strip("\r\n") for body in bodies)
    else:
        source = "\n\n".join(_html_to_text(body) for body in htmls if body.strip())
    new, quoted = _split_quote(_normalise(source))
    return _tidy(_strip_signatures(new)), _tidy(quoted)


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


def _parse(raw: bytes) -> ParsedEmail:
    message, plain, htmls = _read(raw)
    walked_plain, walked_html, files = _walk(message)
    # mail-parser decodes bodies with charset recovery and rescues parts behind broken
    # boundaries; files come from our own walk because it names nameless parts at random
    # and leaves nameless photos (MMS gateways) in the body.
    plain = walked_plain if plain is None else plain
    htmls = walked_html if htmls is None else htmls
    from_name, from_address = _sender(message)
    subject = _header(message, "Subject")
    title, kind = _title_and_kind(subject, from_name, from_address)
    text, quoted = _note(plain, htmls)
    return ParsedEmail(
        _message_id(message), subject, title, kind, text, quoted, from_address, from_name, _sent_at(message),
        _mark_inline(files, htmls), automated_reason(message), bounced_recipients(message),
    )


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw message bytes into a ParsedEmail; never raises, degrading to what can be read."""
    raw = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    try:
        return _parse(raw)
    except Exception:
        pass
    try:
        headers_only = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        return _parse(headers_only)
    except Exception:
        return ParsedEmail(None, "", KIND_LABELS["update"], "update", "", "", "", "", None, (), None, ())
