"""Real-world MIME shapes: Outlook's winmail.dat, Apple Mail and iPhone layouts, inline pictures, logos."""

from __future__ import annotations

import email
import io
import random
import struct
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from PIL import Image

from feed.parsing import parse_email

DAN = "Dan Mercer <dan.mercer@buildco.example>"


def picture(size: tuple[int, int], fmt: str = "JPEG", *, noisy: bool = False, seed: int = 1) -> bytes:
    """A real picture; noisy ones compress badly, so they are big in bytes as phone photos are."""
    if noisy:
        image = Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (90, 140, 60))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def headed(part: MIMEMultipart | MIMEText, subject: str = "Kitchen") -> bytes:
    part["From"] = DAN
    part["To"] = "holloway-kitchen@updates.example.com"
    part["Subject"] = subject
    return part.as_bytes()


def image_part(
    data: bytes,
    subtype: str = "jpeg",
    *,
    filename: str | None = None,
    cid: str | None = None,
    disposition: str | None = None,
) -> MIMEImage:
    part = MIMEImage(data, subtype)
    if cid:
        part["Content-ID"] = f"<{cid}>"
    if disposition:
        part.add_header("Content-Disposition", disposition, **({"filename": filename} if filename else {}))
    elif filename:
        part.set_param("name", filename)
    return part


def multipart(subtype: str, *parts) -> MIMEMultipart:
    container = MIMEMultipart(subtype)
    for part in parts:
        container.attach(part)
    return container


# -- Outlook's winmail.dat ---------------------------------------------------------------


def tnef_attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute: level, id, type, length, data, checksum (sum of the data bytes)."""
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def mapi_unicode(prop: int, value: str) -> bytes:
    data = value.encode("utf-16-le") + b"\x00\x00"
    padding = b"\x00" * (-len(data) % 4)
    return struct.pack("<HHII", 0x001F, prop, 1, len(data)) + data + padding


def winmail_dat(files: list[tuple[str, bytes, str | None]]) -> bytes:
    """A TNEF stream as Outlook writes it: a short DOS title, the data, and the long name in MAPI properties."""
    stream = struct.pack("<IH", 0x223E9F78, 1)
    stream += tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # TNEF version
    stream += tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # OEM code page
    for short_name, data, long_name in files:
        stream += tnef_attribute(2, 0x9002, 0x0006, bytes(14))  # rendering data opens an attachment
        stream += tnef_attribute(2, 0x8010, 0x0001, short_name.encode("cp1252") + b"\x00")
        stream += tnef_attribute(2, 0x800F, 0x0006, data)
        if long_name:
            stream += tnef_attribute(2, 0x9005, 0x0006, struct.pack("<I", 1) + mapi_unicode(0x3707, long_name))
    return stream


def outlook_with_winmail(winmail: bytes) -> bytes:
    tnef = MIMEApplication(winmail, "ms-tnef")
    tnef.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    return headed(multipart("mixed", MIMEText("Plans and a photo attached."), tnef))


def test_files_inside_winmail_dat_become_the_attachments_and_the_original_is_kept_for_staff():
    photo = picture((640, 480), noisy=True)
    plan = b"%PDF-1.4 kitchen plan"
    winmail = winmail_dat([("KITCHE~1.PDF", plan, "Kitchen plan – rev B.pdf"), ("IMG_0412.JPG", photo, None)])

    parsed = parse_email(outlook_with_winmail(winmail))

    assert [(a.filename, a.content_type, a.payload, a.staff_only) for a in parsed.attachments] == [
        ("Kitchen plan – rev B.pdf", "application/pdf", plan, False),
        ("IMG_0412.JPG", "image/jpeg", photo, False),
        ("winmail.dat", "application/ms-tnef", winmail, True),
    ]
    assert parsed.text == "Plans and a photo attached."


def test_damaged_winmail_dat_is_still_kept_for_staff():
    damaged = winmail_dat([("IMG_0412.JPG", picture((64, 48)), None)])[:40]

    parsed = parse_email(outlook_with_winmail(damaged))

    assert [(a.filename, a.staff_only) for a in parsed.attachments] == [("winmail.dat", True)]


# -- Apple Mail, iPhone and Gmail layouts ----------------------------------------------------


def test_apple_mail_attachments_inside_the_html_alternative_are_kept_and_the_text_read_once():
    photo, plan = picture((800, 600), noisy=True), b"%PDF-1.4 plan"
    pdf = MIMEApplication(plan, "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename="plan.pdf")
    html_branch = multipart(
        "mixed",
        MIMEText("<div>Cabinets are in.</div>", "html"),
        image_part(photo, filename="IMG_1.jpeg", disposition="inline"),
        MIMEText("<div>Handles next week.</div>", "html"),
        pdf,
    )
    raw = headed(multipart("alternative", MIMEText("Cabinets are in.\n\nHandles next week.\n"), html_branch))

    parsed = parse_email(raw)

    assert parsed.text == "Cabinets are in.\n\nHandles next week."
    assert [(a.filename, a.payload) for a in parsed.attachments] == [("IMG_1.jpeg", photo), ("plan.pdf", plan)]


def test_several_pictures_in_multipart_related_are_all_kept_inline():
    photos = [picture((640, 480), noisy=True, seed=n) for n in range(3)]
    html = "<p>Three angles of the island.</p>" + "".join(f'<img src="cid:p{n}@buildco">' for n in range(3))
    related = multipart(
        "related", MIMEText(html, "html"), *(image_part(p, cid=f"p{n}@buildco") for n, p in enumerate(photos))
    )

    parsed = parse_email(headed(related))

    assert parsed.text == "Three angles of the island."
    assert [(a.payload, a.inline) for a in parsed.attachments] == [(p, True) for p in photos]


def test_iphone_photo_between_two_text_parts_keeps_both_texts_in_order():
    photo = picture((640, 480), noisy=True)
    raw = headed(
        multipart(
            "mixed",
            MIMEText("Before the skim coat:"),
            image_part(photo, filename="IMG_2201.JPG", disposition="inline"),
            MIMEText("After it. Drying by Friday.\n\nSent from my iPhone"),
        )
    )

    parsed = parse_email(raw)

    assert parsed.text == "Before the skim coat:\n\nAfter it. Drying by Friday."
    assert [a.filename for a in parsed.attachments] == ["IMG_2201.JPG"]


def test_text_split_around_a_photo_in_plain_and_html_is_read_once():
    photo = picture((640, 480), noisy=True)
    first = multipart("alternative", MIMEText("Floor down."), MIMEText("<p>Floor down.</p>", "html"))
    second = multipart("alternative", MIMEText("Skirting tomorrow."), MIMEText("<p>Skirting tomorrow.</p>", "html"))
    raw = headed(multipart("mixed", first, image_part(photo, filename="IMG_3.JPG", disposition="inline"), second))

    assert parse_email(raw).text == "Floor down.\n\nSkirting tomorrow."


# -- inline pictures and signature logos ---------------------------------------------------


def gmail_inline(image: MIMEImage, cid: str, placeholder: str) -> bytes:
    alternative = multipart(
        "alternative",
        MIMEText(f"Worktop templated.\n{placeholder}\n\nDan\n"),
        MIMEText(f'<div>Worktop templated.<br><img src="cid:{cid}" alt="photo"></div><div>Dan</div>', "html"),
    )
    return headed(multipart("related", alternative, image))


def test_cid_picture_without_disposition_is_posted_once_inline_without_a_broken_marker():
    photo = picture((1024, 768), noisy=True)
    raw = gmail_inline(image_part(photo, cid="ii_m3k1"), "ii_m3k1", "[image: IMG_7781.jpg]")

    parsed = parse_email(raw)

    (attachment,) = parsed.attachments
    assert (attachment.payload, attachment.inline, attachment.content_id) == (photo, True, "ii_m3k1")
    assert attachment.filename == "attachment-1.jpg"
    assert parsed.text == "Worktop templated.\n\nDan"


def test_outlook_inline_picture_is_named_from_its_content_id_and_its_marker_removed():
    photo = picture((1024, 768), noisy=True)
    cid = "image002.jpg@01DA3F2B.5C1E8A40"
    raw = gmail_inline(image_part(photo, cid=cid), cid, f"[cid:{cid}]")

    parsed = parse_email(raw)

    assert [a.filename for a in parsed.attachments] == ["image002.jpg"]
    assert "cid:" not in parsed.text


def outlook_signed(image: bytes, subtype: str = "png", name: str = "image001.png") -> bytes:
    cid = f"{name}@01DA3F2B.5C1E8A40"
    html = f'<p>Second fix done.</p><p>Dan Mercer<br>Site Manager</p><img src="cid:{cid}" width="180" height="60">'
    alternative = multipart(
        "alternative", MIMEText(f"Second fix done.\n\nDan Mercer\nSite Manager\n[cid:{cid}]\n"), MIMEText(html, "html")
    )
    logo = image_part(image, subtype, cid=cid, filename=name, disposition="inline")
    return headed(multipart("related", alternative, logo))


@pytest.mark.parametrize(
    "logo",
    [picture((180, 60), "PNG"), picture((24, 24), "PNG"), picture((600, 120), "PNG"), picture((200, 80), "GIF")],
    ids=["company logo", "social icon", "banner strip", "gif logo"],
)
def test_signature_logo_shown_inline_is_not_posted(logo):
    parsed = parse_email(outlook_signed(logo, "png" if logo.startswith(b"\x89PNG") else "gif"))

    assert parsed.attachments == ()
    assert parsed.text == "Second fix done.\n\nDan Mercer\nSite Manager"


def test_small_site_photo_shown_inline_is_still_posted():
    photo = picture((640, 480))
    assert len(photo) < 15_000  # as small in bytes as a logo: only its shape tells them apart

    parsed = parse_email(outlook_signed(photo, "jpeg", "image001.jpg"))

    assert [(a.payload, a.inline) for a in parsed.attachments] == [(photo, True)]


def test_small_picture_the_sender_attached_is_posted_even_if_logo_sized():
    logo_sized = picture((180, 60), "PNG")
    message = multipart(
        "mixed",
        MIMEText("Door handle we picked."),
        image_part(logo_sized, "png", filename="handle.png", disposition="attachment"),
    )

    assert [a.payload for a in parse_email(headed(message)).attachments] == [logo_sized]


def test_logo_sized_picture_shown_inline_and_also_attached_is_posted_once():
    handle = picture((180, 60), "PNG")
    shown = outlook_signed(handle)
    copy = image_part(handle, "png", filename="handle.png", disposition="attachment")
    message = email.message_from_bytes(shown)
    message.attach(copy)

    assert [(a.payload, a.inline) for a in parse_email(message.as_bytes()).attachments] == [(handle, True)]


def test_large_picture_in_the_signature_position_is_posted():
    photo = picture((640, 480), "PNG", noisy=True)
    assert len(photo) > 15_000

    assert [a.payload for a in parse_email(outlook_signed(photo)).attachments] == [photo]


# -- a forwarded email attached whole ------------------------------------------------------


def forwarded_quote(photo: bytes) -> MIMEMultipart:
    inner = multipart(
        "mixed",
        MIMEText("Price for the worktops: £2,400 fitted."),
        image_part(photo, filename="sample.jpg", disposition="attachment"),
    )
    inner["From"] = "Stone Co <orders@stone.example>"
    inner["Subject"] = "Quote Q-118: worktops"
    return inner


def test_attached_email_is_kept_whole_as_a_readable_eml_named_after_its_subject():
    photo = picture((640, 480), noisy=True)
    attached = MIMEMessage(forwarded_quote(photo))
    attached.add_header("Content-Disposition", "attachment")
    raw = headed(multipart("mixed", MIMEText("Supplier's quote attached."), attached), "Fwd: worktop quote")

    parsed = parse_email(raw)

    (eml,) = parsed.attachments
    assert (eml.filename, eml.content_type, eml.staff_only) == ("Quote Q-118: worktops.eml", "message/rfc822", False)
    inner = email.message_from_bytes(eml.payload)
    assert inner["Subject"] == "Quote Q-118: worktops"
    assert inner.get_payload()[1].get_payload(decode=True) == photo
    assert parsed.text == "Supplier's quote attached."


def test_attached_email_without_a_subject_gets_a_plain_name():
    inner = MIMEText("Delivery Friday.")
    raw = headed(multipart("mixed", MIMEText("See attached."), MIMEMessage(inner)))

    assert [a.filename for a in parse_email(raw).attachments] == ["forwarded message.eml"]


# -- format=flowed -------------------------------------------------------------------------


def flowed(body: str, delsp: bool = False) -> bytes:
    part = MIMEText(body)
    part.set_param("format", "flowed")
    if delsp:
        part.set_param("delsp", "yes")
    return headed(part)


def test_format_flowed_lines_are_joined():
    body = "The tiler starts \nMonday and needs \nthe grout colour.\nSage or Chalk?\n\nThanks \n-- \nDan\n"

    assert (
        parse_email(flowed(body)).text
        == "The tiler starts Monday and needs the grout colour.\nSage or Chalk?\n\nThanks"
    )


def test_format_flowed_delsp_removes_the_space_it_added():
    body = "Die Baustellen \neinrichtung steht.\n"

    assert parse_email(flowed(body, delsp=True)).text == "Die Baustelleneinrichtung steht."


def test_format_flowed_quotes_are_joined_and_removed():
    body = (
        "Friday works.\n\nOn Tue, 25 Nov 2025 at 09:12, Jane <jane@mailbox.example> wrote:\n> Can you \n> do Friday?\n"
    )

    parsed = parse_email(flowed(body))

    assert parsed.text == "Friday works."
    assert parsed.quoted.endswith("> Can you do Friday?")


def test_format_flowed_space_stuffing_is_undone():
    body = " From the left: sink, dishwasher.\n"

    assert parse_email(flowed(body)).text == "From the left: sink, dishwasher."
