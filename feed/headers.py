"""Read header values as clean text, whatever encoding, charset label or damage they carry."""

from __future__ import annotations

import email.message
import re
from email.header import Header, decode_header

from feed.charsets import decode_text
from feed.notes import without_controls

FOLDING = re.compile(r"\r?\n(?=[ \t])")


def unescape(text: str, fallback: str | None = None) -> str:
    """Recover raw 8-bit bytes the email package kept as surrogates; `fallback` is the message's own charset."""
    escaped = any("\udc80" <= ch <= "\udcff" for ch in text)
    return decode_text(text.encode("utf-8", "surrogateescape"), fallback=fallback) if escaped else text


def _chunk_text(chunk: bytes | str, charset: str | None, fallback: str | None = None) -> str:
    if isinstance(chunk, str):
        return chunk
    # decode_header() hands back unencoded stretches of a str as raw-unicode-escape bytes.
    return chunk.decode("raw-unicode-escape") if charset is None else decode_text(chunk, charset, fallback)


def decode_words(value: object, fallback: str | None = None) -> str:
    """Decode a header value: RFC 2047 words, raw 8-bit bytes (UTF-8, `fallback`, else Windows-1252), folding."""
    if isinstance(value, Header):  # compat32's wrapper for raw 8-bit header bytes
        value = "".join(_chunk_text(chunk, charset, fallback) for chunk, charset in decode_header(value))
    text = FOLDING.sub("", unescape(str(value), fallback))
    try:
        return "".join(_chunk_text(chunk, charset) for chunk, charset in decode_header(text))
    except Exception:
        return text


def header_text(message: email.message.Message, name: str, fallback: str | None = None) -> str:
    """Return a header as clean one-line text; "" when absent or unreadable."""
    try:
        value = message.get(name)
        text = "" if value is None else decode_words(value, fallback)
    except Exception:
        return ""
    return without_controls(text.replace("\t", " ").replace("\n", " ")).strip()
