"""Delays: the new date in a delay note, rolled forward from the day it was sent."""

from __future__ import annotations

from datetime import date

import pytest

from feed.delays import parse_new_date

MONDAY = date(2025, 11, 24)


def new_date(text: str, today: date = MONDAY, **options) -> date | None:
    return parse_new_date(text, today=today, **options)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Worktop delivery moved to 12 Dec", date(2025, 12, 12)),
        ("now 2025-12-12", date(2025, 12, 12)),
        ("until Friday 12 December", date(2025, 12, 12)),
        ("pushed back to 3/1", date(2026, 1, 3)),
        ("next Tuesday", date(2025, 11, 25)),
    ],
)
def test_new_date_from_the_brief_examples(text, expected):
    assert new_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Dec", date(2025, 12, 12)),
        ("12th December", date(2025, 12, 12)),
        ("12th of Dec", date(2025, 12, 12)),
        ("12 Dec.", date(2025, 12, 12)),
        ("Dec 12", date(2025, 12, 12)),
        ("December 12th", date(2025, 12, 12)),
        ("Fri 12 Dec", date(2025, 12, 12)),
        ("Friday, 12 December", date(2025, 12, 12)),
        ("w/c 15 Dec", date(2025, 12, 15)),
        ("12 Sept", date(2026, 9, 12)),
    ],
)
def test_new_date_reads_day_and_month_names(text, expected):
    assert new_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Dec 2026", date(2026, 12, 12)),
        ("12 December, 2026", date(2026, 12, 12)),
        ("12-Dec-2026", date(2026, 12, 12)),
        ("Dec 12, 2026", date(2026, 12, 12)),
        ("2026-01-09", date(2026, 1, 9)),
        ("2026/01/09", date(2026, 1, 9)),
        ("09/01/2026", date(2026, 1, 9)),
        ("9.1.2026", date(2026, 1, 9)),
        ("09-01-26", date(2026, 1, 9)),
    ],
)
def test_new_date_keeps_a_written_year(text, expected):
    assert new_date(text) == expected


def test_new_date_keeps_a_written_year_even_in_the_past():
    assert new_date("moved to 12 Dec 2024") == date(2024, 12, 12)


def test_new_date_without_a_year_is_the_next_one_on_or_after_today():
    assert new_date("moved to 12 Dec", today=date(2025, 12, 12)) == date(2025, 12, 12)
    assert new_date("moved to 12 Dec", today=date(2025, 12, 13)) == date(2026, 12, 12)


def test_new_date_written_in_late_december_for_early_january_rolls_to_next_year():
    assert new_date("moved to 12 Jan", today=date(2025, 12, 28)) == date(2026, 1, 12)
    assert new_date("pushed back to 3/1", today=date(2025, 12, 20)) == date(2026, 1, 3)


def test_new_date_on_29_february_finds_the_next_leap_year():
    assert new_date("moved to 29 Feb", today=date(2025, 3, 1)) == date(2028, 2, 29)


@pytest.mark.parametrize("text", ["moved to 31 Feb", "moved to 31/11", "moved to 2025-13-01", "moved to 32 Dec"])
def test_new_date_refuses_an_impossible_date(text):
    assert new_date(text) is None


def test_new_date_reads_numbers_day_first_by_default():
    assert new_date("pushed to 3/1") == date(2026, 1, 3)
    assert new_date("pushed to 03/01/2026") == date(2026, 1, 3)


def test_new_date_reads_numbers_month_first_when_asked():
    assert new_date("pushed to 3/1", dayfirst=False) == date(2026, 3, 1)
    assert new_date("pushed to 03/01/2026", dayfirst=False) == date(2026, 3, 1)


def test_new_date_uses_the_only_possible_reading_of_numbers():
    assert new_date("pushed to 12/25") == date(2025, 12, 25)
    assert new_date("pushed to 25/12", dayfirst=False) == date(2025, 12, 25)


def test_new_date_iso_is_never_swapped():
    assert new_date("now 2026-01-03", dayfirst=False) == date(2026, 1, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("moved to Friday", date(2025, 11, 28)),
        ("next Friday", date(2025, 11, 28)),
        ("this Friday", date(2025, 11, 28)),
        ("on Monday", date(2025, 12, 1)),  # today is Monday: the next one, not today
        ("SUNDAY", date(2025, 11, 30)),
    ],
)
def test_new_date_reads_a_weekday_as_the_next_one_after_today(text, expected):
    assert new_date(text) == expected


def test_new_date_reads_tomorrow():
    assert new_date("now tomorrow") == date(2025, 11, 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("moved to the 12th", date(2025, 12, 12)),
        ("moved to the 30th", date(2025, 11, 30)),
        ("moved to the 3rd", date(2025, 12, 3)),
        ("Friday the 28th", date(2025, 11, 28)),
        ("Mon 15th", date(2025, 12, 15)),
        ("expected 15th", date(2025, 12, 15)),
    ],
)
def test_new_date_reads_a_day_of_the_month_alone(text, expected):
    assert new_date(text) == expected


def test_new_date_skips_a_31st_to_a_month_that_has_one():
    assert new_date("moved to the 31st", today=date(2025, 11, 24)) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("moved from 5 Dec to 12 Dec", date(2025, 12, 12)),
        ("Was 5 Dec, now 12 Dec", date(2025, 12, 12)),
        ("Now 12 Dec instead of 5 Dec", date(2025, 12, 12)),
        ("was moved to 12 Dec", date(2025, 12, 12)),
        ("not until 14 Jan", date(2026, 1, 14)),
        ("originally due on 5 Dec, now 12 Dec", date(2025, 12, 12)),
        ("Previously 2025-12-05. New date 2025-12-12", date(2025, 12, 12)),
    ],
)
def test_new_date_skips_the_old_date(text, expected):
    assert new_date(text) == expected


def test_new_date_is_none_when_only_the_old_date_is_given():
    assert new_date("Originally due on 5 Dec; new date to follow") is None
    assert new_date("Delivery was 5 Dec but the supplier has let us down") is None
    assert new_date("Delivery was due Friday 5 Dec but the supplier has let us down") is None


def test_new_date_reads_cues_only_in_the_same_sentence():
    assert new_date("The supplier was late again. Delivery 12 Dec") == date(2025, 12, 12)


def test_new_date_prefers_the_date_the_note_marks_as_new():
    assert new_date("Supplier calls tomorrow; delivery moved to 12 Dec") == date(2025, 12, 12)
    assert new_date("Moved to Tuesday as the 12 Dec slot was full") == date(2025, 11, 25)


def test_new_date_prefers_a_written_date_to_a_weekday():
    assert new_date("Supplier rings on Friday. Worktop delivery 12 Dec") == date(2025, 12, 12)


def test_new_date_takes_the_first_of_equal_dates():
    assert new_date("Delivery 12 Dec, fitting 15 Dec") == date(2025, 12, 12)


def test_new_date_reads_a_multiline_note():
    note = "The fabricator's CNC is down.\n\nWorktop delivery is now Friday 12 December.\nSorry for the wait."
    assert new_date(note) == date(2025, 12, 12)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Worktop delivery delayed, new date to follow",
        "next week",
        "in March 2026",
        "3/4 of the worktops arrived",
        "1/2 day lost",
        "delivery 12.5 mm short",
        "Call 07700 900123",
        "Extra £1,200",
        "+2 days",
        "at 10:30",
        "The van sat outside",
        "we wed the panels with glue",
        "the 3 may be late",
        "2x doors",
        "600-600-18 board",
        "the 2nd coat went on",
        "3rd visit this week",
        "The van sat 15 minutes outside",
    ],
)
def test_new_date_finds_nothing_that_is_not_a_date(text):
    assert new_date(text) is None


def test_new_date_reads_a_short_number_date_only_after_a_cue():
    assert new_date("3/4 of the worktops arrived, rest now 5/12") == date(2025, 12, 5)


def test_new_date_reads_a_short_number_date_after_a_weak_cue():
    assert new_date("delivery on 5/12") == date(2025, 12, 5)


def test_new_date_reads_rescheduling_words_as_marking_the_new_date():
    assert new_date("Delivery 5 Dec was cancelled and rescheduled for Friday") == date(2025, 11, 28)


def test_new_date_reads_an_eta():
    assert new_date("ETA 12/12") == date(2025, 12, 12)


def test_new_date_reads_capitalised_may_as_the_month():
    assert new_date("moved to 12 May") == date(2026, 5, 12)
    assert new_date("moved to May 12") == date(2026, 5, 12)


def test_new_date_does_not_read_a_time_as_a_year():
    assert new_date("moved to 12 Dec 10:00") == date(2025, 12, 12)


def test_new_date_needs_today_as_a_keyword():
    with pytest.raises(TypeError):
        parse_new_date("12 Dec", MONDAY)  # type: ignore[misc]
