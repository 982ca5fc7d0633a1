"""The note in an email: the sender's own words, apart from what they quoted and their signature."""

from __future__ import annotations

import html
import re
import unicodedata

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from mailparser_reply import EmailReplyParser

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


def split_quote(text: str) -> tuple[str, str]:
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


def strip_signatures(text: str) -> str:
    """Remove phone-app signatures and a "-- " signature block."""
    lines = [line for line in text.split("\n") if not MOBILE_SIGNATURE.match(line)]
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


def clean_note(plain: list[str], htmls: list[str]) -> tuple[str, str]:
    """Return the sender's own words and the quoted rest, from plain text or else HTML."""
    bodies = [body for body in plain if body.strip()]
    if bodies:
        source = "\n\n".join(body.strip("\r\n") for body in bodies)
    else:
        source = "\n\n".join(html_to_text(body) for body in htmls if body.strip())
    new, quoted = split_quote(normalise(source))
    return tidy(strip_signatures(new)), tidy(quoted)
