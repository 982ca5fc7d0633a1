"""Send an email to the local gateway, as a phone would: a saved .eml file, or a made-up update with a photo."""

from __future__ import annotations

import io
import smtplib
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid, parseaddr

from PIL import Image, ImageDraw


def demo_update(sender: str, to: str) -> bytes:
    """A small update with one generated photo."""
    photo = Image.new("RGB", (1200, 900), (176, 196, 222))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((150, 450, 1050, 800), fill=(139, 90, 43))
    draw.rectangle((150, 380, 1050, 450), fill=(60, 60, 60))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Base units fitted"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    message.set_content(
        "All base units are in and level.\nNext: worktop templating on Thursday.\n\nSent from my iPhone\n"
    )
    message.add_attachment(buffer.getvalue(), maintype="image", subtype="jpeg", filename="IMG_0001.JPG")
    return message.as_bytes()


def with_crlf(raw: bytes) -> bytes:
    """Saved mail often has LF line ends; SMTP carries CRLF (smtplib leaves bytes as they are)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def envelope_from(raw: bytes) -> str:
    """The sender a mail server would give: the From address, or the null sender for a delivery report."""
    headers = BytesHeaderParser().parsebytes(raw)
    if headers.get_content_type() == "multipart/report":
        return ""
    return parseaddr(headers.get("From", ""))[1]


def recipient_of(raw: bytes) -> str:
    return parseaddr(BytesHeaderParser().parsebytes(raw).get("To", ""))[1]


def send_raw(host: str, port: int, raw: bytes, to: str, sender: str | None = None) -> str:
    """Send over SMTP and return the gateway's answer, whether it accepted or refused."""
    with smtplib.SMTP(host, port, timeout=60) as client:
        client.ehlo()
        code, reply = client.mail(sender if sender is not None else envelope_from(raw))
        if code < 400:
            code, reply = client.rcpt(to)
        if code < 400:
            code, reply = client.data(with_crlf(raw))
        return f"{code} {reply.decode(errors='replace')}"
