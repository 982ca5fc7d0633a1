"""The note: quotes and signatures removed but kept for staff, the sender's words never lost, forwards kept."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from feed.notes import clean_note
from feed.parsing import ParsedEmail, is_forward, parse_email


def parse(text: str, subject: str = "Site update") -> ParsedEmail:
    msg = EmailMessage()
    msg["From"] = "Dan Mercer <dan.mercer@buildco.example>"
    msg["To"] = "holloway-kitchen@updates.example.com"
    msg["Subject"] = subject
    msg.set_content(text)
    return parse_email(msg.as_bytes())


# -- replies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "On Tue, 25 Nov 2025 at 09:12, Jane Holloway\n<jane.holloway@mailbox.example> wrote:",
        "On Tue, 25 Nov 2025 at 09:12, Jane Holloway <jane.holloway@mailbox.example>\nwrote:",
        "On 25 Nov 2025, at 09:12, Jane Holloway <jane@mailbox.example> wrote:",
    ],
    ids=["wrapped before the address", "wrapped before wrote", "apple mail"],
)
def test_reply_attribution_and_quote_are_removed_but_kept(attribution):
    parsed = parse(f"Slab poured today.\n\n{attribution}\n\n> When is the pour?\n")

    assert parsed.text == "Slab poured today."
    assert parsed.quoted.startswith("On ") and parsed.quoted.endswith("> When is the pour?")


@pytest.mark.parametrize(
    "note",
    [
        "On Monday the scaffold comes down.\nOn Tuesday the painters start.",
        "Roof is on.\n\nOn the north side the flashing\nstill needs sealing, as Jane wrote:\nthanks for spotting it.",
        "On reflection we should move the socket.\nThe electrician wrote:\n- two circuits on the island",
    ],
    ids=["paragraphs starting with On", "On paragraph ending in wrote:", "wrote: mid-note"],
)
def test_a_paragraph_that_starts_with_on_is_kept(note):
    parsed = parse(note)

    assert (parsed.text, parsed.quoted) == (note, "")


def test_outlook_header_block_without_a_rule_is_removed():
    text = (
        "Tiles ordered, arriving Thursday.\n\nFrom: Jane Holloway <jane.holloway@mailbox.example>\n"
        "Sent: Tuesday, 25 November 2025 09:12\nTo: Dan Mercer <dan.mercer@buildco.example>\nSubject: Tiles\n\nSage please.\n"
    )

    parsed = parse(text)

    assert parsed.text == "Tiles ordered, arriving Thursday."
    assert parsed.quoted.startswith("From: Jane Holloway") and parsed.quoted.endswith("Sage please.")


def test_original_message_separator_starts_the_quote():
    parsed = parse("Skip swapped.\n\n-----Original Message-----\nFrom: Jane\nSent: today\n\nCan you swap it?\n")

    assert (parsed.text, parsed.quoted.splitlines()[0]) == ("Skip swapped.", "-----Original Message-----")


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Get Outlook for Android",
        "Von meinem iPhone gesendet",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
    ],
)
def test_phone_signatures_are_removed(signature):
    assert parse(f"Boiler fitted.\n\n{signature}\n").text == "Boiler fitted."


def test_dash_dash_signature_is_removed():
    assert parse("Boiler fitted.\n\n-- \nDan Mercer\nSite Manager\n07700 900123\n").text == "Boiler fitted."


def test_note_that_is_only_a_quote_keeps_nothing_but_the_quote_is_kept():
    parsed = parse("On Tue, 25 Nov 2025 at 09:12, Jane <jane@mailbox.example> wrote:\n> Any news?\n")

    assert parsed.text == ""
    assert parsed.quoted.endswith("> Any news?")


# -- forwards ------------------------------------------------------------------------------

GMAIL_FORWARD = (
    "See below from the supplier.\n\n-- \nDan Mercer\nSite Manager\n\n"
    "---------- Forwarded message ---------\nFrom: Stone Co <orders@stone.example>\n"
    "Date: Mon, 24 Nov 2025 at 10:00\nSubject: Delivery\nTo: Dan <dan.mercer@buildco.example>\n\n"
    "Worktops ship Friday, fitting Monday.\n\nStone Co\n\nOn Sun, 23 Nov 2025 at 18:00, Dan <dan.mercer@buildco.example> wrote:\n"
    "> When do the worktops ship?\n"
)


@pytest.mark.parametrize("subject", ["Fwd: Delivery", "Fw: Delivery", "WG: Lieferung", "FW: [Delay] Delivery"])
def test_a_forward_keeps_the_forwarded_message_in_the_note(subject):
    parsed = parse(GMAIL_FORWARD, subject)

    assert parsed.text.startswith(
        "See below from the supplier.\n\n---------- Forwarded message ---------\nFrom: Stone Co"
    )
    assert "Worktops ship Friday, fitting Monday.\n\nStone Co" in parsed.text
    assert "Site Manager" not in parsed.text  # the forwarder's own signature still goes
    assert "When do the worktops ship?" not in parsed.text
    assert parsed.quoted.startswith("On Sun, 23 Nov 2025")


def test_a_reply_that_quotes_a_forward_keeps_only_the_reply():
    parsed = parse(GMAIL_FORWARD, "Re: Fwd: Delivery")

    assert parsed.text == "See below from the supplier."
    assert "Worktops ship Friday" in parsed.quoted


def test_an_outlook_forward_keeps_its_header_block_and_message():
    text = (
        "FYI, the new date.\n\n________________________________\nFrom: Stone Co <orders@stone.example>\n"
        "Sent: Monday, 24 November 2025 10:00\nTo: Dan Mercer\nSubject: Delivery\n\nWorktops ship Friday.\n"
    )

    parsed = parse(text, "FW: Delivery")

    assert parsed.text == (
        "FYI, the new date.\n\nFrom: Stone Co <orders@stone.example>\nSent: Monday, 24 November 2025 10:00\n"
        "To: Dan Mercer\nSubject: Delivery\n\nWorktops ship Friday."
    )
    assert parsed.quoted == ""


def test_a_forward_with_nothing_added_is_the_forwarded_message():
    text = "---------- Forwarded message ---------\nFrom: Stone Co <orders@stone.example>\nSubject: Delivery\n\nShips Friday.\n"

    assert parse(text, "Fwd: Delivery").text == text.strip()


@pytest.mark.parametrize(
    ("subject", "forward"),
    [
        ("Fwd: x", True),
        ("FW: x", True),
        ("WG: x", True),
        ("[Delay] Fwd: x", True),
        ("Re: Fwd: x", False),
        ("x", False),
        ("Forward planning", False),
    ],
)
def test_forward_is_told_by_the_first_prefix(subject, forward):
    assert is_forward(subject) is forward


# -- bodies --------------------------------------------------------------------------------


def test_plain_and_html_parts_in_order_are_joined_once():
    bodies = [("plain", "Floor down."), ("html", "<p>Skirting <b>tomorrow</b>.</p>")]

    assert clean_note(bodies) == ("Floor down.\n\nSkirting tomorrow.", "")


def test_image_markers_left_by_plain_text_alternatives_are_removed():
    text = "Worktop templated. [image: IMG_7781.jpg]\n[cid:image001.png@01DA3F2B.5C1E8A40]\nDan"

    assert clean_note([("plain", text)]) == ("Worktop templated.\n\nDan", "")
