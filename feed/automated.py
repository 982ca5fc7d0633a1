"""Recognise mail that no person wrote: auto-replies, bounces, receipts and list traffic (RFC 3834)."""

from __future__ import annotations

import email.message
import email.parser
import email.utils
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header

# Local parts compared without separators, so "post_master" and "MAILER_DAEMON" count too.
DAEMON_LOCAL_PARTS = frozenset({"mailerdaemon", "postmaster"})
# Nobody can answer these, so no person writes from them: notifications, alerts, portals.
NO_REPLY_LOCAL_PARTS = frozenset({"noreply", "donotreply"})

# Lowercased subject openings, each with the kind of mail it announces.
AUTOMATED_SUBJECTS = (
    ("automatic reply:", "auto-reply"),
    ("auto:", "auto-reply"),
    ("auto reply:", "auto-reply"),
    ("auto-reply:", "auto-reply"),
    ("autoreply:", "auto-reply"),
    ("out of office", "auto-reply"),
    ("autosvar", "auto-reply"),
    ("abwesenheitsnotiz", "auto-reply"),
    ("automatische antwort:", "auto-reply"),
    ("réponse automatique", "auto-reply"),
    ("undeliverable:", "bounce"),
    ("undelivered mail returned to sender", "bounce"),
    ("delivery status notification", "bounce"),
    ("mail delivery failed", "bounce"),
    ("returned mail:", "bounce"),
    ("failure notice", "bounce"),
    # Microsoft's feedback-loop complaints come as plain multipart/mixed, not as a report.
    ("complaint about message from", "abuse report"),
)

AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response")
# RFC 2369 list headers; List-Id (RFC 2919) first as the plainest to read.
LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Subscribe", "List-Help", "List-Owner", "List-Archive")
PRECEDENCE_KINDS = {"bulk": "bulk mail", "junk": "bulk mail", "list": "mailing list"}
REPORT_KINDS = {
    "delivery-status": "bounce (delivery status report)",
    "disposition-notification": "read receipt (disposition notification)",
}
DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
# For feed.mail.stamp_message to set on everything we send, so our own mail coming back is known by name.
LOOP_HEADER = "X-Workfeed-Loop"


def _header(message: email.message.Message, name: str) -> str:
    """Return one header as readable text, whatever its encoding; "" when absent."""
    try:
        value = message.get(name)
    except Exception:
        return ""
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except Exception:
        text = str(value)
    return " ".join(text.split())


def _shown(value: str, limit: int = 80) -> str:
    """Shorten a header value for a reason an admin reads."""
    printable = "".join(ch for ch in value if ch.isprintable())
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def _bare(local_part: str) -> str:
    return "".join(ch for ch in local_part.lower() if ch not in " -_.")


def _local_parts(message: email.message.Message, mail_from: str | None) -> Iterator[tuple[str, str]]:
    """Yield (local part, address) for the From and Sender headers and the envelope sender."""
    # Split addresses before decoding names: a decoded name may hold commas or angle brackets.
    values = [str(message.get("From") or ""), str(message.get("Sender") or ""), mail_from or ""]
    for name, address in email.utils.getaddresses([v for v in values if v]):
        if address:
            yield _bare(address.split("@", 1)[0]), address
        elif name:
            # "From: MAILER-DAEMON <>": the name is all there is.
            yield _bare(name), name


def _our_own_mail(message: email.message.Message, mail_from: str | None) -> str | None:
    value = _header(message, LOOP_HEADER)
    return f"our own mail came back ({LOOP_HEADER}: {_shown(value)})" if value else None


def _report(message: email.message.Message, mail_from: str | None) -> str | None:
    if message.get_content_type() != "multipart/report":
        return None
    report_type = str(message.get_param("report-type", "") or "").strip().lower()
    return REPORT_KINDS.get(report_type) or f"automated report (multipart/report; report-type={_shown(report_type)})"


def _daemon_sender(message: email.message.Message, mail_from: str | None) -> str | None:
    for local_part, address in _local_parts(message, mail_from):
        if local_part in DAEMON_LOCAL_PARTS:
            return f"bounce (sent by {_shown(address)})"
    return None


def _no_reply_sender(message: email.message.Message, mail_from: str | None) -> str | None:
    for local_part, address in _local_parts(message, mail_from):
        if local_part in NO_REPLY_LOCAL_PARTS:
            return f"automated message (sent from {_shown(address)})"
    return None


def _null_sender(message: email.message.Message, mail_from: str | None) -> str | None:
    # None means the caller does not know the envelope; a Return-Path of <> is the
    # receiving server's record of the same empty envelope sender.
    if mail_from is not None:
        empty = mail_from.strip().strip("<>").strip() == ""
    else:
        return_path = _header(message, "Return-Path")
        empty = bool(return_path) and return_path.strip().strip("<>").strip() == ""
    return "bounce or notification (empty envelope sender)" if empty else None


def _auto_submitted(message: email.message.Message, mail_from: str | None) -> str | None:
    value = _header(message, "Auto-Submitted")
    token = value.split(";", 1)[0].strip().lower()
    if not token or token == "no":
        return None
    kind = "auto-reply" if token == "auto-replied" else "automated message"
    return f"{kind} (Auto-Submitted: {_shown(value)})"


def _autoreply_header(message: email.message.Message, mail_from: str | None) -> str | None:
    for name in AUTOREPLY_HEADERS:
        value = _header(message, name)
        if value and value.strip().lower() not in ("no", "false", "0"):
            return f"auto-reply ({name}: {_shown(value)})"
    return None


def _subject(message: email.message.Message, mail_from: str | None) -> str | None:
    subject = _header(message, "Subject")
    lowered = subject.lower()
    for opening, kind in AUTOMATED_SUBJECTS:
        if lowered.startswith(opening):
            return f'{kind} (subject starts "{subject[: len(opening)]}")'
    return None


def _precedence(message: email.message.Message, mail_from: str | None) -> str | None:
    value = _header(message, "Precedence").strip().lower()
    kind = PRECEDENCE_KINDS.get(value)
    return f"{kind} (Precedence: {value})" if kind else None


def _list_traffic(message: email.message.Message, mail_from: str | None) -> str | None:
    for name in LIST_HEADERS:
        value = _header(message, name)
        if value:
            return f"mailing list ({name}: {_shown(value)})"
    return None


# Most specific first, so a bounce that also says Auto-Submitted reads as a bounce.
CHECKS: tuple[Callable[[email.message.Message, str | None], str | None], ...] = (
    _our_own_mail,
    _report,
    _daemon_sender,
    _null_sender,
    _auto_submitted,
    _autoreply_header,
    _no_reply_sender,
    _subject,
    _precedence,
    _list_traffic,
)


def automated_reason(message: email.message.Message, mail_from: str | None = None) -> str | None:
    """Say why a message looks machine-sent, or None when a person wrote it."""
    for check in CHECKS:
        try:
            reason = check(message, mail_from)
        except Exception:
            # A malformed header is not a reason: the other checks still decide.
            reason = None
        if reason:
            return reason
    return None


def _status_blocks(part: email.message.Message) -> list[email.message.Message]:
    """Return the header blocks of a delivery-status part, parsed or not."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, email.message.Message)]
    raw = part.get_payload(decode=True) or b""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    parser = email.parser.HeaderParser()
    return [parser.parsestr(chunk.strip() + "\n") for chunk in text.split("\n\n") if chunk.strip()]


def _recipient_address(value: str) -> str:
    """Turn "rfc822; <Someone@Example.com>" into "someone@example.com"."""
    address = value.split(";", 1)[1] if ";" in value else value
    return address.strip().strip("<>").strip().lower()


def bounced_recipients(message: email.message.Message) -> tuple[str, ...]:
    """List the failed recipients named in the delivery-status parts of a report."""
    found: list[str] = []
    try:
        parts = [p for p in message.walk() if p.get_content_type() in DELIVERY_STATUS_TYPES]
        for block in (block for part in parts for block in _status_blocks(part)):
            action = _header(block, "Action").lower()
            # A report may also list recipients that were delayed, relayed or delivered.
            if action and not action.startswith("failed"):
                continue
            for name in ("Final-Recipient", "Original-Recipient"):
                address = _recipient_address(_header(block, name))
                if "@" in address and address not in found:
                    found.append(address)
    except Exception:
        pass  # a damaged report still yields the recipients read before the damage
    return tuple(found)
