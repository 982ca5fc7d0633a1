"""Our own email addresses: project addresses with a +tag, and the bounce address."""

from __future__ import annotations

BOUNCE_LOCALPART = "bounces"


def split_address(address: str) -> tuple[str, str, str]:
    """Split `local+tag@domain` into lowercased (local, tag, domain)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    base, _, tag = local.partition("+")
    return base.lower(), tag.lower(), domain.lower().rstrip(".")
