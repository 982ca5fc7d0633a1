"""Project stages: a template per trade, and finding the stage a `[Stage]` email names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

STAGE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "renovation": (
        "Survey",
        "Design",
        "Demolition",
        "First fix",
        "Plastering",
        "Second fix",
        "Installation",
        "Decoration",
        "Snagging",
        "Handover",
    ),
    "fabrication": (
        "Design",
        "Approval",
        "Cutting",
        "Welding and assembly",
        "Finishing",
        "Delivery",
        "Installation",
    ),
    "furniture": (
        "Design",
        "Approval",
        "Materials",
        "Making",
        "Finishing",
        "Delivery",
        "Installation",
    ),
}

# A misspelling scores at least this much against its stage; "roofing" against "flooring"
# scores 0.67 and "decoration" against "demolition" 0.70, so 0.8 leaves a margin on both sides.
MATCH_THRESHOLD = 0.8
# Containment ("kitchen installation" is Installation) only for short names: in a sentence
# a stage word is as likely to be an aside as the point.
CONTAINMENT_EXTRA_WORDS = 3
CONTAINMENT_WEIGHT = 0.9
STAGE_NAME_LIMIT = 60

ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third"}
# Trade words fuzzy matching cannot reach, mapped to the word a template uses.
ALIASES = {
    "demo": "demolition",
    "demolish": "demolition",
    "strip out": "demolition",
    "rip out": "demolition",
    "painting": "decoration",
    "fitting": "installation",
    "snag list": "snagging",
    "snagging list": "snagging",
    "hand over": "handover",
    "handed over": "handover",
    "practical completion": "handover",
    "sign off": "approval",
    "signoff": "approval",
    "manufacture": "making",
    "manufacturing": "making",
}
ALIAS_PATTERN = re.compile(r"\b(?:" + "|".join(sorted(ALIASES, key=len, reverse=True)) + r")\b")
# Words around a stage name that say where the work is, not which stage it is.
LEADING_FILLER = frozenset(
    "the now stage phase start starting started begin beginning begun commencing commenced "
    "moving moved move on onto to into of".split()
)
TRAILING_FILLER = frozenset(
    "stage phase started starting begun begins commenced underway under way in progress "
    "complete completed done finished now today works work".split()
)
# Correctly spelled trade words: a different real word is not a typo, so these never match
# by similarity ("Masking" is not "Making", "Roofing" is not "Flooring").
TRADE_WORDS = frozenset(
    "roofing flooring masking tiling glazing cladding wiring plumbing boarding plasterboard "
    "screeding rendering priming sanding spraying varnishing polishing joinery carpentry brickwork "
    "groundworks foundations scaffolding insulation electrics fencing landscaping drilling bending "
    "machining coating galvanising powder upholstery veneering gluing moulding measuring templating "
    "commissioning testing inspection planning ordering cleaning kitchen bathroom welding assembly "
    "cutting finishing delivery making materials approval design survey".split()
)
STEM_SUFFIXES = tuple("ations ation ating ings ing ions ion ies ate als al ed es s y e".split())  # longest first

LEADING_TAGS = re.compile(r"^(?:\[[^\[\]]*\]\s*)+")  # "[Photos] Installation", a tag the parser kept
STAGE_NUMBER = re.compile(r"^\s*(?:stage|phase)\s*#?\d+\b\W*", re.IGNORECASE)
# Dashes and colons end the stage name; a hyphen only with spaces round it ("Second-fix" stays).
TITLE_SEPARATOR = re.compile(r"\s+-+\s+|[–—:|(\[{,;]|\.(?:\s|$)|\s+-+$")
LEADING_WORDS = re.compile(
    r"^(?:(?:the|now|starting|started|start of|beginning|moving on to|moving onto|moving to|moved on to|moved to|"
    r"onto|into)\s+)+",
    re.IGNORECASE,
)
TRAILING_WORDS = re.compile(
    r"(?:\s+(?:stage|phase|started|starting|begun|begins|underway|under way|in progress|complete|completed|"
    r"done|finished|today|now))+$",
    re.IGNORECASE,
)


def _stem(word: str) -> str:
    """Reduce a word to a rough stem so "plaster", "plastering" and "plastered" meet."""
    for suffix in STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "snagg" → "snag", "cutt" → "cut", "install" → "instal"
    return word


TRADE_STEMS = frozenset(_stem(word) for word in TRADE_WORDS)


def _words(text: str) -> list[str]:
    """Split a name into plain lowercase words: no accents, punctuation, ordinals or aliases."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ")
    unnumbered = STAGE_NUMBER.sub(" ", text)
    text = unnumbered if unnumbered.strip() else text  # a stage may be called just "Stage 2"
    words = " ".join(ORDINALS.get(word, word) for word in re.findall(r"[^\W_]+", text))
    return ALIAS_PATTERN.sub(lambda match: ALIASES[match[0]], words).split()


def _trimmed(words: list[str]) -> list[str]:
    """Drop filler words at either end; keep them all if nothing else is left."""
    start, end = 0, len(words)
    while start < end and words[start] in LEADING_FILLER:
        start += 1
    while end > start and words[end - 1] in TRAILING_FILLER:
        end -= 1
    return words[start:end] or words


def _forms(words: list[str]) -> tuple[str, str]:
    """Return a name's stemmed and unstemmed forms, each without "and"."""
    kept = [word for word in words if word != "and"]
    return " ".join(_stem(word) for word in kept), " ".join(kept)


def _similarity(left: tuple[str, str], right: tuple[str, str]) -> float:
    """Score two names 0..1 by their closer form: stems meet "plastring", whole words "decoratoin"."""
    return max(SequenceMatcher(None, a, b).ratio() for a, b in zip(left, right, strict=True))


def _contained(wanted: list[str], stage: list[str]) -> float:
    """Score a stage whose words appear together inside a short longer name; 0 if they do not."""
    if not stage or len(wanted) - len(stage) > CONTAINMENT_EXTRA_WORDS or len(wanted) <= len(stage):
        return 0.0
    best = 0.0
    for start in range(len(wanted) - len(stage) + 1):
        window = wanted[start : start + len(stage)]
        ratios = [SequenceMatcher(None, a, b).ratio() for a, b in zip(window, stage, strict=True)]
        if min(ratios) >= MATCH_THRESHOLD:
            best = max(best, CONTAINMENT_WEIGHT * sum(ratios) / len(ratios))
    return best


def _stage_variants(stage: str) -> list[list[str]]:
    """List the word sequences a stage answers to: its name, its head, and each part of a compound."""
    words = _words(stage)
    head = _words(stage_name_from_title(stage))  # "Second fix (electrics)" answers to "Second fix"
    parts = [part.split() for part in re.split(r"\band\b", " ".join(words))]
    variants = [words] + ([head] if head and head != words else [])
    return variants + [part for part in parts if part and len(parts) > 1]


def _numbers(words: list[str]) -> set[str]:
    return {word for word in words if word.isdigit()}


def _score(wanted: list[str], stage: str, fuzzy: bool) -> float:
    wanted_stems = [_stem(word) for word in wanted if word != "and"]
    best = 0.0
    for variant in _stage_variants(stage):
        if _numbers(wanted) and _numbers(variant) and _numbers(wanted) != _numbers(variant):
            continue  # "Stage 3" is never a misspelt "Stage 2"
        variant_stems = [_stem(word) for word in variant if word != "and"]
        if wanted_stems == variant_stems or "".join(wanted_stems) == "".join(variant_stems):
            return 1.0
        if fuzzy:
            best = max(best, _similarity(_forms(wanted), _forms(variant)))
        best = max(best, _contained(wanted_stems, variant_stems))
    return best


def _is_real_word(words: list[str]) -> bool:
    """Tell whether every word is a correctly spelled trade or filler word."""
    return all(_stem(word) in TRADE_STEMS or word in LEADING_FILLER | TRAILING_FILLER for word in words)


def match_stage(name: str, stages: Sequence[str]) -> str | None:
    """Find the stage a name means, forgiving case, punctuation and spelling; None if none is close."""
    words = _words(name)
    trimmed = _trimmed(words)
    if not trimmed or not stages:
        return None
    scores: dict[str, float] = {}
    for wanted in (trimmed, words):
        fuzzy = not _is_real_word(wanted)
        for stage in stages:
            scores[stage] = max(scores.get(stage, 0.0), _score(wanted, stage, fuzzy))
    best = max(scores.values())
    if best < MATCH_THRESHOLD:
        return None
    winners = [stage for stage in stages if scores[stage] == best]
    # Two different stages equally close ("Design approval") is a guess, not a match.
    if len({tuple(_words(stage)) for stage in winners}) > 1:
        return None
    return winners[0]


def place_stage(new_name: str, stages: Sequence[str], current: str | None) -> tuple[str, ...]:
    """Return the stages with an unknown one inserted after the current stage (or at the end)."""
    name = " ".join(new_name.split())
    if not name or match_stage(name, stages) is not None:
        return tuple(stages)
    if current in stages:
        position = list(stages).index(current) + 1
    else:
        known = match_stage(current, stages) if current else None
        position = list(stages).index(known) + 1 if known else len(stages)
    return (*stages[:position], name, *stages[position:])


def stage_name_from_title(title: str) -> str:
    """Take the stage name from a title: "Installation – Küche" gives "Installation"."""
    text = LEADING_TAGS.sub("", " ".join(title.split()))
    numbered = STAGE_NUMBER.match(text)
    parts = [part.strip(" \"'‘’“”*_.-") for part in TITLE_SEPARATOR.split(text[numbered.end() :] if numbered else text)]
    name = next((part for part in parts if part), "")
    if not name:
        return text.strip(" \"'‘’“”*_.-:–—")[:STAGE_NAME_LIMIT].strip()
    trimmed = TRAILING_WORDS.sub("", LEADING_WORDS.sub("", name)).strip()
    name = trimmed or name
    if len(name) > STAGE_NAME_LIMIT:
        cut = name[: STAGE_NAME_LIMIT + 1]
        name = cut.rsplit(" ", 1)[0] if " " in cut else cut[:STAGE_NAME_LIMIT]
    return name
