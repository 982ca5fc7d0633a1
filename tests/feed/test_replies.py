"""Reply addresses and the client's answer on the first line."""

from __future__ import annotations

import pytest

from feed.replies import APPROVED, DECLINED, read_answer, reply_address, reply_key_of

DOMAIN = "updates.example.com"


def test_reply_address_carries_the_key_exactly():
    address = reply_address("Ab-_9xY", DOMAIN)
    assert address == "reply+Ab-_9xY@updates.example.com"
    assert reply_key_of(address, DOMAIN) == "Ab-_9xY"
    assert reply_key_of("<reply+Ab-_9xY@UPDATES.example.com>", DOMAIN) == "Ab-_9xY"


@pytest.mark.parametrize(
    "address", ["reply@updates.example.com", "reply+k@elsewhere.example", "holloway-kitchen+k@updates.example.com"]
)
def test_other_addresses_are_not_reply_addresses(address):
    assert reply_key_of(address, DOMAIN) is None


@pytest.mark.parametrize(
    "text",
    ["approve", "Approved", "YES", "ok", "Okay!", "Yes please", "OK, thanks", "\n\n  yes  \nSent from my iPhone"],
)
def test_approvals(text):
    assert read_answer(text) == APPROVED


@pytest.mark.parametrize("text", ["decline", "Declined.", "No", "no thanks", "NO!"])
def test_declines(text):
    assert read_answer(text) == DECLINED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Yes but can we do Chalk in the utility?",
        "No idea, what does Sage look like in daylight?",
        "Which one is cheaper?",
        "Ok so what happens next",
        "Sage\nyes",
        "I approve",
    ],
)
def test_anything_else_is_a_question(text):
    assert read_answer(text) is None
