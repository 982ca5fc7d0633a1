"""Real-world header and charset damage: parse, never crash, keep what can be read."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime

import pytest

from feed.charsets import codec_for, decode_text
from feed.parsing import parse_email

HEAD = b"From: Dan Mercer <dan.mercer@buildco.example>\nTo: holloway-kitchen@updates.example.com\n"


def plain(body: bytes, *, subject: bytes = b"Tiles", content_type: bytes = b"text/plain", extra: bytes = b"") -> bytes:
    """A one-part message built from raw bytes, so any header shape can be sent."""
    return (
        HEAD
        + b"Subject: "
        + subject
        + b"\nMIME-Version: 1.0\nContent-Type: "
        + content_type
        + b"\nContent-Transfer-Encoding: 8bit\n"
        + extra
        + b"\n"
        + body
        + b"\n"
    )


# -- header shapes that make the email package raise -------------------------------------

BRACKETED_ID = plain(b"Tiles are in.", extra=b"Message-ID: <[8f3Ab0c9Zq==@microsoft.com]>\n")
LONE_QUOTE_TO = plain(b"Tiles are in.").replace(b"To: holloway-kitchen@updates.example.com", b'To: "')
BARE_NAME_STAR = (
    HEAD + b"Subject: Tiles\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
    b"--b\nContent-Type: text/plain\n\nTiles are in.\n"
    b"--b\nContent-Type: application/pdf; name*\nContent-Disposition: attachment; filename*\n"
    b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"%PDF-1.4 delivery note") + b"--b--\n"
)


def read_strictly(raw: bytes, header: str | None) -> object:
    """Read a header, or the second part's filename, with the email package's modern policy."""
    strict = email.message_from_bytes(raw, policy=email.policy.default)
    return strict[header] if header else strict.get_payload()[1].get_filename()


@pytest.mark.parametrize(
    ("raw", "header"),
    [(BRACKETED_ID, "Message-ID"), (LONE_QUOTE_TO, "To"), (BARE_NAME_STAR, None)],
    ids=["bracketed message id", "lone quote in To", "bare name* parameter"],
)
def test_shapes_the_email_package_chokes_on_still_parse(raw, header):
    with pytest.raises(IndexError):  # the input really is one of the shapes in question
        read_strictly(raw, header)

    parsed = parse_email(raw)

    assert (parsed.title, parsed.text, parsed.from_address) == ("Tiles", "Tiles are in.", "dan.mercer@buildco.example")


def test_bracketed_message_id_is_kept_as_sent():
    assert parse_email(BRACKETED_ID).message_id == "[8f3Ab0c9Zq==@microsoft.com]"


def test_file_behind_a_bare_name_parameter_is_kept_with_a_made_up_name():
    (attachment,) = parse_email(BARE_NAME_STAR).attachments

    assert (attachment.filename, attachment.payload) == ("attachment-1.pdf", b"%PDF-1.4 delivery note")


# -- charsets --------------------------------------------------------------------------

TUER = "Die Tür ist eingebaut, Größe passt."


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        (b'text/plain; charset="iso-8859-8-i"', "המטבח מוכן".encode("iso-8859-8"), "המטבח מוכן"),
        (b"text/plain; charset=uft-8", TUER.encode(), TUER),
        (b"text/plain; charset=1", TUER.encode("latin-1"), TUER),
        (b"text/plain", TUER.encode("latin-1"), TUER),
        (b"text/plain; charset=us-ascii", TUER.encode("latin-1"), TUER),
        (b"text/plain; charset=unknown-8bit", TUER.encode("latin-1"), TUER),
        (
            b"text/plain; charset=iso-8859-1",
            "“Sage” it is: €450 – fitted".encode("cp1252"),
            "“Sage” it is: €450 – fitted",
        ),
        (b"text/plain; charset=iso-8859-1", TUER.encode(), TUER),
    ],
    ids=[
        "iso-8859-8-i",
        "uft-8",
        "charset 1",
        "undeclared latin-1",
        "8-bit labelled ascii",
        "unknown-8bit",
        "windows-1252 labelled latin-1",
        "utf-8 labelled latin-1",
    ],
)
def test_body_in_a_wrong_or_missing_charset_is_readable(content_type, body, text):
    assert parse_email(plain(body, content_type=content_type)).text == text


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (b"=?iso-8859-8-i?b?" + base64.b64encode("המטבח מוכן".encode("iso-8859-8")) + b"?=", "המטבח מוכן"),
        (b"=?uft-8?q?T=C3=BCr_eingebaut?=", "Tür eingebaut"),
        (b"=?1?q?T=FCr_eingebaut?=", "Tür eingebaut"),
        (b"=?x-no-such-charset?q?T=FCr_eingebaut?=", "Tür eingebaut"),
        (b"=?iso-8859-1?q?=93Sage=94_for_=80450?=", "“Sage” for €450"),
        ("“Sage” for €450".encode("cp1252"), "“Sage” for €450"),
    ],
    ids=["iso-8859-8-i", "uft-8", "charset 1", "unknown charset", "windows-1252 as latin-1", "raw windows-1252"],
)
def test_subject_in_a_wrong_charset_is_readable_never_dropped(subject, expected):
    parsed = parse_email(plain(b"Done.", subject=subject))

    assert (parsed.subject, parsed.title) == (expected, expected)


def test_unlabelled_8bit_subject_is_read_in_the_charset_the_body_declares():
    raw = plain(
        "Кухня готова.".encode("koi8-r"),
        subject="Кухня готова".encode("koi8-r"),
        content_type=b"text/plain; charset=koi8-r",
    )

    parsed = parse_email(raw)

    assert (parsed.title, parsed.text) == ("Кухня готова", "Кухня готова.")


def with_filename_parameter(parameter: bytes) -> bytes:
    return (
        HEAD + b"Subject: Plan\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nPlan attached.\n"
        b"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; " + parameter + b"\n\n%PDF-1.4\n--b--\n"
    )


@pytest.mark.parametrize(
    ("parameter", "filename"),
    [
        (b"filename*=uft-8''K%C3%BCchenplan.pdf", "Küchenplan.pdf"),
        (b"filename*=x-unknown''K%FCchenplan.pdf", "Küchenplan.pdf"),
        (b"filename*=iso-8859-8-i''%F9%EC%E5%ED.pdf", "שלום.pdf"),
        (b"filename*=iso-2022-jp'ja'Plan%20%8a.pdf", "Plan Š.pdf"),
    ],
    ids=["uft-8", "unknown label", "iso-8859-8-i", "bytes the label cannot hold"],
)
def test_rfc2231_filename_in_a_wrong_charset_is_readable(parameter, filename):
    (attachment,) = parse_email(with_filename_parameter(parameter)).attachments

    assert attachment.filename == filename


@pytest.mark.parametrize("label", ["iso-8859-8-i", "uft-8", "1", "base64", "rot13", "idna", "", None, "x-unknown"])
def test_no_charset_label_raises(label):
    assert "Tür" in decode_text("Tür".encode("latin-1"), label)
    assert decode_text(b"plain ascii", label) == "plain ascii"


def test_labels_that_name_no_text_charset_are_ignored():
    assert [codec_for(label) for label in ("base64", "rot13", "1", "unknown-8bit", "  ")] == [None] * 5
    assert [codec_for(label) for label in ('"ISO-8859-8-I"', "Latin1", "us-ascii")] == ["iso8859-8", "cp1252", "cp1252"]


# -- titles ----------------------------------------------------------------------------


def encoded(subject: str) -> bytes:
    return b"=?utf-8?b?" + base64.b64encode(subject.encode()) + b"?="


@pytest.mark.parametrize(
    "subject",
    ["🚧 Tiling day 2 👷‍♂️", "המטבח מוכן להתקנה", "تم تركيب المطبخ", "Küche – Montage"],
    ids=["emoji with joiner", "hebrew", "arabic", "latin"],
)
def test_emoji_and_right_to_left_subjects_are_kept_whole(subject):
    parsed = parse_email(plain(b"Done.", subject=encoded(subject)))

    assert (parsed.title, parsed.titled) == (subject, True)


def test_direction_overrides_are_taken_out_of_the_title():
    parsed = parse_email(plain(b"Done.", subject=encoded("Invoice \u202efdp.exe\u202c ok")))

    assert parsed.title == "Invoice fdp.exe ok"


def test_control_characters_and_nul_bytes_leave_subject_and_note():
    raw = plain(b"Skip\x00 arrives\x1b Monday.\x07", subject=b"Skip\x00 swap\x08 today")

    parsed = parse_email(raw)

    assert (parsed.title, parsed.text) == ("Skip swap today", "Skip arrives Monday.")


@pytest.mark.parametrize("subject", [b"Re: Fwd: AW:", b"RE: FW:", b"WG: ", b"Re:Re:"])
def test_subject_of_only_prefixes_falls_back_and_is_untitled(subject):
    parsed = parse_email(plain(b"Done.", subject=subject))

    assert (parsed.title, parsed.titled) == ("Update from Dan", False)


def test_400_character_subject_is_cut_at_a_word_with_an_ellipsis():
    words = "Second fix electrics in the kitchen and the utility room with the new consumer unit".split()
    subject = " ".join(words[i % len(words)] for i in range(80))[:400]

    title = parse_email(plain(b"Done.", subject=subject.encode())).title

    assert len(title) <= 200 and title.endswith("…")
    assert subject.startswith(title[:-1]) and subject[len(title) - 1] == " "


def test_400_character_subject_without_spaces_is_cut_too():
    title = parse_email(plain(b"Done.", subject=b"x" * 400)).title

    assert title == "x" * 199 + "…"


# -- dates -----------------------------------------------------------------------------


def test_date_in_the_future_is_reported_as_given():
    parsed = parse_email(plain(b"Done.", extra=b"Date: Mon, 1 Jan 2035 09:00:00 +0100\n"))

    assert parsed.sent_at == datetime(2035, 1, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "date", [b"", b"Date: Fri, 31 Feb 2025 27:39:33 +0000\n", b"Date: \n", b"Date: Mon, 1 Jan 99999999 09:00 +0000\n"]
)
def test_missing_or_impossible_date_gives_none(date):
    assert parse_email(plain(b"Done.", extra=date)).sent_at is None
