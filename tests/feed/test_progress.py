"""Progress notes: internal lines never reach the client; "Done:" and "Next:" lines are pulled out."""

from __future__ import annotations

import random

import pytest

from feed.progress import DoneNext, split_done_next, split_internal

NOTE = "Walls plastered and left to dry.\nBack Monday."


def test_internal_splits_at_a_marker_line():
    assert split_internal(f"{NOTE}\n[internal]\nMargin is thin on this one.") == (NOTE, "Margin is thin on this one.")


@pytest.mark.parametrize(
    "marker",
    [
        "[internal]",
        "[Internal]",
        "[INTERNAL]",
        "[ internal ]",
        "   [internal]   ",
        "--internal--",
        "-- internal --",
        "---Internal---",
        "—internal—",  # a phone's smart punctuation turns "--" into an em dash
        "– internal –",
        "-internal-",
        "[internal only]",
        "[staff only]",
        "--staff only--",
    ],
)
def test_internal_recognises_each_marker(marker):
    assert split_internal(f"{NOTE}\n{marker}\nMargin 20%") == (NOTE, "Margin 20%")


def test_internal_without_a_marker_returns_the_note_untouched():
    text = "  Walls plastered.\n\nBack Monday.  \n"
    assert split_internal(text) == (text, "")


def test_internal_marker_first_leaves_nothing_for_the_client():
    assert split_internal("[internal]\nAll of this is for staff.") == ("", "All of this is for staff.")


def test_internal_marker_last_gives_empty_internal_text():
    assert split_internal(f"{NOTE}\n[internal]\n") == (NOTE, "")


def test_internal_marker_inside_a_line_still_hides_what_follows():
    assert split_internal("Tiles fitted [internal] margin 20%") == ("Tiles fitted", "margin 20%")


def test_internal_marker_at_the_start_of_a_line_with_text_after_it():
    assert split_internal(f"{NOTE}\n[internal] supplier owes us £200") == (NOTE, "supplier owes us £200")


def test_internal_everything_after_the_first_marker_is_internal():
    text = "Client part.\n[internal]\nFirst staff part.\n[internal]\nSecond staff part."
    client, internal = split_internal(text)
    assert client == "Client part."
    assert "First staff part." in internal and "Second staff part." in internal


def test_internal_has_no_closing_marker():
    client, _ = split_internal("Client part.\n[internal]\nStaff part.\n[/internal]\nMore client text?")
    assert client == "Client part."


@pytest.mark.parametrize(
    "text",
    [
        "Internal doors fitted.",
        "The internal walls are boarded.",
        "non-internal-facing panel",
        "See [internal doors] list",
        "internal: walls painted",
    ],
)
def test_internal_ignores_the_word_outside_a_marker(text):
    assert split_internal(text) == (text, "")


MARKERS = ["[internal]", "[ INTERNAL ]", "--internal--", "—internal—", "-- Internal --", "[staff only]"]
# Lines a real note is made of, mixed at random below (seeded: a failure replays the same way).
LINES = [
    "Done: tiles",
    "Next: grout",
    "Done:",
    "- walls",
    "  wrapped",
    "",
    "Plain words.",
    "Coming up – doors",
    "1. one",
]


def random_notes(count: int = 500) -> list[tuple[list[str], str, list[str]]]:
    chooser = random.Random(4)
    return [
        (
            chooser.choices(LINES, k=chooser.randint(0, 8)),
            chooser.choice(MARKERS),
            chooser.choices(LINES, k=chooser.randint(0, 8)),
        )
        for _ in range(count)
    ]


def secret(lines: list[str]) -> list[str]:
    return [line.replace(":", ": SECRET").replace("- ", "- SECRET ") + " SECRET" for line in lines]


def test_internal_never_leaks_what_follows_a_marker():
    for before, marker, after in random_notes():
        shown, hidden = split_internal("\n".join([*before, marker, *secret(after)]))
        assert "SECRET" not in shown
        assert hidden.count("SECRET") == sum(line.count("SECRET") for line in secret(after))


def test_done_next_never_lifts_an_item_from_after_a_marker():
    for before, marker, after in random_notes():
        for marker_line in (marker, f"Done: x {marker}", f"- item {marker}"):
            found = split_done_next("\n".join([*before, marker_line, *secret(after)]))
            assert not any("SECRET" in item for item in found.done + found.next)
            assert "SECRET" not in split_internal(found.rest)[0]


def test_done_and_next_lines_are_pulled_out():
    text = "Walls plastered today.\nDone: first fix electrics\nNext: plastering on Monday\nThanks, Dan"
    assert split_done_next(text) == DoneNext(
        ("first fix electrics",), ("plastering on Monday",), "Walls plastered today.\nThanks, Dan"
    )


@pytest.mark.parametrize(
    ("line", "done", "upcoming"),
    [
        ("DONE: tiling", ("tiling",), ()),
        ("done:tiling", ("tiling",), ()),
        ("Completed: tiling", ("tiling",), ()),
        ("Complete: tiling", ("tiling",), ()),
        ("Finished: tiling", ("tiling",), ()),
        ("Done today: tiling", ("tiling",), ()),
        ("Next up: grouting", (), ("grouting",)),
        ("Up next: grouting", (), ("grouting",)),
        ("Coming up: grouting", (), ("grouting",)),
        ("Next steps: grouting", (), ("grouting",)),
        ("Next week: grouting", (), ("grouting",)),
        ("To do: grouting", (), ("grouting",)),
        ("Tomorrow: grouting", (), ("grouting",)),
        ("Next - grouting", (), ("grouting",)),
        ("Next – grouting", (), ("grouting",)),
        ("**Done:** tiling", ("tiling",), ()),
        ("- Done: tiling", ("tiling",), ()),
        ("   Next:   grouting  ", (), ("grouting",)),
    ],
)
def test_done_and_next_labels_and_their_aliases(line, done, upcoming):
    found = split_done_next(line)
    assert (found.done, found.next, found.rest) == (done, upcoming, "")


@pytest.mark.parametrize(
    "text",
    [
        "Next-door neighbour complained about the noise.",
        "Next week we start tiling.",
        "Done for today, back Monday.",
        "Nothing is done: the supplier let us down.",
        "We are next: the plasterer comes after us.",
        "Done.",
    ],
)
def test_prose_that_starts_like_a_label_stays_in_the_note(text):
    assert split_done_next(text) == DoneNext((), (), text)


def test_a_note_without_labels_is_returned_exactly():
    text = "  Walls plastered.\n\n\nBack Monday.  \n"
    assert split_done_next(text) == DoneNext((), (), text)


def test_bullets_under_a_heading_line_are_items():
    text = "Update below.\n\nDone:\n- Walls plastered\n- Ceiling boarded\n\nNext up:\n* Skirting\n* Doors\n\nAny questions, call me."
    assert split_done_next(text) == DoneNext(
        ("Walls plastered", "Ceiling boarded"), ("Skirting", "Doors"), "Update below.\n\nAny questions, call me."
    )


@pytest.mark.parametrize("bullet", ["-", "*", "•", "–", "1.", "2)", "✓"])
def test_each_bullet_style_is_read(bullet):
    assert split_done_next(f"Done:\n{bullet} Walls plastered").done == ("Walls plastered",)


def test_a_checkbox_after_a_bullet_is_dropped():
    assert split_done_next("Done:\n- [x] Walls plastered").done == ("Walls plastered",)


def test_plain_lines_under_a_heading_are_items_until_a_blank_line():
    found = split_done_next("Done:\nWalls plastered\nCeiling boarded\n\nWeather was bad.")
    assert found == DoneNext(("Walls plastered", "Ceiling boarded"), (), "Weather was bad.")


def test_a_blank_line_between_a_heading_and_its_items_is_allowed():
    assert split_done_next("Done:\n\n- Walls plastered").done == ("Walls plastered",)
    assert split_done_next("Done:\n\nWalls plastered\nCeiling boarded").done == ("Walls plastered", "Ceiling boarded")


def test_bullets_separated_by_blank_lines_stay_in_one_list():
    assert split_done_next("Done:\n- Walls\n\n- Ceiling").done == ("Walls", "Ceiling")


def test_a_plain_line_after_bullets_ends_the_list():
    found = split_done_next("Done:\n- Walls\n- Ceiling\nWeather was bad.")
    assert found == DoneNext(("Walls", "Ceiling"), (), "Weather was bad.")


def test_an_indented_line_continues_the_item_above():
    assert split_done_next("Done:\n- Walls plastered\n  and sanded\n- Ceiling").done == (
        "Walls plastered and sanded",
        "Ceiling",
    )


def test_bullets_continue_an_inline_item():
    assert split_done_next("Done: walls\n- ceiling\n- doors").done == ("walls", "ceiling", "doors")


def test_a_plain_line_after_an_inline_item_stays_in_the_note():
    assert split_done_next("Done: tiling\nThe weather was bad.") == DoneNext(("tiling",), (), "The weather was bad.")


def test_items_from_several_lines_accumulate_in_order():
    found = split_done_next("Done: walls\nNext: skirting\nDone: ceiling\nNext: doors")
    assert (found.done, found.next) == (("walls", "ceiling"), ("skirting", "doors"))


def test_a_bullet_list_without_a_heading_stays_in_the_note():
    text = "Today:\n- walls\n- ceiling"
    assert split_done_next(text) == DoneNext((), (), text)


def test_a_heading_with_nothing_under_it_stays_in_the_note():
    assert split_done_next("Done:\n\nNext: doors") == DoneNext((), ("doors",), "Done:")


def test_the_rest_keeps_one_blank_line_where_lists_were_removed():
    found = split_done_next("Intro.\n\nDone:\n- walls\n\n\nOutro.")
    assert found.rest == "Intro.\n\nOutro."


def test_a_staff_only_done_line_never_becomes_an_item():
    found = split_done_next("Done: tiles\n[internal]\nDone: margin 20%\nNext: chase invoice")
    assert found.done == ("tiles",) and found.next == ()
    assert split_internal(found.rest) == ("", "Done: margin 20%\nNext: chase invoice")


def test_done_next_and_internal_agree_in_either_order():
    text = "Walls up.\nDone: tiles\nNext: grout\n--internal--\nDone: paid supplier\nNext: invoice"
    first = split_done_next(split_internal(text)[0])
    second = split_done_next(text)
    assert (first.done, first.next) == (second.done, second.next) == (("tiles",), ("grout",))
    assert first.rest == split_internal(second.rest)[0] == "Walls up."


def test_an_item_on_the_marker_line_is_cut_at_the_marker():
    found = split_done_next("Done: tiles [internal] cost £90")
    assert found.done == ("tiles",)
    assert "£90" not in found.done[0]
    assert split_internal(found.rest) == ("", "cost £90")


def test_done_next_values_are_frozen_tuples():
    found = split_done_next("Done: a\nNext: b")
    assert isinstance(found.done, tuple) and isinstance(found.next, tuple)
    with pytest.raises(AttributeError):
        found.rest = ""  # type: ignore[misc]


def test_windows_line_endings_are_read_too():
    found = split_done_next("Intro.\r\nDone:\r\n- walls\r\n- ceiling\r\n\r\nOutro.")
    assert found.done == ("walls", "ceiling")
    assert split_internal("Client.\r\n[internal]\r\nStaff.") == ("Client.", "Staff.")
