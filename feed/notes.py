"""The note in an email: the sender's own words, apart from what they quoted and their signature."""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from mailparser_reply.parser import EmailMessage

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
# How plain-text alternatives mark a picture the HTML shows: Outlook "[cid:image001.png@01DA…]",
# Gmail "[image: IMG_1234.jpg]". The picture itself is posted; the marker would read as a broken link.
IMAGE_PLACEHOLDER = re.compile(r"\[(?:cid:[^\]\s]+|image:[^\]\n]{0,200})\]", re.IGNORECASE)
# An Outlook-style header block opens with a field name; "On … wrote:" attributions do not.
HEADER_FIELD = re.compile(r"^[>\s*]*[\w-]{2,20}\s?:", re.UNICODE)
# Languages staff and clients write in; each adds patterns, and so chances of a false split
# (Italian is left out: its Outlook block takes any two lines such as "A: …" and "Data: …").
QUOTE_LANGUAGES = ("en", "de", "fr", "es", "nl")
# mail-parser-reply's header patterns backtrack badly on very long lines (a 16 kB line
# starting with "On" takes seconds), and reply headers are short: probe bounded lines only.
PROBE_LINE_LIMIT = 500
PROBE_LINES = 2000
SHORT_SIGNATURE_LINES = 10


def without_controls(text: str, keep: str = "") -> str:
    """Drop control characters, except those in `keep`."""
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) != "Cc")


def html_to_text(markup: str) -> str:
    """Convert HTML to text with inscriptis ("strict" adds no indentation); crudely if it fails."""
    try:
        return get_text(markup, ParserConfig(css=CSS_PROFILES["strict"]))
    except Exception:
        without_code = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
        return html.unescape(re.sub(r"(?s)<[^>]*>", " ", without_code))


@functools.cache
def _header_pattern() -> re.Pattern[str]:
    """Compile mail-parser-reply's reply-header patterns ("On … wrote:", "From: … Sent: …") once."""
    return EmailMessage(text="", languages=list(QUOTE_LANGUAGES)).HEADER_REGEX


def _is_reply_header(found: str) -> bool:
    """Tell a real reply header from a paragraph that happens to match the pattern."""
    # Every real attribution carries a date, a time or an address; "On the north side …
    # Jane wrote:" carries none. A "wrote:" attribution wraps over two lines at most.
    if not re.search(r"\d|@", found):
        return False
    return bool(HEADER_FIELD.match(found)) or found.count("\n") <= 1


def _reply_header_line(lines: list[str], start: int = 0) -> int | None:
    """Find the first line from `start` where a reply header begins."""
    probe = [
        "" if len(line) > PROBE_LINE_LIMIT or re.match(r"[_\-]{20,}", line.strip()) else line.strip()
        for line in lines[start : start + PROBE_LINES]
    ]
    text = "\n".join(probe)
    for match in _header_pattern().finditer(text):
        found = match.group(0).strip("\n")
        if found and _is_reply_header(found):
            return start + text.count("\n", 0, match.start() + match.group(0).index(found))
    return None


def _quote_start(lines: list[str], start: int = 0) -> int | None:
    """Find the first line from `start` where a quoted or forwarded message begins."""
    cuts = [i for i in range(start, len(lines)) if FORWARD_MARKER.match(lines[i])][:1]
    try:
        header_line = _reply_header_line(lines, start)
    except Exception:
        header_line = None
    if header_line is not None:
        cuts.append(header_line)
    return min(cuts, default=None)


def _after_header_block(lines: list[str], start: int) -> int:
    """Return the line after a forward's marker and its From:/Date:/Subject: block."""
    i = start + 1 if FORWARD_MARKER.match(lines[start]) else start
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        i += 1
    return i


def _back_over_rules(lines: list[str], cut: int) -> int:
    """Move a cut up over the blank lines and rules (____, -----) just above it."""
    while cut > 0 and (not lines[cut - 1].strip() or SEPARATOR_LINE.match(lines[cut - 1])):
        cut -= 1
    return cut


def _split(text: str, forwarded: bool) -> tuple[list[str], list[str], list[str]]:
    """Split into the sender's own lines, a forwarded message they share, and what they quoted."""
    lines = text.split("\n")
    first = _quote_start(lines)
    shared_start = first if forwarded else None
    cut = first
    if shared_start is not None:
        # A forward is the content: the forwarded message stays, only the history it quotes goes.
        cut = _quote_start(lines, _after_header_block(lines, shared_start))
    cut = len(lines) if cut is None else _back_over_rules(lines, cut)
    # A bare "> …" block at the end is a quote even without an attribution line.
    end = cut
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in lines[end:cut]):
        cut = end
    if shared_start is None or shared_start >= cut:
        return lines[:cut], [], lines[cut:]
    return lines[: _back_over_rules(lines, shared_start)], lines[shared_start:cut], lines[cut:]


def split_quote(text: str, forwarded: bool = False) -> tuple[str, str]:
    """Split a note into what the sender wrote (with a forward they share) and the message they quoted."""
    own, shared, quoted = _split(text, forwarded)
    return "\n".join(own + shared), "\n".join(quoted).strip("\n")


def without_mobile_signatures(text: str) -> str:
    """Remove phone-app signature lines such as "Sent from my iPhone"."""
    return "\n".join(line for line in text.split("\n") if not MOBILE_SIGNATURE.match(line))


def strip_signatures(text: str) -> str:
    """Remove phone-app signatures and a "-- " signature block."""
    lines = without_mobile_signatures(text).split("\n")
    for i, line in enumerate(lines):
        after = [rest for rest in lines[i + 1 :] if rest.strip()]
        # "-- " is the standard delimiter; a bare "--" counts only before a short block.
        if line == "-- " or (line.strip() == "--" and len(after) <= SHORT_SIGNATURE_LINES):
            lines = lines[:i]
            break
    return "\n".join(lines)


def normalise(text: str) -> str:
    """Normalise line ends and spaces, and drop control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return without_controls(text.replace("\xa0", " "), keep="\n\t")


def tidy(text: str) -> str:
    """Drop trailing spaces, runs of blank lines and outer blank lines."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def clean_note(bodies: list[tuple[str, str]], forwarded: bool = False) -> tuple[str, str]:
    """Return the note and the quoted rest from ("plain" or "html", text) bodies; a forward's message stays."""
    texts = [html_to_text(text) if subtype == "html" else text for subtype, text in bodies if text.strip()]
    source = "\n\n".join(text.strip("\r\n") for text in texts if text.strip())
    own, shared, quoted = _split(IMAGE_PLACEHOLDER.sub("", normalise(source)), forwarded)
    # A "-- " signature ends the sender's own words, never the message they forward.
    note = strip_signatures("\n".join(own))
    if shared:
        note = note + "\n\n" + without_mobile_signatures("\n".join(shared))
    return tidy(note), tidy("\n".join(quoted))
