"""Progress notes: the staff-only part after an internal marker, and "Done:" / "Next:" lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Anywhere in the text, not only on a line of its own: "Tiles fitted [internal] margin 20%"
# hides the margin too. Over-hiding costs a client a sentence; a leak cannot be taken back.
# Any run of dashes counts: phones turn "--" into "—", and a slip to "-internal-" must not leak.
_MARKER_WORD = r"\s*(?:internal(?:\s+only)?|staff\s+only)\s*"
INTERNAL_MARKER = re.compile(
    rf"\[{_MARKER_WORD}\]|(?<![\w-])[-–—]+{_MARKER_WORD}[-–—]+(?![\w-])",
    re.IGNORECASE,
)

DONE_LABELS = ("done", "done today", "completed", "completed today", "complete", "finished")
NEXT_LABELS = ("next", "next up", "up next", "coming up", "next steps", "next step", "next week", "to do", "to-do")
NEXT_LABELS += ("todo", "tomorrow")
LABELS = {label: "done" for label in DONE_LABELS} | {label: "next" for label in NEXT_LABELS}
_LABEL = "|".join(re.escape(label).replace(r"\ ", r"\s+") for label in sorted(LABELS, key=len, reverse=True))
# "Done: …", "**Next:**", "- Coming up – …"; a dash must have a space after it ("Next-door" is prose).
HEADING = re.compile(
    rf"^\s*(?:[-*•]\s+)?(?:\*\*|__)?(?P<label>{_LABEL})(?:\*\*|__)?\s*(?::|[-–—](?=\s|$))(?:\*\*|__)?\s*(?P<item>.*?)\s*$",
    re.IGNORECASE,
)
BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣–—✓✔☑]|[0-9]{1,2}[.)])\s+(?:\[[ xX✓]\]\s+)?(?P<item>\S.*?)\s*$")


@dataclass(frozen=True)
class DoneNext:
    """A note's "Done:" and "Next:" items, and the rest of the note without them."""

    done: tuple[str, ...]
    next: tuple[str, ...]
    rest: str


def split_internal(text: str) -> tuple[str, str]:
    """Split a note into what the client may see and what follows an internal marker (staff only)."""
    marker = INTERNAL_MARKER.search(text)
    if marker is None:
        return text, ""
    return text[: marker.start()].rstrip(), text[marker.end() :].strip()


def _tidy(lines: list[str]) -> str:
    """Join lines, keeping at most one blank line in a row and none at either end."""
    return re.sub(r"\n\s*\n(?:\s*\n)+", "\n\n", "\n".join(lines)).strip()


class _Sections:
    """Walk a note line by line, taking items under headings and keeping every other line."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {"done": [], "next": []}
        self.rest: list[str] = []
        self.section = ""  # "done", "next", or "" outside a section
        self.open = False  # a bare heading: plain lines below it are items until a blank line
        self.gap = False  # a blank line after the section's items: only a bullet continues it
        self.taken = 0
        self.bulleted = False  # once a section has bullets, a plain line ends it
        self.heading: tuple[int, str] | None = None

    def close(self) -> None:
        """End the section; a heading that took nothing goes back into the note where it was."""
        if self.heading and not self.taken:
            position, line = self.heading
            self.rest.insert(position, line)
        self.section, self.heading = "", None

    def take(self, item: str) -> None:
        self.items[self.section].append(item)
        self.taken += 1
        self.gap = False

    def feed(self, line: str) -> None:
        """Read one line: a heading opens a section, an item joins it, anything else is the note."""
        heading = HEADING.match(line)
        if heading:
            self.close()
            self.section = LABELS[" ".join(heading["label"].casefold().split())]
            self.taken, self.gap, self.bulleted = 0, False, False
            self.open = not heading["item"]
            if heading["item"]:
                self.take(heading["item"])
            else:
                self.heading = (len(self.rest), line)
            return
        if self.section and self._took(line):
            return
        if self.section and line.strip():
            self.close()
        self.rest.append(line)

    def _took(self, line: str) -> bool:
        """Take a line into the open section if it belongs there."""
        if not line.strip():
            self.gap = self.gap or self.taken > 0
            self.rest.append(line)
            return True
        bullet = BULLET.match(line)
        if bullet:
            self.take(bullet["item"])
            self.bulleted = True
            return True
        if self.gap:
            return False
        if line[:1].isspace() and self.taken:
            items = self.items[self.section]
            items[-1] = f"{items[-1]} {line.strip()}"  # a wrapped bullet continues its item
            return True
        if self.open and not self.bulleted:
            self.take(line.strip())
            return True
        return False


def split_done_next(text: str) -> DoneNext:
    """Pull "Done:" and "Next:" lines and the lists under them out of a note; the rest stays as written."""
    # Only the part before an internal marker is read, so a staff-only "Done:" never
    # becomes an item; the marker and what follows stay in `rest` for split_internal.
    marker = INTERNAL_MARKER.search(text)
    head, tail = (text, "") if marker is None else (text[: marker.start()], text[marker.start() :])
    sections = _Sections()
    for line in head.split("\n"):
        sections.feed(line)
    sections.close()
    done, upcoming = tuple(sections.items["done"]), tuple(sections.items["next"])
    if not done and not upcoming:
        return DoneNext((), (), text)
    rest = _tidy(sections.rest)
    if tail:
        rest = f"{rest}\n{tail}" if rest else tail
    return DoneNext(done, upcoming, rest)
