"""Mutated real mail never makes parse_email raise, and what it returns is always well formed."""

from __future__ import annotations

import io
import re
import struct
import unicodedata
from datetime import timedelta
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from feed.parsing import KINDS, ParsedAttachment, ParsedEmail, parse_email
from tests.conftest import CORPUS, SAMPLES

# Deterministic in CI (derandomize, no example database left in the checkout); about ten seconds.
FUZZ = settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Larger real messages (long HTML reports) slow every example and add no new shapes.
SEED_LIMIT = 60_000
BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


def built_messages() -> list[bytes]:
    """Shapes the corpora lack: inline pictures, a winmail.dat, an attached email, format=flowed."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 60)).save(buffer, "PNG")
    logo = MIMEImage(buffer.getvalue(), "png")
    logo["Content-ID"] = "<image001.png@01DA>"
    html = '<p>Tiles in.</p><img src="cid:image001.png@01DA">'
    related = MIMEMultipart("related")
    alternative = MIMEMultipart("alternative")
    alternative.attach(
        MIMEText("Tiles in.\n[cid:image001.png@01DA]\n\nOn Tue, 25 Nov 2025, Jane <j@x.example> wrote:\n> ok?\n")
    )
    alternative.attach(MIMEText(html, "html"))
    related.attach(alternative)
    related.attach(logo)
    tnef = struct.pack("<IH", 0x223E9F78, 1) + struct.pack("<BHHI", 2, 0x9002, 6, 2) + b"\x00\x00\x00\x00"
    winmail = MIMEApplication(tnef, "ms-tnef")
    winmail.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    flowed = MIMEText("The tiler starts \nMonday.\n-- \nDan\n")
    flowed.set_param("format", "flowed")
    mixed = MIMEMultipart("mixed")
    for part in (related, winmail, MIMEMessage(flowed), flowed):
        mixed.attach(part)
    mixed["From"] = "Dan Mercer <dan.mercer@buildco.example>"
    mixed["Subject"] = "Fwd: [Delay] Tiles"
    mixed["Message-ID"] = "<[8f3Ab0c9Zq==@microsoft.com]>"
    return [mixed.as_bytes()]


def shared_messages() -> list[bytes]:
    files = [path for folder in (SAMPLES, CORPUS) if folder.is_dir() for path in sorted(folder.rglob("*"))]
    shared = [path.read_bytes() for path in files if path.is_file() and path.suffix in (".eml", ".txt")]
    return [raw for raw in shared if b":" in raw[:2000] and len(raw) <= SEED_LIMIT]


BUILT = built_messages()
SEEDS = BUILT + shared_messages()
# Half the examples start from the built message: one among hundreds would hardly ever be picked.
seed = st.one_of(st.sampled_from(BUILT), st.sampled_from(SEEDS))


def flip(raw: bytes, position: int, value: int) -> bytes:
    i = position % len(raw)
    return raw[:i] + bytes([raw[i] ^ (value or 1)]) + raw[i + 1 :]


def truncate(raw: bytes, position: int, value: int) -> bytes:
    return raw[: position % (len(raw) + 1)]


def header_lines(raw: bytes) -> tuple[list[bytes], bytes]:
    head, separator, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    return head.splitlines(keepends=True), separator + body


def duplicate_header(raw: bytes, position: int, value: int) -> bytes:
    lines, rest = header_lines(raw)
    if not lines:
        return raw
    i = position % len(lines)
    return b"".join(lines[: i + 1] + [lines[i]] * (1 + value % 3) + lines[i + 1 :]) + rest


def delete_header(raw: bytes, position: int, value: int) -> bytes:
    lines, rest = header_lines(raw)
    if not lines:
        return raw
    i = position % len(lines)
    return b"".join(lines[:i] + lines[i + 1 :]) + rest


def damage_boundary(raw: bytes, position: int, value: int) -> bytes:
    boundaries = BOUNDARY.findall(raw)
    if not boundaries:
        return raw
    marker = b"--" + boundaries[position % len(boundaries)]
    found = [m.start() for m in re.finditer(re.escape(marker), raw)]
    if not found:
        return raw
    at = found[value % len(found)]
    damage = (b"", b"--", marker[:-1], marker + b"--", b"\x00" + marker)[position % 5]
    return raw[:at] + damage + raw[at + len(marker) :]


def insert_junk(raw: bytes, position: int, value: int) -> bytes:
    junk = (b"\x00", b"\r", b"\xff\xfe", b"=?utf-8?b?", b'"', b"\n\n", b"A" * 5000, b"\n--\n", b";name*")[value % 9]
    i = position % (len(raw) + 1)
    return raw[:i] + junk + raw[i:]


def splice(raw: bytes, position: int, value: int) -> bytes:
    other = SEEDS[value % len(SEEDS)]
    return raw[: position % (len(raw) + 1)] + other[position % (len(other) + 1) :]


MUTATIONS = (flip, truncate, duplicate_header, delete_header, damage_boundary, insert_junk, splice)
mutation = st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2**31), st.integers(0, 255))


def mutate(raw: bytes, steps: list) -> bytes:
    for step, position, value in steps:
        raw = step(raw, position, value) if raw else raw
    return raw


def without_stray_controls(text: str) -> bool:
    return all(unicodedata.category(ch) != "Cc" or ch in "\n\t" for ch in text)


def assert_well_formed(parsed: ParsedEmail) -> None:
    assert isinstance(parsed, ParsedEmail)
    assert isinstance(parsed.title, str) and parsed.title.strip() and len(parsed.title) <= 200
    assert "\n" not in parsed.title and without_stray_controls(parsed.title + parsed.subject)
    assert parsed.kind in KINDS and isinstance(parsed.titled, bool)
    assert isinstance(parsed.text, str) and isinstance(parsed.quoted, str)
    assert without_stray_controls(parsed.text) and without_stray_controls(parsed.quoted)
    assert parsed.message_id is None or (isinstance(parsed.message_id, str) and parsed.message_id)
    assert parsed.sent_at is None or parsed.sent_at.utcoffset() == timedelta(0)
    assert parsed.automated is None or (isinstance(parsed.automated, str) and parsed.automated)
    assert all(isinstance(address, str) and "@" in address for address in parsed.bounced_recipients)
    assert isinstance(parsed.from_address, str) and isinstance(parsed.from_name, str)
    for attachment in parsed.attachments:
        assert isinstance(attachment, ParsedAttachment)
        assert attachment.filename and not set(attachment.filename) & {"/", "\\"}
        assert without_stray_controls(attachment.filename)
        assert isinstance(attachment.payload, bytes) and attachment.payload
        assert "/" in attachment.content_type
        assert isinstance(attachment.inline, bool) and isinstance(attachment.staff_only, bool)


@FUZZ
@given(original=seed, steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_mail_parses_to_a_well_formed_result(original, steps):
    raw = mutate(original, steps)

    assert_well_formed(parse_email(raw))
    assert_well_formed(parse_email(raw, ""))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(raw=st.binary(max_size=3000))
def test_arbitrary_bytes_parse_to_a_well_formed_result(raw):
    assert_well_formed(parse_email(raw))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(["Subject", "From", "To", "Message-ID", "Date", "Content-Type", "Content-Disposition"]),
            st.text(max_size=80),
        ),
        max_size=6,
    ),
    body=st.text(max_size=400),
)
def test_arbitrary_header_text_parses_to_a_well_formed_result(headers, body):
    raw = "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + body

    assert_well_formed(parse_email(raw.encode("utf-8", "surrogatepass")))
