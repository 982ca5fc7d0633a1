"""Delays: the new date a `[Delay]` email gives ("moved to 12 Dec", "now 2025-12-12")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far ahead a date without a year may roll: far enough for any 29 February.
YEARS_AHEAD = 8

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
# An abbreviated weekday only as part of a date: alone, "sat" and "wed" are ordinary words.
_DATE_WEEKDAY = rf"(?:(?:{_WEEKDAY})\.?,?\s+(?:the\s+)?)?"
_YEAR = r"(?:(?:,?\s+|-)(?P<year>(?:19|20)[0-9]{2}))?(?![0-9])"
_DAY = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
_MONTH_NAME = rf"(?P<month>{_MONTH})\b\.?"
_EDGE = r"(?<![0-9/.:£$€,-])"
_D = r"[0-9]{1,2}"

DATE_PATTERNS = (
    # 2025-12-12
    ("iso", re.compile(rf"{_EDGE}(?P<year>[0-9]{{4}})([-/.])(?P<month>[0-9]{{1,2}})\2(?P<day>[0-9]{{1,2}})(?![0-9])")),
    # 12/12/2025, 12.12.25, 3-1-2026
    ("numeric", re.compile(rf"{_EDGE}(?P<a>{_D})([/.-])(?P<b>{_D})\2(?P<year>[0-9]{{4}}|[0-9]{{2}})(?![0-9])")),
    # 3/1 (slash only: "12.5" is a measurement)
    ("short", re.compile(rf"{_EDGE}(?P<a>{_D})/(?P<b>{_D})(?![0-9]|/|\.[0-9])")),
    # Friday 12 December 2025, 12th of Dec, 12-Dec-2025
    ("day month", re.compile(rf"\b{_DATE_WEEKDAY}{_DAY}(?:\s+of)?[\s-]*{_MONTH_NAME}{_YEAR}", re.IGNORECASE)),
    # Dec 12, December 12th, 2025
    ("month day", re.compile(rf"\b{_DATE_WEEKDAY}{_MONTH_NAME}\s+(?:the\s+)?{_DAY}\b{_YEAR}", re.IGNORECASE)),
    # Friday the 12th, Mon 15th
    ("ordinal", re.compile(rf"\b(?:{_WEEKDAY})\.?,?\s+(?:the\s+)?(?P<day>{_D})(?:st|nd|rd|th)\b", re.IGNORECASE)),
    # the 12th, 15th (only after a cue: "the 2nd coat went on" is not a date)
    ("bare ordinal", re.compile(rf"\b(?:the\s+)?(?P<day>{_D})(?:st|nd|rd|th)\b", re.IGNORECASE)),
    # Tuesday, next Tuesday
    ("weekday", re.compile(rf"\b(?P<weekday>{'|'.join(FULL_WEEKDAYS)})\b", re.IGNORECASE)),
    ("tomorrow", re.compile(r"\btomorrow\b", re.IGNORECASE)),
)
EXPLICIT = frozenset({"iso", "numeric", "short", "day month", "month day"})

# Words just before a date that say whether it is the new date or the old one.
OLD_CUES = frozenset({"from", "was", "were", "originally", "previously", "instead", "rather", "not"})
NEW_CUES = frozenset({"to", "till", "til", "until", "now", "new", "moved", "pushed", "rescheduled", "delayed"})
# "on Friday" and "due 12 Dec" may be the new date, but as often something else in the note.
WEAK_CUES = frozenset({"for", "on", "by", "due", "eta", "expected", "arriving", "arrives"})
# Readings too loose to stand without a cue word before them.
NEEDS_CUE = frozenset({"short", "bare ordinal"})
CUE_WORDS = 6
CLAUSE_END = re.compile(r"[.;!?\n]|,\s")


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    kind: str
    when: date


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _on_or_after(today: date, month: int, day: int) -> date | None:
    """Return the first such day and month on or after today (12 Dec written on 28 Dec is next year's)."""
    for year in range(today.year, today.year + YEARS_AHEAD + 1):
        found = _valid(year, month, day)
        if found and found >= today:
            return found
    return None


def _next_day_of_month(today: date, day: int) -> date | None:
    """Return the first date on or after today that falls on this day of a month."""
    year, month = today.year, today.month
    for _ in range(12):
        found = _valid(year, month, day)
        if found and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _day_month(match: re.Match[str], dayfirst: bool) -> tuple[int, int] | None:
    """Read "a/b" as (day, month), the preferred way round first; None if neither is a date."""
    a, b = int(match["a"]), int(match["b"])
    for day, month in ((a, b), (b, a)) if dayfirst else ((b, a), (a, b)):
        if 1 <= month <= 12 and 1 <= day <= 31:
            return day, month
    return None


def _resolve(kind: str, match: re.Match[str], today: date, dayfirst: bool) -> date | None:
    """Turn one match into a date, rolling a date without a year forward from today."""
    if kind == "weekday":
        ahead = (WEEKDAYS[match["weekday"].casefold()] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)  # "Tuesday" on a Tuesday is next week's
    if kind == "tomorrow":
        return today + timedelta(days=1)
    if kind in ("ordinal", "bare ordinal"):
        return _next_day_of_month(today, int(match["day"]))
    if kind in ("numeric", "short"):
        found = _day_month(match, dayfirst)
        if found is None:
            return None
        day, month = found
    elif kind == "iso":
        day, month = int(match["day"]), int(match["month"])
    elif match["month"] == "may":
        return None  # lowercase "may" is the verb: "the 3 may be late"
    else:
        day, month = int(match["day"]), MONTHS[match["month"].casefold()]
    year = _year(match.groupdict().get("year"))
    return _valid(year, month, day) if year else _on_or_after(today, month, day)


def _cue(text: str) -> str:
    """Tell from the words before a date whether it is the "new" date, an "old" one, "weak"ly marked or not ("")."""
    clause = CLAUSE_END.split(text)[-1]
    words = re.findall(r"[a-z]+", clause.casefold())[-CUE_WORDS:]

    def last(cues: frozenset[str]) -> int:
        return max((i for i, word in enumerate(words) if word in cues), default=-1)

    old, new, weak = last(OLD_CUES), last(NEW_CUES), last(WEAK_CUES)
    # "was moved to 12 Dec" is new ("to" comes after "was"); "originally due on 5 Dec" is old.
    if old > new:
        return "old"
    if new >= 0:
        return "new"
    return "weak" if weak >= 0 else ""


def _candidates(text: str, today: date, dayfirst: bool) -> list[_Found]:
    """List every date in the text, earliest first, a longer reading winning where two overlap."""
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, pattern in DATE_PATTERNS:
        found.extend((match.start(), match.end(), kind, match) for match in pattern.finditer(text))
    kept: list[_Found] = []
    for start, end, kind, match in sorted(found, key=lambda item: (item[0], -item[1])):
        if kept and start < kept[-1].end:
            continue
        when = _resolve(kind, match, today, dayfirst)
        if when is not None:
            kept.append(_Found(start, end, kind, when))
    return kept


def parse_new_date(text: str, *, today: date, dayfirst: bool = True) -> date | None:
    """Find the new date a delay note gives; None when it gives none.

    `today` is the day the email was sent, in the project's time zone. A date without a year
    is the next one on or after today; "3/1" is 3 January unless `dayfirst` is False.
    """
    best: tuple[int, int, int] | None = None
    chosen: date | None = None
    previous_end = 0
    for found in _candidates(text, today, dayfirst):
        cue = _cue(text[previous_end : found.start])
        previous_end = found.end
        if cue == "old" or (found.kind in NEEDS_CUE and not cue):
            continue  # "from 5 Dec"; "3/4 of the worktops" is a date only after a cue ("to 3/4")
        # A date the note marks as new beats an unmarked one; a written date beats "Friday".
        rank = (cue != "new", found.kind not in EXPLICIT, found.start)
        if best is None or rank < best:
            best, chosen = rank, found.when
    return chosen
