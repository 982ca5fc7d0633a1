"""Email parsing: titles and kinds, clean notes, quotes and signatures, attachments, bad input."""

from __future__ import annotations

import base64
import email
import io
import random
import time
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage

import mailparser
import pytest
from PIL import Image

from feed.parsing import KINDS, ParsedEmail, kind_from_tag, parse_email
from tests.conftest import CORPUS, absent, sample

DAN = "Dan Mercer <dan.mercer@buildco.example>"


def jpeg(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small real JPEG; each colour gives different bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def message(
    subject: str | None = "Site update",
    text: str | None = "Walls plastered.",
    html: str | None = None,
    sender: str | None = DAN,
    date: str | None = "Mon, 24 Nov 2025 16:00:00 +0000",
) -> EmailMessage:
    msg = EmailMessage()
    if sender is not None:
        msg["From"] = sender
    msg["To"] = "holloway-kitchen@updates.example.com"
    if subject is not None:
        msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    msg["Message-ID"] = "<note-1@buildco.example>"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg


def parse(msg: EmailMessage) -> ParsedEmail:
    return parse_email(msg.as_bytes())


# -- the basics ----------------------------------------------------------------


def test_plain_note_gives_title_text_sender_and_time():
    parsed = parse(message(subject="Walls plastered", text="Second coat on.\nDrying until Friday.\n"))

    assert parsed.title == "Walls plastered"
    assert parsed.subject == "Walls plastered"
    assert parsed.kind == "update"
    assert parsed.text == "Second coat on.\nDrying until Friday."
    assert parsed.quoted == ""
    assert parsed.from_address == "dan.mercer@buildco.example"
    assert parsed.from_name == "Dan Mercer"
    assert parsed.message_id == "note-1@buildco.example"
    assert parsed.sent_at == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    assert parsed.automated is None
    assert parsed.bounced_recipients == ()


def test_sender_address_is_lowercased():
    parsed = parse(message(sender="Dan <Dan.Mercer@BuildCo.Example>"))

    assert parsed.from_address == "dan.mercer@buildco.example"


def test_date_is_converted_to_utc():
    parsed = parse(message(date="Tue, 25 Nov 2025 09:12:00 +0100"))

    assert parsed.sent_at == datetime(2025, 11, 25, 8, 12, tzinfo=UTC)
    assert parsed.sent_at.utcoffset().total_seconds() == 0


def test_missing_date_gives_none():
    assert parse(message(date=None)).sent_at is None


def test_unparseable_date_gives_none():
    assert parse(message(date="next Tuesday-ish")).sent_at is None


def test_encoded_subject_is_decoded():
    raw = (
        message(subject="placeholder")
        .as_bytes()
        .replace(b"Subject: placeholder", b"Subject: =?utf-8?q?K=C3=BCche_fertig_=E2=80=93_ok?=")
    )

    assert parse_email(raw).title == "Küche fertig – ok"


def test_raw_latin1_subject_is_decoded():
    raw = message(subject="placeholder").as_bytes().replace(b"Subject: placeholder", b"Subject: Stra\xdfe fertig")

    assert parse_email(raw).subject == "Straße fertig"


def test_latin1_body_is_decoded():
    msg = message(text=None)
    msg.set_content("Die Montage der Küche hat begonnen.".encode("latin-1"), "text", "plain")
    msg.replace_header("Content-Type", 'text/plain; charset="iso-8859-1"')

    assert parse(msg).text == "Die Montage der Küche hat begonnen."


def test_control_characters_are_removed_from_text_but_tabs_kept():
    parsed = parse(message(text="Skip\x00 arrives\x07 Monday.\r\nItem\tqty\n"))

    assert parsed.text == "Skip arrives Monday.\nItem\tqty"


# -- titles and kinds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "kind", "title"),
    [
        ("[Decision] Splashback tile colour", "decision", "Splashback tile colour"),
        ("[stage] First fix", "stage", "First fix"),
        ("[Phase] Second fix", "stage", "Second fix"),
        ("[Approval] Worktop edge", "decision", "Worktop edge"),
        ("[VO] Extra socket", "variation", "Extra socket"),
        ("[Change] Move the sink", "variation", "Move the sink"),
        ("[Delayed] Worktop", "delay", "Worktop"),
        ("[Handover] Keys returned", "milestone", "Keys returned"),
        ("[Delivered] Appliances", "milestone", "Appliances"),
        ("[Photos] Kitchen", "update", "[Photos] Kitchen"),
        ("Re: [Decision] Tiles", "decision", "Tiles"),
        ("[Decision] Re: Tiles", "decision", "Tiles"),
    ],
)
def test_subject_tag_sets_kind_and_leaves_the_title(subject, kind, title):
    parsed = parse(message(subject=subject))

    assert (parsed.kind, parsed.title) == (kind, title)


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Worktop",
        "RE: Fwd: Worktop",
        "Fw: Worktop",
        "AW: WG: Worktop",
        "SV: Worktop",
        "Re[2]: Worktop",
        "re : Worktop",
    ],
)
def test_reply_and_forward_prefixes_are_removed_from_title(subject):
    assert parse(message(subject=subject)).title == "Worktop"


def test_title_whitespace_is_collapsed():
    assert parse(message(subject="  Tiles   arrived \t today ")).title == "Tiles arrived today"


def test_long_title_is_cut_at_a_word():
    subject = " ".join(["plasterboard"] * 40)

    title = parse(message(subject=subject)).title

    assert len(title) <= 200
    assert title.endswith("plasterboard…")


def test_empty_subject_falls_back_to_sender_first_name():
    assert parse(message(subject="")).title == "Update from Dan"


def test_missing_subject_without_a_name_uses_the_address():
    assert parse(message(subject=None, sender="priya@buildco.example")).title == "Update from Priya"


def test_subject_of_only_a_tag_names_the_kind():
    parsed = parse(message(subject="[Decision]"))

    assert (parsed.kind, parsed.title) == ("decision", "Decision from Dan")


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("Decision", "decision"),
        ("approve", "decision"),
        ("APPROVAL", "decision"),
        ("stage", "stage"),
        ("phase", "stage"),
        ("variation", "variation"),
        ("change", "variation"),
        ("vo", "variation"),
        ("delay", "delay"),
        ("delayed", "delay"),
        ("milestone", "milestone"),
        ("delivered", "milestone"),
        ("handover", "milestone"),
        ("delivery", "milestone"),
        ("[Decision]", "decision"),
        ("photos", None),
        ("", None),
    ],
)
def test_kind_from_tag_knows_the_aliases(tag, kind):
    assert kind_from_tag(tag) == kind


# -- quotes and signatures ------------------------------------------------------------

GMAIL_REPLY = """Templating done this morning.
Next: fabrication takes 8 working days.

Priya

On Tue, 25 Nov 2025 at 09:12, Jane Holloway <jane.holloway@mailbox.example> wrote:
> Hi Priya, when are they coming to template?
> Thanks, Jane
"""

OUTLOOK_REPLY = """Tiles ordered, arriving Thursday.

________________________________
From: Jane Holloway <jane.holloway@mailbox.example>
Sent: Tuesday, 25 November 2025 09:12
To: Dan Mercer <dan.mercer@buildco.example>
Subject: Re: Tiles

Sage please.
"""

ORIGINAL_MESSAGE_REPLY = """Skip swapped.

-----Original Message-----
From: Jane Holloway
Sent: 25 November 2025 09:12
Subject: Skip

Can the skip be swapped?
"""


def test_gmail_quote_is_removed_but_kept_for_staff():
    parsed = parse(message(text=GMAIL_REPLY))

    assert parsed.text == "Templating done this morning.\nNext: fabrication takes 8 working days.\n\nPriya"
    assert parsed.quoted.startswith("On Tue, 25 Nov 2025 at 09:12, Jane Holloway")
    assert "> Hi Priya, when are they coming to template?" in parsed.quoted


def test_gmail_attribution_wrapped_over_two_lines_is_removed():
    text = "Done.\n\nOn Tue, 25 Nov 2025 at 09:12, Jane Holloway <\njane.holloway@mailbox.example> wrote:\n\n> Hi\n"

    parsed = parse(message(text=text))

    assert (parsed.text, parsed.quoted.splitlines()[-1]) == ("Done.", "> Hi")


def test_outlook_header_block_and_its_rule_are_removed():
    parsed = parse(message(text=OUTLOOK_REPLY))

    assert parsed.text == "Tiles ordered, arriving Thursday."
    assert parsed.quoted.startswith("________________________________\nFrom: Jane Holloway")
    assert "Sage please." in parsed.quoted


def test_original_message_block_is_removed():
    parsed = parse(message(text=ORIGINAL_MESSAGE_REPLY))

    assert parsed.text == "Skip swapped."
    assert parsed.quoted.startswith("-----Original Message-----")


def test_german_attribution_is_removed():
    text = "Küche fertig.\n\nAm 25.11.2025 um 09:12 schrieb Jane Holloway <jane@mailbox.example>:\n> Hallo Dan\n"

    parsed = parse(message(text=text))

    assert parsed.text == "Küche fertig."
    assert "> Hallo Dan" in parsed.quoted


def test_forwarded_message_is_kept_for_staff_only():
    text = (
        "Supplier confirms Friday.\n\n---------- Forwarded message ---------\n"
        "From: Stone Co <orders@stone.example>\nDate: Mon, 24 Nov 2025\nSubject: Delivery\n\nPrice £2,400.\n"
    )

    parsed = parse(message(text=text))

    assert parsed.text == "Supplier confirms Friday."
    assert "£2,400" in parsed.quoted and "£2,400" not in parsed.text


def test_quote_without_attribution_at_the_end_is_removed():
    parsed = parse(message(text="Yes, Friday works.\n\n> Can you do Friday?\n> Jane\n"))

    assert parsed.text == "Yes, Friday works."
    assert parsed.quoted == "> Can you do Friday?\n> Jane"


def test_apple_mail_quote_after_signature_is_removed():
    text = "All done.\n\nSent from my iPhone\n\n> On 25 Nov 2025, at 09:12, Jane Holloway <jane@mailbox.example> wrote:\n>\n> Hi\n"

    parsed = parse(message(text=text))

    assert parsed.text == "All done."
    assert parsed.quoted.startswith("> On 25 Nov 2025")


def test_note_that_mentions_wrote_is_not_cut():
    text = "On Monday the electrician wrote: all circuits tested.\nCertificate to follow."

    parsed = parse(message(text=text))

    assert (parsed.text, parsed.quoted) == (text, "")


def test_hyphen_lists_and_sign_offs_stay_in_the_note():
    text = "Snag list:\n- two doors to re-align\n- one hinge\n\nThanks, the tiler starts Monday.\nKind regards,\nDan"

    assert parse(message(text=text)).text == text


def test_indentation_in_the_note_is_kept():
    text = "Measurements:\n    width 2400\n    depth 600"

    assert parse(message(text=text)).text == text


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from my Android device",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Von meinem iPhone gesendet",
    ],
)
def test_mobile_signature_is_removed(signature):
    parsed = parse(message(text=f"Boiler fitted.\n\n{signature}\n"))

    assert parsed.text == "Boiler fitted."


def test_dash_dash_signature_block_is_removed():
    text = "Boiler fitted.\n\n-- \nDan Mercer\nSite Manager | BuildCo\n07700 900123\n"

    assert parse(message(text=text)).text == "Boiler fitted."


# -- HTML bodies ------------------------------------------------------------------------


def test_html_only_body_becomes_clean_text():
    html = (
        "<html><head><style>p {margin:0}</style></head><body><p>Hi Jane,</p>"
        "<p>Choose <b>Sage</b> or <b>Chalk</b> by Friday.</p><script>alert('x')</script>"
        '<img src="https://tracker.example/pixel.gif" width="1" height="1"></body></html>'
    )

    parsed = parse(message(text=None, html=html))

    assert parsed.text == "Hi Jane,\n\nChoose Sage or Chalk by Friday."
    assert parsed.attachments == ()


def test_html_only_outlook_reply_drops_the_quote():
    html = (
        "<div>Tiles ordered.</div><div>Dan</div><hr><div id='divRplyFwdMsg'><b>From:</b> Jane Holloway<br>"
        "<b>Sent:</b> Tuesday, 25 November 2025 09:12<br><b>To:</b> Dan<br><b>Subject:</b> tiles</div>"
        "<div>Sage please</div>"
    )

    parsed = parse(message(text=None, html=html))

    assert parsed.text == "Tiles ordered.\nDan"
    assert "Sage please" in parsed.quoted


def test_plain_text_is_preferred_over_html():
    parsed = parse(message(text="Plain version.", html="<p>HTML version.</p>"))

    assert parsed.text == "Plain version."


# -- attachments ------------------------------------------------------------------------


def with_inline_image(image: bytes) -> EmailMessage:
    msg = message(text="See photo below.", html='<p>See photo below.</p><img src="cid:photo1@buildco">')
    msg.get_payload()[1].add_related(image, "image", "jpeg", cid="<photo1@buildco>", filename="worktop.jpg")
    return msg


def test_cid_image_is_inline():
    image = jpeg()

    (attachment,) = parse(with_inline_image(image)).attachments

    assert attachment.inline is True
    assert attachment.content_id == "photo1@buildco"
    assert (attachment.filename, attachment.content_type, attachment.payload) == ("worktop.jpg", "image/jpeg", image)


def test_image_both_inline_and_attached_is_listed_once_as_inline():
    image = jpeg()
    msg = with_inline_image(image)
    msg.add_attachment(image, maintype="image", subtype="jpeg", filename="worktop copy.jpg")

    attachments = parse(msg).attachments

    assert len(attachments) == 1
    assert attachments[0].inline is True


def test_cid_image_the_html_never_shows_is_not_inline():
    msg = message(text="Logo only.", html="<p>Logo only.</p>")
    msg.get_payload()[1].add_related(jpeg(), "image", "jpeg", cid="<logo@buildco>", filename="logo.jpg")

    (attachment,) = parse(msg).attachments

    assert attachment.inline is False


def test_identical_attachments_are_listed_once():
    msg = message()
    image = jpeg()
    msg.add_attachment(image, maintype="image", subtype="jpeg", filename="IMG_1.JPG")
    msg.add_attachment(image, maintype="image", subtype="jpeg", filename="IMG_1 (1).JPG")

    assert [a.filename for a in parse(msg).attachments] == ["IMG_1.JPG"]


def test_attachments_keep_message_order_and_types():
    msg = message()
    msg.add_attachment(jpeg((1, 2, 3)), maintype="image", subtype="jpeg", filename="a.jpg")
    msg.add_attachment(b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="b.pdf")
    msg.add_attachment(b"\x00\x00\x00\x18ftypmp42", maintype="video", subtype="mp4", filename="c.mp4")
    msg.add_attachment(jpeg((9, 8, 7)), maintype="image", subtype="jpeg", filename="d.jpg")

    attachments = parse(msg).attachments

    assert [(a.filename, a.content_type) for a in attachments] == [
        ("a.jpg", "image/jpeg"),
        ("b.pdf", "application/pdf"),
        ("c.mp4", "video/mp4"),
        ("d.jpg", "image/jpeg"),
    ]
    assert attachments[1].payload == b"%PDF-1.4 quote"
    assert not any(a.inline for a in attachments)


def test_rfc2231_utf8_filename_is_decoded():
    msg = message()
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="Variation V-03 – island socket.pdf")
    assert b"filename*=utf-8''" in msg.as_bytes()

    assert parse(msg).attachments[0].filename == "Variation V-03 – island socket.pdf"


def test_rfc2231_latin1_filename_is_decoded():
    msg = message()
    msg.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="PLACEHOLDER.jpg")
    raw = msg.as_bytes().replace(b'filename="PLACEHOLDER.jpg"', b"filename*=iso-8859-1''K%FCche.jpg")

    assert parse_email(raw).attachments[0].filename == "Küche.jpg"


def test_encoded_word_filename_is_decoded():
    msg = message()
    msg.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="PLACEHOLDER.jpg")
    raw = msg.as_bytes().replace(b'filename="PLACEHOLDER.jpg"', b'filename="=?utf-8?b?S8O8Y2hlLmpwZw==?="')

    assert parse_email(raw).attachments[0].filename == "Küche.jpg"


@pytest.mark.parametrize(("raw_name", "name"), [(b"K\xfcche.jpg", "Küche.jpg"), (b"K\xc3\xbcche.jpg", "Küche.jpg")])
def test_raw_8bit_filename_is_decoded(raw_name, name):
    msg = message()
    msg.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="PLACEHOLDER.jpg")
    raw = msg.as_bytes().replace(b"PLACEHOLDER.jpg", raw_name)

    assert parse_email(raw).attachments[0].filename == name


@pytest.mark.parametrize(
    ("unsafe", "safe"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\dan\\IMG_0001.JPG", "IMG_0001.JPG"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  ..hidden.jpg. ", "hidden.jpg"),
    ],
)
def test_filename_is_made_safe(unsafe, safe):
    msg = message()
    msg.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename=unsafe)

    assert parse(msg).attachments[0].filename == safe


def test_nameless_photo_gets_a_name_from_its_type():
    msg = message()
    msg.make_mixed()
    photo = EmailMessage()
    photo.set_content(jpeg(), "image", "jpeg")
    del photo["Content-Disposition"]
    msg.attach(photo)

    (attachment,) = parse(msg).attachments

    assert (attachment.filename, attachment.content_type) == ("attachment-1.jpg", "image/jpeg")


def test_signature_parts_are_not_attachments():
    msg = message()
    msg.add_attachment(
        b"-----BEGIN PGP SIGNATURE-----", maintype="application", subtype="pgp-signature", filename="sig.asc"
    )

    assert parse(msg).attachments == ()


# -- automated mail ---------------------------------------------------------------------


def test_person_is_not_automated():
    assert parse(message()).automated is None


def test_auto_reply_is_marked_automated():
    msg = message(subject="Automatic reply: Site update", text="I am away.")
    msg["Auto-Submitted"] = "auto-replied"

    assert parse(msg).automated == "auto-reply (Auto-Submitted: auto-replied)"


def test_bounce_lists_its_failed_recipient():
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\nTo: bounces@updates.example.com\n"
        b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nCould not deliver.\n\n"
        b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        b"Final-Recipient: rfc822; Old.Address@Mailbox.Example\nAction: failed\nStatus: 5.1.1\n\n"
        b"--B--\n"
    )

    parsed = parse_email(raw)

    assert parsed.automated == "bounce (delivery status report)"
    assert parsed.bounced_recipients == ("old.address@mailbox.example",)


# -- any input --------------------------------------------------------------------------


def nested_multipart(depth: int) -> bytes:
    head = b"From: dan@buildco.example\nSubject: Deep\nMIME-Version: 1.0\n"
    parts = [head]
    for level in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level))
    parts.append(b"Content-Type: text/plain\n\nbottom\n")
    return b"".join(parts)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe",
        b"\n\n\n",
        b"Subject: only a header",
        b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n!!!",
        b"Content-Type: text/plain; charset=x-no-such-charset\n\n\xff\xfe text",
        b"Content-Type: text/plain; charset=base64\n\nbody",
        b"From: =?utf-8?q?broken\nDate: Mon, 99 Foo 2025 99:99:99 +9999\n\nbody",
        bytes(random.Random(7).randrange(256) for _ in range(4000)),
        nested_multipart(2000),
    ],
    ids=[
        "empty",
        "binary",
        "blank lines",
        "header only",
        "bad base64",
        "unknown charset",
        "codec charset",
        "bad headers",
        "random bytes",
        "deep nesting",
    ],
)
def test_any_bytes_parse_without_raising(raw):
    parsed = parse_email(raw)

    assert parsed.title and parsed.kind in KINDS
    assert all(unicodedata.category(ch) != "Cc" or ch in "\n\t" for ch in parsed.text)


def test_deeply_nested_message_keeps_its_headers():
    parsed = parse_email(nested_multipart(2000))

    assert (parsed.title, parsed.from_address) == ("Deep", "dan@buildco.example")


def test_long_line_starting_with_on_parses_quickly():
    text = ("On Monday the tiler came and " * 3000) + "\nMore."
    started = time.perf_counter()

    parsed = parse(message(text=text))

    assert time.perf_counter() - started < 5
    assert parsed.text.endswith("More.")


def test_truncated_multipart_keeps_its_note_and_photo():
    # mail-parser 4.8 raises AttributeError on this shape (sisimai's lhost-sendgrid-01 has it too).
    photo = base64.encodebytes(jpeg()).decode()
    raw = (
        "From: Dan <dan@buildco.example>\nSubject: [Delay] Worktop\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="outer"\n\n'
        "--outer\nContent-Type: text/plain\n\nMachine down, worktop moves to 12 Dec.\n\n"
        '--outer\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="cab.jpg"\n\n'
        f"{photo}\n"
        '--outer\nContent-Type: multipart/alternative; boundary="inner"\n\nthe rest never arrived\n'
    ).encode()

    parsed = parse_email(raw)

    assert (parsed.kind, parsed.title, parsed.text) == ("delay", "Worktop", "Machine down, worktop moves to 12 Dec.")
    assert [(a.filename, a.payload) for a in parsed.attachments] == [("cab.jpg", jpeg())]


def test_falls_back_to_the_stdlib_parser_when_mail_parser_fails(monkeypatch):
    def broken(raw):
        raise mailparser.exceptions.MailParserError("boom")

    monkeypatch.setattr(mailparser, "parse_from_bytes", broken)
    msg = with_inline_image(jpeg())
    msg.replace_header("Subject", "[Delay] Worktop")

    parsed = parse(msg)

    assert (parsed.kind, parsed.title, parsed.text) == ("delay", "Worktop", "See photo below.")
    assert [a.inline for a in parsed.attachments] == [True]


# -- the shared samples and public test mail ------------------------------------------


def test_sample_iphone_photos():
    parsed = parse_email(sample("01-iphone-three-photos-exif-rotated.eml"))

    assert parsed.title == "Demolition done"
    assert [a.content_type for a in parsed.attachments] == ["image/jpeg"] * 3
    assert [a.filename for a in parsed.attachments] == ["IMG_4101.JPG", "IMG_4102.JPG", "IMG_4103.JPG"]
    assert "Sent from my iPhone" not in parsed.text
    assert parsed.text.startswith("Old units out")


def test_sample_gmail_reply():
    parsed = parse_email(sample("03-gmail-reply-inline-image-and-pdf.eml"))

    assert parsed.title == "Worktop templating"
    assert "wrote:" not in parsed.text and "when are they coming" not in parsed.text
    assert "when are they coming to template?" in parsed.quoted
    assert [(a.filename, a.inline) for a in parsed.attachments] == [
        ("worktop.jpg", True),
        ("template-drawing.pdf", False),
    ]
    assert parsed.attachments[0].content_id == "ii_worktop01"


def test_sample_outlook_html_decision():
    parsed = parse_email(sample("04-outlook-html-only-decision.eml"))

    assert (parsed.kind, parsed.title) == ("decision", "Splashback tile colour")
    assert "We need your choice of splashback tile by Friday so we can order: Sage or Chalk." in parsed.text
    assert "alert" not in parsed.text and "tracker" not in parsed.text and "MsoNormal" not in parsed.text
    assert parsed.attachments == ()


def test_sample_latin1_stage_change():
    parsed = parse_email(sample("05-stage-change-latin1-umlaut-filename.eml"))

    assert parsed.kind == "stage"
    assert "Installation – Küche" in parsed.title
    assert parsed.text == "Die Montage der Küche hat begonnen. Nächster Schritt: Arbeitsplatte."
    assert [a.filename for a in parsed.attachments] == ["Küche – Montage.jpg"]


def test_sample_delay_with_video():
    parsed = parse_email(sample("06-delay-with-iphone-video.eml"))

    assert parsed.kind == "delay"
    assert [a.content_type for a in parsed.attachments] == ["video/quicktime"]
    assert "Sent from my iPhone" not in parsed.text


def test_sample_variation_with_rfc2231_pdf():
    parsed = parse_email(sample("07-variation-pdf-rfc2231-filename.eml"))

    assert (parsed.kind, parsed.title) == ("variation", "Extra socket on island (+£180)")
    assert [a.filename for a in parsed.attachments] == ["Variation V-03 – island socket.pdf"]
    assert parsed.attachments[0].payload.startswith(b"%PDF")


def test_sample_milestone_with_video_and_photos():
    parsed = parse_email(sample("08-milestone-handover-mp4-and-photos.eml"))

    assert parsed.kind == "milestone"
    assert sorted(a.content_type for a in parsed.attachments) == ["image/jpeg", "image/jpeg", "video/mp4"]


def test_sample_out_of_office_is_automated():
    assert (
        parse_email(sample("09-out-of-office-auto-reply.eml")).automated == "auto-reply (Auto-Submitted: auto-replied)"
    )


def test_sample_bounce_is_automated_and_names_the_address():
    parsed = parse_email(sample("10-bounce-dsn.eml"))

    assert parsed.automated is not None
    assert parsed.bounced_recipients == ("old.address@mailbox.example",)


def test_every_corpus_file_parses_to_something_usable():
    if not CORPUS.is_dir():
        absent(f"shared corpus not present at {CORPUS}")
    files = sorted(path for path in CORPUS.rglob("*") if path.is_file())
    problems = []
    for path in files:
        raw = path.read_bytes()
        parsed = parse_email(raw)
        subject_sent = bool(str(email.message_from_bytes(raw).get("Subject", "")).strip())
        if not parsed.title or parsed.kind not in KINDS or (subject_sent and not parsed.subject):
            problems.append(f"{path}: title={parsed.title!r} subject={parsed.subject!r}")
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in parsed.text + parsed.title):
            problems.append(f"{path}: control characters")
        if any(not a.filename or "/" in a.filename or "\\" in a.filename or not a.payload for a in parsed.attachments):
            problems.append(f"{path}: bad attachment {[a.filename for a in parsed.attachments]}")

    assert len(files) > 250
    assert problems == []
