"""Undo RFC 3676 format=flowed: join the lines a mail client broke softly."""

from __future__ import annotations

SIGNATURE_DELIMITER = "-- "


def _split_quote(line: str) -> tuple[int, str]:
    """Return the quote depth and the line without its quote marks and stuffed space."""
    depth = len(line) - len(line.lstrip(">"))
    content = line[depth:]
    return depth, content[1:] if content.startswith(" ") else content


def unflow(text: str, delsp: bool = False) -> str:
    """Join soft line breaks (a line ending in a space), at equal quote depth; DelSp removes that space."""
    paragraphs: list[tuple[int, str]] = []
    open_depth: int | None = None  # the quote depth of a paragraph still waiting for its next line
    for line in text.replace("\r\n", "\n").split("\n"):
        depth, content = _split_quote(line)
        signature = content == SIGNATURE_DELIMITER
        flowed = content.endswith(" ") and not signature
        if flowed and delsp:
            content = content[:-1]
        if open_depth == depth and not signature:
            paragraphs[-1] = (depth, paragraphs[-1][1] + content)
        else:
            paragraphs.append((depth, content))
        open_depth = depth if flowed else None
    return "\n".join(">" * depth + " " + content if depth else content for depth, content in paragraphs)
