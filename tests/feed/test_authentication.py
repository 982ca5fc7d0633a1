"""Judging forged staff senders: our own Authentication-Results, and DKIM verified here with real keys."""

from __future__ import annotations

import base64
import shutil
import subprocess
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from email.policy import default as default_policy

import dkim
import pytest

from feed.authentication import (
    MAX_SIGNATURES,
    AuthResult,
    address_domain,
    judge_sender,
    parse_authentication_results,
    trusted_results,
)
from tests.conftest import absent

OURS = "mx.updates.example.com"
STAFF = {"buildco.example"}
JANE = "jane@buildco.example"


def note(*, sender: str = f"Jane Site <{JANE}>", headers: tuple[tuple[str, str], ...] = ()) -> EmailMessage:
    """A short site update from staff, with extra headers added on top the way relays prepend them."""
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    msg["From"] = sender
    msg["To"] = "holloway-kitchen@updates.example.com"
    msg["Subject"] = "Pour scheduled"
    msg["Message-ID"] = "<pour-1@buildco.example>"
    msg.set_content("Pouring the slab on Thursday at 8.\n")
    return msg


def headers_only(raw: bytes) -> Message:
    """Parse the way the gateway does at DATA."""
    return BytesParser(policy=compat32).parsebytes(raw, headersonly=True)


def judge(msg: Message, **options):
    options.setdefault("envelope_from", JANE)
    options.setdefault("staff_domains", STAFF)
    options.setdefault("authserv_id", OURS)
    return judge_sender(msg, **options)


# --- Reading Authentication-Results -------------------------------------------------------------


def test_parse_reads_methods_results_and_properties():
    server, results = parse_authentication_results(
        f"{OURS}; dkim=pass header.d=buildco.example header.s=s1; spf=fail smtp.mailfrom={JANE}; "
        "dmarc=fail (p=reject dis=none) header.from=buildco.example"
    )
    assert server == OURS
    assert [(r.method, r.result) for r in results] == [("dkim", "pass"), ("spf", "fail"), ("dmarc", "fail")]
    assert results[0].prop("header.d") == "buildco.example"
    assert results[0].prop("header.s") == "s1"
    assert results[1].prop("smtp.mailfrom") == JANE
    assert results[2].prop("header.from") == "buildco.example"


def test_parse_drops_comments_even_with_semicolons_and_equals_inside():
    server, results = parse_authentication_results(
        f"{OURS} (Postfix; a=b (nested; dkim=pass)) ; dkim=fail (bad sig; x=y) header.d=buildco.example"
    )
    assert server == OURS
    assert [(r.method, r.result, r.prop("header.d")) for r in results] == [("dkim", "fail", "buildco.example")]


def test_parse_unfolds_folded_lines_and_reads_version_and_quoted_values():
    _, results = parse_authentication_results(
        f'{OURS} 1;\r\n\tdkim=fail\r\n  reason="signature verification failed; body changed"\r\n'
        '\theader.i="@buildco.example" header.b="abc\\"def";\r\n dmarc=pass header.from=buildco.example'
    )
    assert [(r.method, r.result) for r in results] == [("dkim", "fail"), ("dmarc", "pass")]
    assert results[0].reason == "signature verification failed; body changed"
    assert results[0].prop("header.i") == "@buildco.example"
    assert results[0].prop("header.b") == 'abc"def'


def test_parse_starts_a_new_result_at_each_method_when_semicolons_are_missing():
    _, results = parse_authentication_results(
        f"{OURS} dkim=pass header.d=buildco.example dmarc=fail header.from=buildco.example"
    )
    assert [(r.method, r.result) for r in results] == [("dkim", "pass"), ("dmarc", "fail")]
    assert results[0].prop("header.d") == "buildco.example"
    assert results[1].prop("header.from") == "buildco.example"


def test_parse_joins_a_quoted_local_part_to_its_domain():
    _, results = parse_authentication_results(f'{OURS}; spf=fail smtp.mailfrom="jane site"@buildco.example')
    assert address_domain(results[0].prop("smtp.mailfrom")) == "buildco.example"


def test_parse_reads_none_as_no_results():
    assert parse_authentication_results(f"{OURS}; none") == (OURS, [])


def test_parse_without_authserv_id_trusts_nobody():
    assert parse_authentication_results("dmarc=fail header.from=buildco.example") == ("", [])


@pytest.mark.parametrize(
    "value",
    [
        "",
        ";;;",
        "=",
        "==;=",
        f"{OURS}; =fail",
        f"{OURS}; dkim",
        f"{OURS}; dkim=",
        f"{OURS}; dkim=fail header.d=",
        f"{OURS}; (unterminated comment dkim=fail",
        f'{OURS}; dkim="unterminated',
        f"{OURS}; dkim=fail \\",
        f"{OURS}; dkim=fail ) header.d=buildco.example)",
        f"{OURS}; )))(((",
        f"{OURS}\x00; dkim=\udcff\x07",
        f"{OURS}; " + "dkim=fail header.d=x; " * 2000,
        "(" * 5000,
        '"' * 5001,
    ],
)
def test_garbage_header_never_raises(value):
    server, results = parse_authentication_results(value)
    assert isinstance(server, str)
    assert all(isinstance(r, AuthResult) for r in results)
    msg = Message()
    msg["Authentication-Results"] = value
    msg["From"] = JANE
    assert isinstance(judge(msg).forged, bool)


def test_garbage_raw_header_bytes_never_raise():
    raw = (
        b"Authentication-Results: mx.updates.example.com; dmarc=fail \xff\xfe header.from=buildco.example\r\n"
        b"Authentication-Results: =?utf-8?q?=E2=80=AE?=; (\r\n"
        b"From: Jane <jane@buildco.example>\r\n\r\nbody\r\n"
    )
    for policy in (compat32, default_policy):
        msg = BytesParser(policy=policy).parsebytes(raw)
        verdict = judge(msg)
        assert verdict.forged
        assert "buildco.example" in verdict.reason


def test_trusted_results_ignore_other_servers():
    msg = note(
        headers=(
            ("Authentication-Results", f"{OURS}; dkim=pass header.d=buildco.example"),
            ("Authentication-Results", "mx.evil.example; dmarc=fail header.from=buildco.example"),
        )
    )
    results = trusted_results(msg, OURS)
    assert [(r.authserv_id, r.method) for r in results] == [(OURS, "dkim")]


def test_trusted_results_match_authserv_id_case_insensitively():
    msg = note(headers=(("Authentication-Results", "MX.Updates.Example.COM; dmarc=fail"),))
    assert [r.method for r in trusted_results(msg, OURS)] == ["dmarc"]


@pytest.mark.parametrize("authserv_id", [None, "", "  "])
def test_trusted_results_need_a_configured_authserv_id(authserv_id):
    msg = note(headers=(("Authentication-Results", " ; dmarc=fail header.from=buildco.example"),))
    assert trusted_results(msg, authserv_id) == []


# --- Judging with our receiving server's results ------------------------------------------------


def with_results(*values: str, sender: str = f"Jane Site <{JANE}>") -> EmailMessage:
    return note(sender=sender, headers=tuple(("Authentication-Results", v) for v in values))


def test_dmarc_fail_for_a_staff_domain_is_forged():
    verdict = judge(with_results(f"{OURS}; dkim=none; dmarc=fail (p=reject) header.from=buildco.example"))
    assert verdict.forged
    assert verdict.reason == f"DMARC failed for buildco.example (checked by {OURS})"
    assert verdict.checked_by == f"upstream:{OURS}"


def test_dmarc_fail_without_header_from_is_about_the_from_header():
    verdict = judge(with_results(f"{OURS}; dmarc=fail"))
    assert verdict.forged
    assert "buildco.example" in verdict.reason


def test_dmarc_pass_is_not_forged():
    verdict = judge(with_results(f"{OURS}; dkim=pass header.d=buildco.example; dmarc=pass header.from=buildco.example"))
    assert not verdict.forged
    assert verdict.checked_by == f"upstream:{OURS}"
    assert "dmarc=pass" in verdict.reason


def test_dmarc_fail_from_someone_elses_server_is_ignored():
    verdict = judge(with_results("mx.relay.example; dmarc=fail header.from=buildco.example"))
    assert not verdict.forged
    assert verdict.checked_by == ""


def test_our_failure_wins_over_a_forged_pass():
    verdict = judge(
        with_results(
            f"{OURS}; dkim=fail header.d=buildco.example; dmarc=fail header.from=buildco.example",
            "mx.buildco.example; dkim=pass header.d=buildco.example; dmarc=pass header.from=buildco.example",
        )
    )
    assert verdict.forged


def test_a_dkim_pass_from_another_server_does_not_rescue_our_dkim_fail():
    verdict = judge(
        with_results(
            f"{OURS}; dkim=fail header.d=buildco.example",
            "mx.buildco.example; dkim=pass header.d=buildco.example",
        )
    )
    assert verdict.forged
    assert verdict.reason.startswith("DKIM signature by buildco.example failed")


def test_a_failed_and_a_passed_signature_by_the_staff_domain_is_not_forged():
    verdict = judge(
        with_results(f"{OURS}; dkim=fail header.d=buildco.example header.s=old; dkim=pass header.d=buildco.example")
    )
    assert not verdict.forged


def test_a_pass_by_an_unrelated_domain_does_not_rescue_a_staff_signature_that_failed():
    verdict = judge(with_results(f"{OURS}; dkim=fail header.d=buildco.example; dkim=pass header.d=mailer.example"))
    assert verdict.forged


def test_a_pass_by_a_subdomain_of_the_staff_domain_counts():
    verdict = judge(
        with_results(f"{OURS}; dkim=fail header.d=buildco.example; dkim=pass header.i=@mail.buildco.example")
    )
    assert not verdict.forged


def test_failures_for_a_clients_domain_are_not_our_business():
    msg = with_results(
        f"{OURS}; dkim=fail header.d=client.example; dmarc=fail header.from=client.example",
        sender="Clara Client <clara@client.example>",
    )
    verdict = judge(msg, envelope_from="clara@client.example")
    assert not verdict.forged
    assert "not at a staff domain (client.example)" in verdict.reason


def test_every_from_header_is_judged():
    # A second From, as a forger might add; the gateway's parser keeps both.
    msg = with_results(f"{OURS}; dkim=fail header.d=buildco.example")
    assert judge(headers_only(b"From: Clara <clara@client.example>\n" + msg.as_bytes())).forged


def test_spf_fail_for_the_staff_envelope_domain_is_forged():
    verdict = judge(with_results(f"{OURS}; spf=fail smtp.mailfrom={JANE}; dkim=none; dmarc=none"))
    assert verdict.forged
    assert "SPF failed for buildco.example" in verdict.reason


@pytest.mark.parametrize("mailfrom", ["buildco.example", "<jane@BuildCo.example>"])
def test_spf_reads_a_bare_domain_or_an_address(mailfrom):
    assert judge(with_results(f"{OURS}; spf=fail smtp.mailfrom={mailfrom}"), envelope_from="").forged


@pytest.mark.parametrize("result", ["softfail", "neutral", "none", "temperror"])
def test_weaker_spf_results_are_not_forged(result):
    assert not judge(with_results(f"{OURS}; spf={result} smtp.mailfrom={JANE}")).forged


def test_signed_domains_must_have_a_passing_signature():
    msg = with_results(f"{OURS}; dkim=none; spf=pass smtp.mailfrom={JANE}")
    assert judge(msg, signed_domains={"buildco.example"}).forged
    assert not judge(msg).forged


PLANTED = (
    ("X-MailFrom", "someone@evil.example"),
    ("X-RcptTo", "holloway-kitchen@updates.example.com"),
    ("X-Peer", "127.0.0.1"),
    ("X-Original-Authentication-Results", f"{OURS}; dkim=pass header.d=buildco.example; spf=pass"),
    ("ARC-Authentication-Results", f"i=1; {OURS}; dkim=pass header.d=buildco.example; spf=pass"),
)


def test_planted_envelope_headers_do_not_change_the_envelope():
    # SPF failed for the envelope sender, and a planted X-MailFrom names a domain that is not staff.
    ours = ("Authentication-Results", f"{OURS}; spf=fail; dkim=none")
    plain, dressed = judge(note(headers=(ours,))), judge(note(headers=(*PLANTED, ours)))
    assert plain.forged
    assert dressed == plain


def test_planted_results_do_not_rescue_our_failure():
    ours = ("Authentication-Results", f"{OURS}; dkim=fail header.d=buildco.example")
    plain, dressed = judge(note(headers=(ours,))), judge(note(headers=(*PLANTED, ours)))
    assert plain.forged
    assert dressed == plain


def test_planted_headers_alone_are_not_results():
    verdict = judge(note(headers=PLANTED))
    assert verdict.checked_by == ""
    assert trusted_results(note(headers=PLANTED), OURS) == []


def test_with_results_from_our_server_the_local_check_is_not_used(signer):
    raw = tampered(signer.sign(note()))
    msg = headers_only(
        b"Authentication-Results: " + OURS.encode() + b"; dmarc=pass header.from=buildco.example\r\n" + raw
    )
    verdict = judge(msg, raw=raw, verify_dkim=True, dns=signer.dns)
    assert not verdict.forged
    assert verdict.checked_by == f"upstream:{OURS}"


def test_nothing_checked_is_not_forged_and_says_so():
    for authserv_id in (OURS, None):
        verdict = judge(note(), authserv_id=authserv_id)
        assert not verdict.forged
        assert verdict.checked_by == ""
        assert verdict.reason.startswith("not checked")


# --- DKIM verified here -------------------------------------------------------------------------


def rsa_private_key() -> bytes:
    """Make a 2048-bit RSA key in the PKCS#1 PEM form dkimpy signs with, the way its dknewkey does: openssl."""
    if shutil.which("openssl") is None:
        absent("openssl is needed to make a DKIM test key")
    # OpenSSL 3 writes PKCS#8 unless told -traditional; 1.1 writes PKCS#1 and has no such flag.
    for command in (["openssl", "genrsa", "-traditional", "2048"], ["openssl", "genrsa", "2048"]):
        made = subprocess.run(command, capture_output=True)
        if made.returncode == 0 and b"BEGIN RSA PRIVATE KEY" in made.stdout:
            return made.stdout
    absent("openssl could not make a PKCS#1 RSA key")


class Signer:
    """A DKIM key for a domain, and the DNS that publishes it."""

    def __init__(self, domain: str = "buildco.example", selector: str = "s2024") -> None:
        self.domain, self.selector = domain, selector
        self.private_pem = rsa_private_key()
        public_der = subprocess.run(
            ["openssl", "rsa", "-pubout", "-outform", "DER"], input=self.private_pem, capture_output=True, check=True
        ).stdout
        self.records = {f"{selector}._domainkey.{domain}.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)}
        self.lookups: list[str] = []

    def sign(self, msg: Message, *, domain: str | None = None) -> bytes:
        raw = msg.as_bytes()
        return dkim.sign(raw, self.selector.encode(), (domain or self.domain).encode(), self.private_pem) + raw

    def dns(self, name: bytes, timeout: float = 5) -> bytes | None:
        self.lookups.append(name.decode())
        return self.records.get(name.decode())


@pytest.fixture(scope="module")
def keys() -> dict[str, Signer]:
    return {"staff": Signer(), "client": Signer("client.example"), "other": Signer(selector="s2024")}


@pytest.fixture
def signer(keys) -> Signer:
    keys["staff"].lookups.clear()
    return keys["staff"]


def tampered(raw: bytes) -> bytes:
    changed = raw.replace(b"Thursday", b"Friday")
    assert changed != raw
    return changed


def local(raw: bytes, dns, **options):
    return judge(headers_only(raw), raw=raw, verify_dkim=True, dns=dns, authserv_id=None, **options)


def test_a_valid_staff_signature_is_not_forged(signer):
    verdict = local(signer.sign(note()), signer.dns)
    assert not verdict.forged
    assert verdict.checked_by == "dkim:local"
    assert "dkim=pass" in verdict.reason
    assert signer.lookups == ["s2024._domainkey.buildco.example."]


def test_a_changed_body_is_forged(signer):
    verdict = local(tampered(signer.sign(note())), signer.dns)
    assert verdict.forged
    assert verdict.checked_by == "dkim:local"
    assert verdict.reason == "DKIM signature by buildco.example failed: body hash mismatch (DKIM checked here)"


def test_a_changed_from_is_forged(signer):
    raw = signer.sign(note()).replace(b"From: Jane Site <jane@", b"From: Boss <boss@")
    verdict = local(raw, signer.dns, envelope_from="boss@buildco.example")
    assert verdict.forged
    assert "buildco.example failed" in verdict.reason


def test_a_signature_with_someone_elses_key_is_forged(keys, signer):
    # Same selector and domain, a different private key: the published key does not match.
    raw = keys["other"].sign(note())
    assert local(raw, signer.dns).forged


def test_unsigned_mail_is_not_forged_but_says_it_was_not_signed(signer):
    verdict = local(note().as_bytes(), signer.dns)
    assert not verdict.forged
    assert verdict.checked_by == "dkim:local"
    assert "not signed" in verdict.reason
    assert signer.lookups == []


def test_unsigned_mail_from_a_domain_that_always_signs_is_forged(signer):
    verdict = local(note().as_bytes(), signer.dns, signed_domains={"buildco.example"})
    assert verdict.forged
    assert "signs all its mail" in verdict.reason


def test_a_signed_domain_with_a_valid_signature_is_not_forged(signer):
    assert not local(signer.sign(note()), signer.dns, signed_domains={"buildco.example"}).forged


def test_a_second_good_signature_by_the_staff_domain_is_not_forged(keys, signer):
    good = signer.sign(note())
    bad_header = keys["other"].sign(note())[: -len(note().as_bytes())]
    verdict = local(bad_header + good, signer.dns)
    assert not verdict.forged
    assert len(signer.lookups) == 2


def test_a_good_signature_by_another_domain_does_not_rescue_a_failed_staff_one(keys, signer):
    raw = tampered(signer.sign(note()))
    client = keys["client"]
    resigned = dkim.sign(raw, b"s2024", b"client.example", client.private_pem) + raw

    def both(name: bytes, timeout: float = 5) -> bytes | None:
        return signer.dns(name) or client.dns(name)

    assert local(resigned, both).forged


def test_a_failed_signature_for_a_clients_from_is_not_our_business(keys):
    client = keys["client"]
    msg = note(sender="Clara <clara@client.example>")
    verdict = local(tampered(client.sign(msg)), client.dns, envelope_from="clara@client.example")
    assert not verdict.forged


def test_a_missing_public_key_is_not_forged(signer):
    verdict = local(tampered(signer.sign(note())), lambda name, timeout=5: None)
    assert not verdict.forged
    assert "dkim=permerror" in verdict.reason


def test_a_dns_timeout_is_not_forged_and_says_it_could_not_check(signer):
    def timing_out(name: bytes, timeout: float = 5) -> bytes:
        raise dkim.DnsTimeoutError("timed out")

    verdict = local(tampered(signer.sign(note())), timing_out, signed_domains={"buildco.example"})
    assert not verdict.forged
    assert "could not be checked" in verdict.reason


def test_a_broken_dns_lookup_is_not_a_pass(signer):
    def broken(name: bytes, timeout: float = 5) -> bytes:
        raise ValueError("name too long")

    assert not local(signer.sign(note()), broken).forged
    assert local(signer.sign(note()), broken, signed_domains={"buildco.example"}).forged


@pytest.mark.parametrize(
    "signature",
    [
        b"DKIM-Signature: garbage\r\n",
        b"DKIM-Signature: v=1; d=buildco.example; s=s2024\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=buildco.example; s=s2024; h=from; bh=!!; b=??\r\n",
        b"DKIM-Signature: \xff\xfe\r\n",
    ],
)
def test_malformed_signatures_never_raise_and_are_not_forged(signer, signature):
    verdict = local(signature + note().as_bytes(), signer.dns)
    assert not verdict.forged
    assert verdict.checked_by == "dkim:local"
    assert "dkim=permerror" in verdict.reason


@pytest.mark.parametrize("raw", [b"", b"\x00\xff", b"no headers at all", b"DKIM-Signature:\r\n\r\n"])
def test_garbage_bytes_never_raise(signer, raw):
    assert not local(raw, signer.dns).forged


def test_many_signatures_cost_a_bounded_number_of_lookups(keys, signer):
    header = keys["other"].sign(note())[: -len(note().as_bytes())]
    local(header * 50 + note().as_bytes(), signer.dns)
    assert len(signer.lookups) == MAX_SIGNATURES


def test_without_the_raw_bytes_nothing_is_checked(signer):
    verdict = judge(note(), verify_dkim=True, dns=signer.dns, authserv_id=None)
    assert not verdict.forged
    assert verdict.checked_by == ""
    assert signer.lookups == []


def test_local_checking_off_ignores_a_broken_signature(signer):
    raw = tampered(signer.sign(note()))
    verdict = judge(headers_only(raw), raw=raw, dns=signer.dns, authserv_id=None)
    assert not verdict.forged
    assert verdict.checked_by == ""
