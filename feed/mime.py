"""Walk a message's MIME tree: the body texts in reading order, and every file it carries."""

from __future__ import annotations

import base64
import binascii
import email.message
import email.utils
import mimetypes
import quopri
import unicodedata
from dataclasses import dataclass, field

from feed.charsets import decode_text
from feed.flowed import unflow
from feed.headers import decode_words, header_text, unescape
from feed.tnef import is_tnef, unpack_tnef

FILENAME_LIMIT = 150
# Real mail nests a few levels; past this a message is built to exhaust the parser.
MAX_DEPTH = 64
ATTACHED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})

# Parts that are plumbing, not something a client should see.
NOT_CONTENT = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-keys",
        "text/rfc822-headers",
    }
)


@dataclass(frozen=True)
class Body:
    """One text part of the message body, as sent: "plain" or "html"."""

    subtype: str
    text: str


@dataclass(frozen=True)
class FoundFile:
    """A file part of the message, before we decide how it is shown."""

    filename: str
    content_type: str
    payload: bytes
    content_id: str | None
    attached: bool  # Content-Disposition: attachment, so the sender chose to attach it
    staff_only: bool = False


@dataclass
class Walked:
    """What a walk found: the body texts in reading order, the files, and every HTML body (for cid: links)."""

    bodies: list[Body] = field(default_factory=list)
    files: list[FoundFile] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)

    def extend(self, other: Walked) -> None:
        self.bodies.extend(other.bodies)
        self.files.extend(other.files)
        self.htmls.extend(other.htmls)

    def has_plain_text(self) -> bool:
        return any(body.subtype == "plain" and body.text.strip() for body in self.bodies)

    def has_text(self) -> bool:
        return any(body.text.strip() for body in self.bodies)


def safe_filename(name: str, content_type: str, position: int) -> str:
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


def _parameter_text(value: str | tuple[str | None, str | None, str]) -> str:
    """Decode a header parameter, RFC 2231 ("utf-8''K%C3%BCche.jpg") or RFC 2047, whatever its charset label."""
    if isinstance(value, tuple):
        charset, _, text = value
        # The email package hands %-escaped bytes over as Latin-1 characters; anything past
        # Latin-1 was raw 8-bit text that is already decoded.
        try:
            return decode_text(text.encode("latin-1"), charset)
        except UnicodeEncodeError:
            return text
    return decode_words(email.utils.unquote(value))


def part_filename(part: email.message.Message) -> str:
    """Read a part's filename from its raw headers, where 8-bit names are still intact."""
    # The compat32 policy turns raw 8-bit header bytes into U+FFFD before get_filename()
    # sees them; raw_items() is how the stdlib generator (and mail-parser) reaches them.
    view = email.message.Message()
    try:
        for name, value in part.raw_items():
            if name.lower() in ("content-type", "content-disposition"):
                view[name] = unescape(str(value))
        found = view.get_param("filename", None, "content-disposition") or view.get_param("name", None)
        return _parameter_text(found) if found else ""
    except Exception:
        return ""


def declared_charset(message: email.message.Message, limit: int = 50) -> str | None:
    """Name the first charset the message's text parts declare: the best guess for unlabelled header bytes."""
    queue = [message]
    while queue and limit > 0:
        part, limit = queue.pop(0), limit - 1
        if part.is_multipart():
            queue.extend(child for child in part.get_payload() if isinstance(child, email.message.Message))
        elif part.get_content_maintype() == "text" and (charset := part.get_content_charset()):
            return charset
    return None


def _content_id(part: email.message.Message) -> str | None:
    return header_text(part, "Content-ID").strip().strip("<>").strip() or None


def _cid_filename(content_id: str | None) -> str:
    """Outlook names a nameless inline picture only in its Content-ID: "image001.png@01DA…"."""
    local = (content_id or "").split("@", 1)[0]
    return local if mimetypes.guess_type(local)[0] else ""


def _body_text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True) or b""
    text = decode_text(payload, part.get_content_charset())
    if part.get_content_subtype() == "plain" and str(part.get_param("format", "")).lower() == "flowed":
        text = unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _attached_message(part: email.message.Message) -> FoundFile | None:
    """Keep a forwarded message as a whole .eml file named after its subject."""
    inner = next(iter(part.get_payload()), None)
    if not isinstance(inner, email.message.Message):
        return None
    try:
        raw = inner.as_bytes()
    except Exception:
        raw = inner.as_string().encode("utf-8", "surrogateescape")
    encoding = header_text(part, "Content-Transfer-Encoding").lower()
    try:
        # Not allowed on message/rfc822, sent anyway: the parser read the encoded text as a message.
        if encoding == "base64":
            raw = base64.b64decode(b"".join(raw.split()))
        elif encoding == "quoted-printable":
            raw = quopri.decodestring(raw)
    except (binascii.Error, ValueError):
        pass
    if not raw.strip():
        return None
    inner = email.message_from_bytes(raw) if encoding in ("base64", "quoted-printable") else inner
    subject = header_text(inner, "Subject")
    name = f"{subject[: FILENAME_LIMIT - 4]}.eml" if subject else part_filename(part) or "forwarded message.eml"
    name = safe_filename(name, "message/rfc822", 1)
    return FoundFile(name, "message/rfc822", raw, _content_id(part), True)


def _leaf(part: email.message.Message, walked: Walked) -> None:
    content_type = part.get_content_type()
    disposition = part.get_content_disposition()
    filename = part_filename(part)
    if content_type in ("text/plain", "text/html") and disposition != "attachment":
        if not filename or disposition == "inline":
            body = Body(part.get_content_subtype(), _body_text(part))
            walked.bodies.append(body)
            walked.htmls.extend([body.text] if body.subtype == "html" else [])
            return
    if content_type in NOT_CONTENT or part.get_content_maintype() in ("message", "multipart"):
        return
    payload = part.get_payload(decode=True)
    if not payload:
        return
    content_id = _content_id(part)
    position = len(walked.files) + 1
    if is_tnef(content_type, filename, payload):
        for packed in unpack_tnef(payload):
            packed_type = packed.content_type or mimetypes.guess_type(packed.filename)[0] or "application/octet-stream"
            name = safe_filename(packed.filename, packed_type, len(walked.files) + 1)
            walked.files.append(FoundFile(name, packed_type, packed.payload, None, True))
        # The container too, for staff: what it held beyond files (an Outlook message body) is still in it.
        name = safe_filename(filename or "winmail.dat", content_type, position)
        walked.files.append(FoundFile(name, "application/ms-tnef", payload, content_id, True, staff_only=True))
        return
    name = safe_filename(filename or _cid_filename(content_id), content_type, position)
    walked.files.append(FoundFile(name, content_type, payload, content_id, disposition == "attachment"))


def _alternative(children: list[Walked]) -> Walked:
    """Take the text from one alternative (plain text first, else the last with text) and files from all."""
    # Apple Mail puts attachments inside the HTML alternative only: none may be lost.
    chosen = next((child for child in children if child.has_plain_text()), None)
    chosen = chosen or next((child for child in reversed(children) if child.has_text()), None)
    walked = Walked(bodies=list(chosen.bodies) if chosen else [])
    for child in children:
        walked.files.extend(child.files)
        walked.htmls.extend(child.htmls)
    return walked


def walk(part: email.message.Message, depth: int = 0) -> Walked:
    """Split a message into its body texts and files, without reading into attached messages."""
    walked = Walked()
    if depth > MAX_DEPTH:
        return walked
    if not part.is_multipart():
        _leaf(part, walked)
        return walked
    content_type = part.get_content_type()
    if part.get_content_maintype() == "message":
        if content_type in ATTACHED_MESSAGE_TYPES:
            found = _attached_message(part)
            walked.files.extend([found] if found else [])
        return walked
    children = [walk(child, depth + 1) for child in part.get_payload() if isinstance(child, email.message.Message)]
    if content_type == "multipart/alternative":
        return _alternative(children)
    for child in children:
        walked.extend(child)
    return walked
