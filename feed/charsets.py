"""Read text whose charset label is wrong, misspelt, missing or unknown, the way mail clients do."""

from __future__ import annotations

import codecs
import re

# Labels mail clients send that Python does not know, or knows as something narrower than
# what senders mean. Logical and explicit Hebrew/Arabic ("-i", "-e") share their visual twin's
# bytes; the Korean and Chinese labels name subsets of what senders really use.
ALIASES = {
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-6-e": "iso-8859-6",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-8-e": "iso-8859-8",
    "logical": "iso-8859-8",
    "visual": "iso-8859-8",
    "uft-8": "utf-8",
    "utf8": "utf-8",
    "ut-8": "utf-8",
    "utf-8-bom": "utf-8-sig",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "x-sjis": "cp932",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc-jp",
    "x-mac-roman": "mac-roman",
    "windows-874": "cp874",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
}
# Labels that say nothing about the bytes: read them as undeclared.
MEANINGLESS = frozenset({"", "unknown", "unknown-8bit", "x-unknown", "x-user-defined", "default", "charset", "none"})
# Codecs Python knows by these names that do not decode mail text.
NOT_TEXT = frozenset({"idna", "punycode", "undefined", "raw-unicode-escape", "unicode-escape", "rot-13"})
# Windows-1252 is what senders mean by ASCII and Latin-1 (the WHATWG Encoding Standard reads
# those labels the same way): Outlook labels curly quotes and € as iso-8859-1.
WINDOWS_1252_LABELS = frozenset({"ascii", "iso8859-1", "cp1252", "latin-1"})
# The five bytes Windows-1252 leaves undefined keep their Latin-1 meaning, so decoding never fails.
_WINDOWS_1252 = {
    byte: bytes([byte]).decode("cp1252", "replace").replace("\ufffd", chr(byte)) for byte in range(128, 256)
}
_LABEL_JUNK = re.compile(r"""^[\s"']+|[\s"';]+$""")


def codec_for(label: str | None) -> str | None:
    """Name the Python codec for a charset label, or None when the label is useless."""
    name = _LABEL_JUNK.sub("", label or "").lower()
    name = ALIASES.get(name, name)
    if name in MEANINGLESS:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in NOT_TEXT:
        return None
    return "cp1252" if info.name in WINDOWS_1252_LABELS else info.name


def windows_1252(data: bytes) -> str:
    """Decode as Windows-1252, never failing: its undefined bytes keep their Latin-1 meaning."""
    return data.decode("latin-1").translate(_WINDOWS_1252)


def _decoded(data: bytes, codec: str | None) -> str | None:
    try:
        return data.decode(codec) if codec else None
    except (UnicodeError, LookupError, ValueError):
        return None


def decode_text(data: bytes, label: str | None = None, fallback: str | None = None) -> str:
    """Decode text by its label; unlabelled or mislabelled text reads as UTF-8, the fallback, else Windows-1252.

    `fallback` is a charset the rest of the message declares, for bytes that came with no label at all.
    """
    codec = codec_for(label)
    # A single-byte Latin label on bytes that are valid UTF-8 is a client's mislabel: UTF-8 wins.
    if codec != "cp1252" and (text := _decoded(data, codec)) is not None:
        return text
    if (text := _decoded(data, "utf-8")) is not None:
        return text
    hint = codec_for(fallback)
    if codec is None and hint != "cp1252" and (text := _decoded(data, hint)) is not None:
        return text
    return windows_1252(data)
