"""Variations: the cost change and the time change a `[Variation]` email states."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from feed.progress import split_internal

CENT = Decimal("0.01")
SYMBOLS = {
    "£": "GBP", "€": "EUR", "$": "USD",
    "us$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD", "nz$": "NZD",
}  # fmt: skip
# "CAD" is left out: on a building site it is the drawings, not Canadian dollars (C$ works).
CODES = ("GBP", "EUR", "USD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK")
CURRENCY_WORDS = {
    "pound": "GBP", "pounds": "GBP", "quid": "GBP", "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD",
}  # fmt: skip
# Countries that group thousands with a space; "£150 100mm" is £150 followed by a size.
SPACE_GROUPING = frozenset({"EUR", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK"})
CREDIT_WORDS = r"minus|credit|refund|saving|discount|deduction|deduct"


def _number(name: str) -> str:
    """Build the pattern of an amount: "1,250.50", "1.200,00", "1 200", "99,5"; groups named by `name`."""
    group = rf"(?P<{name}_group>[.,'\u00a0\u202f\u2009 ])"
    return (
        rf"(?P<{name}_int>[0-9]{{1,3}}{group}[0-9]{{3}}(?:(?P={name}_group)[0-9]{{3}})*|[0-9]+)"
        rf"(?:(?P<{name}_point>[.,])(?P<{name}_dec>[0-9]{{1,2}}))?"
        rf"(?![0-9]|[.,][0-9])(?P<{name}_k>k(?![a-z]))?"
    )


# "+" and "−" may have a space after them; "-" must touch the amount, because " - " in
# "Extra socket - £180" is a separator, and must not follow a word ("socket-£180").
SIGN = r"(?:\+\s?|\u2212\s?|(?<![\w.,])-(?=\S))"
# "A$" and friends only at the start of a word: "extra$50" is US dollars, not "a$50".
SYMBOL = "(?<![a-z])(?:" + "|".join(re.escape(symbol) for symbol in SYMBOLS if len(symbol) > 1) + ")|[£€$]"
PREFIXED = re.compile(
    rf"(?:(?P<credit>\b(?:{CREDIT_WORDS})\b(?:\s+of)?\s*[:\-–]?\s*))?(?P<sign>{SIGN})?"
    rf"(?P<currency>{SYMBOL}|\b(?:{'|'.join(CODES)})(?![a-z]))\s?(?P<sign2>[-+\u2212])?\s?{_number('a')}",
    re.IGNORECASE,
)
POSTFIXED = re.compile(
    rf"(?:(?P<credit>\b(?:{CREDIT_WORDS})\b(?:\s+of)?\s*[:\-–]?\s*))?(?P<sign>{SIGN})?(?<![0-9.,]){_number('b')}"
    rf"\s?(?P<currency>[£€$]|\b(?:{'|'.join(CODES)}|{'|'.join(CURRENCY_WORDS)})\b)(?!\s?[0-9])",
    re.IGNORECASE,
)

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
    "a couple of": 2, "couple of": 2, "a": 1, "an": 1,
}  # fmt: skip
_COUNT_WORDS = "|".join(word for word in NUMBER_WORDS if " " not in word and len(word) > 2)
COUNT = rf"(?:(?<![0-9.,])[0-9]{{1,3}}(?![0-9.,])|{_COUNT_WORDS}|(?:a\s+)?couple\s+of)"
# A range ("+2-3 days") counts its upper end: the client should plan for the longer one.
COUNTS = rf"(?P<n>{COUNT})(?:\s*(?:-|–|to)\s*(?P<n2>{COUNT}))?"
COUNT_OR_ARTICLE = rf"(?P<n>{COUNT}|an?)(?:\s*(?:-|–|to)\s*(?P<n2>{COUNT}))?"
UNIT = r"(?:(?P<working>working|work|business)[\s-]+)?(?P<unit>days?|weeks?|wks?)\b"
MORE = r"extra|more|additional|further"
LATER = r"extra|more|longer|later|late|behind|added|delay|overrun"
SOONER = r"less|fewer|shorter|earlier|sooner|quicker|faster|ahead|saved"
PROGRAMME = (
    r"(?:the\s+)?(?:programme|program|schedule|timeline|timescales?|time|completion(?:\s+date)?|end\s+date"
    r"|handover(?:\s+date)?|dates?)"
)

TIME_PATTERNS = (
    # "+2 days", "-3 days", "plus one week", "+1 working day"
    re.compile(
        rf"(?P<sign>\+|\u2212|(?<![\w.,-])-(?=[0-9])|\bplus\b|\bminus\b)\s*{COUNTS}[\s-]*(?:(?:{MORE})\s+)?{UNIT}",
        re.IGNORECASE,
    ),
    # "extra 2 days", "adds a week", "extends the programme by a week", "another day"
    re.compile(
        r"\b(?P<word>extra|additional|further|another|adds?|added|adding|"
        r"(?:extends?|extending|extended|pushes|pushed|pushing|sets?|delays?|delayed)(?:\s+\w+){0,3}?\s+(?:back\s+)?by|"
        r"extension\s+of|delay\s+of|pushes\s+back|pushed\s+back)"
        rf"\s+(?:(?:an?|another)\s+)?(?:(?:{MORE})\s+)?(?:{COUNTS}[\s-]*)?{UNIT}",
        re.IGNORECASE,
    ),
    # "2 extra days", "an extra day", "a week longer", "3 days less", "2-day delay"
    re.compile(
        rf"\b{COUNT_OR_ARTICLE}[\s-]*(?:(?P<more>{MORE})\s+)?{UNIT}(?:\s+(?P<after>{LATER}|{SOONER})\b)?",
        re.IGNORECASE,
    ),
    # "saves two days", "shortens the programme by a week"
    re.compile(
        r"\b(?P<saving>saves?|saving|saved|cuts?|(?:reduces?|reduced|shortens?|shortened|brings?|brought)"
        r"(?:\s+\w+){0,3}?\s+(?:forward\s+)?by)"
        rf"\s+(?:an?\s+)?(?:{COUNTS}[\s-]*)?{UNIT}",
        re.IGNORECASE,
    ),
    # "no change to the programme", "won't affect the programme", "no delay"
    re.compile(
        rf"\bno\s+(?:change|changes|impact|effect)\s+(?:to|on)\s+{PROGRAMME}\b|\bno\s+(?:extra|additional|added)\s+time\b"
        r"|\bno\s+(?:time|programme|program|schedule)\s+(?:change|impact|effect)\b|\bno\s+delay\b"
        r"|\b(?:won['’]?t|will\s+not|doesn['’]?t|does\s+not|shouldn['’]?t|should\s+not)\s+"
        rf"(?:affect|change|impact|delay)\s+{PROGRAMME}\b",
        re.IGNORECASE,
    ),
)


@dataclass(frozen=True)
class Money:
    """An amount of money; positive is extra cost to the client, negative a credit."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class TimeChange:
    """A change to the programme in days (signed); `working` when counted in working days."""

    days: int
    working: bool = False


@dataclass(frozen=True)
class Variation:
    """What a variation changes: its cost and its time, each None when not stated."""

    cost: Money | None
    time: TimeChange | None


def _amount(match: re.Match[str], name: str, currency: str) -> Decimal | None:
    """Read the matched number as a Decimal; None when its separators contradict each other."""
    whole, group = match[f"{name}_int"], match[f"{name}_group"]
    point, decimals, thousands = match[f"{name}_point"], match[f"{name}_dec"], match[f"{name}_k"]
    if group and point == group:
        return None  # "1,250,00": neither reading is safe
    if group == " " and currency not in SPACE_GROUPING:
        # Not a grouped number but two: the one next to the currency is the amount.
        prefixed = name == "a"
        whole = whole.split(" ")[0 if prefixed else -1]
        group, decimals, thousands = None, None if prefixed else decimals, None if prefixed else thousands
    amount = Decimal(whole.replace(group, "") if group else whole)
    if decimals:
        amount += Decimal(decimals) / 10 ** len(decimals)
    if thousands:
        amount *= 1000
    return amount.quantize(CENT)


def _money(match: re.Match[str], name: str) -> Money | None:
    found = match["currency"].casefold()
    currency = SYMBOLS.get(found) or CURRENCY_WORDS.get(found) or found.upper()
    amount = _amount(match, name, currency)
    if amount is None:
        return None
    signs = (match["sign"] or "").strip() + (match.groupdict().get("sign2") or "")
    # An explicit sign wins; otherwise "credit £250" and "minus £250" are credits.
    negative = any(sign in signs for sign in "-\u2212") if signs else bool(match["credit"])
    return Money(-amount if negative else amount, currency)


def parse_money(text: str) -> Money | None:
    """Find the first amount of money in a text ("+£180", "€1.200,00", "+ 250 GBP"); None if none."""
    found = [(m, "a") for m in PREFIXED.finditer(text)] + [(m, "b") for m in POSTFIXED.finditer(text)]
    for match, name in sorted(found, key=lambda item: item[0].start()):
        money = _money(match, name)
        if money is not None:
            return money
    return None


def _count(text: str | None) -> int:
    words = " ".join((text or "").casefold().split())
    return int(words) if words.isdigit() else NUMBER_WORDS.get(words, 1)


def _time_change(match: re.Match[str]) -> TimeChange:
    groups = match.groupdict()
    count = max(_count(groups.get("n")), _count(groups.get("n2")) if groups.get("n2") else 0)
    working = bool(groups.get("working"))
    week = 5 if working else 7  # a working week is five working days
    days = count * (week if groups["unit"].casefold().startswith("w") else 1)
    sign = (groups.get("sign") or "").casefold()
    negative = sign in ("-", "\u2212", "minus") or bool(groups.get("saving"))
    after = (groups.get("after") or "").casefold()
    negative = negative or after in SOONER.split("|")
    return TimeChange(-days if negative else days, working)


def _is_time_change(match: re.Match[str]) -> bool:
    """Tell whether a match says the time changes, not only how long something takes."""
    groups = match.groupdict()
    if "unit" not in groups:
        return True  # "no change to the programme"
    if groups.get("n") is None and groups["unit"].casefold() in ("days", "weeks", "wks"):
        return False  # "extra days" with no number says more time, not how much
    if "more" in groups and not (groups.get("more") or groups.get("after")):
        return False  # "2 days" alone: how long, not a change
    return True


def parse_time_change(text: str) -> TimeChange | None:
    """Find the first change to the programme ("+2 days", "plus one week"); None if none is stated.

    An explicit "no change to the programme" gives TimeChange(0): the client is told there is
    no effect on time, which is different from the email not saying.
    """
    found = [match for pattern in TIME_PATTERNS for match in pattern.finditer(text) if _is_time_change(match)]
    if not found:
        return None
    first = min(found, key=lambda match: (match.start(), -match.end()))
    if "unit" not in first.groupdict():
        return TimeChange(0)
    return _time_change(first)


def parse_variation(subject: str, body: str) -> Variation:
    """Read a variation's cost and time change, from the subject first, then the client's part of the body."""
    # Staff-only lines (a margin, our own cost) must never become the figure a client approves.
    client_body, _ = split_internal(body)
    cost = parse_money(subject)
    if cost is None:
        cost = parse_money(client_body)
    time = parse_time_change(subject)
    if time is None:
        time = parse_time_change(client_body)
    return Variation(cost, time)
