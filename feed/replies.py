"""Reply addresses that carry a person's key, and reading a client's answer from the first line of a reply."""

from __future__ import annotations

import re

from feed.addresses import split_address

REPLY_LOCALPART = "reply"
APPROVE_WORDS = frozenset({"approve", "approved", "yes", "ok", "okay"})
DECLINE_WORDS = frozenset({"decline", "declined", "no"})
# Words that may follow the answer on its line without making it a question ("Yes please", "OK thanks").
COURTESY_WORDS = frozenset({"please", "thanks", "thank", "you", "go", "ahead", "cheers"})
APPROVED = "approved"
DECLINED = "declined"


def reply_address(reply_key: str, mail_domain: str) -> str:
    return f"{REPLY_LOCALPART}+{reply_key}@{mail_domain}"


def reply_key_of(address: str, mail_domain: str) -> str | None:
    """Return the key in a reply address of ours, or None when it is not one."""
    local, key, domain = split_address(address)
    # Keys are case-sensitive, so take them from the address as written, not lowercased.
    if local != REPLY_LOCALPART or not key or domain != mail_domain.lower():
        return None
    return address.strip().strip("<>").rpartition("@")[0].partition("+")[2]


def read_answer(text: str) -> str | None:
    """Read "approved" or "declined" from a reply's first line; None when it says something else."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    words = re.findall(r"[^\W\d_]+", first.lower())
    if not words or not set(words[1:]) <= COURTESY_WORDS:
        return None
    if words[0] in APPROVE_WORDS:
        return APPROVED
    if words[0] in DECLINE_WORDS:
        return DECLINED
    return None
