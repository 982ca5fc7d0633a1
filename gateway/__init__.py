"""The SMTP receiver: decide accept or refuse, save the bytes, queue them."""
