"""What a structured update changes on its project: the stage, a key date, a variation's figures."""

from __future__ import annotations

import re
from datetime import date

from feed.delays import parse_new_date
from feed.models import Entry, KeyDate, Project
from feed.stages import STAGE_TEMPLATES, match_stage, place_stage, stage_name_from_title
from feed.variations import parse_variation

# "Worktop delivery moved to 12 Dec": the key date's name is what comes before the verb.
DATE_VERB = re.compile(
    r"\s+(?:(?:is|has been|was|will be|now)\s+)?(?:moved|delayed|pushed|postponed|rescheduled|slipped|brought"
    r"|now|until|to|on)\b.*$",
    re.IGNORECASE,
)


def starting_stages(trade: str) -> tuple[str, ...]:
    return STAGE_TEMPLATES.get(trade, STAGE_TEMPLATES["renovation"])


def apply_kind(project: Project, entry: Entry, *, subject: str, today: date) -> list[str]:
    """Change the project as the entry's kind says; return sentences for the sender about what was assumed."""
    if entry.kind == "stage":
        return move_stage(project, stage_name_from_title(entry.title))
    if entry.kind == "variation" and entry.decision is not None:
        variation = parse_variation(subject, entry.body)
        if variation.cost is not None:
            entry.decision.cost = variation.cost.amount
            entry.decision.currency = variation.cost.currency
        if variation.time is not None:
            entry.decision.days = variation.time.days
        return []
    if entry.kind == "delay":
        return move_key_date(project, entry, today)
    return []


def move_stage(project: Project, name: str) -> list[str]:
    """Make the named stage current, adding it after the current one when the project has no such stage."""
    stages = project.stages or starting_stages(project.trade)
    found = match_stage(name, stages)
    if found is not None:
        project.stages, project.current_stage = stages, found
        return []
    placed = place_stage(name, stages, project.current_stage)
    project.stages = placed
    project.current_stage = match_stage(name, placed) or name
    position = placed.index(project.current_stage) if project.current_stage in placed else 0
    where = f"after “{placed[position - 1]}”" if position > 0 else "as the first stage"
    return [f"“{name}” was not one of the project's stages, so it was added {where}."]


def move_key_date(project: Project, entry: Entry, today: date) -> list[str]:
    """Set the key date a [Delay] names to its new day; tell the sender when no date could be read."""
    new_day = parse_new_date(f"{entry.title}\n{entry.body}", today=today)
    if new_day is None:
        return [f"No new date was found in “{entry.title}”; write it like “moved to 12 Dec”."]
    name = DATE_VERB.sub("", entry.title).strip(" -–:,") or entry.title
    existing = next((k for k in project.key_dates if k.name.casefold() == name.casefold()), None)
    if existing is None:
        project.key_dates.append(KeyDate(name=name, day=new_day, entry_id=entry.id))
    elif existing.day != new_day:
        existing.previous_day, existing.day, existing.entry_id = existing.day, new_day, entry.id
    return []
