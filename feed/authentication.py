"""Tell whether mail that claims a staff sender is forged: our own Authentication-Results, or DKIM checked here."""

from __future__ import annotations

import email.message
import email.utils
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace

import dkim

# dkimpy's DNS hook: (name, timeout=seconds) -> the TXT record, or None when there is none.
DnsLookup = Callable[..., bytes | str | None]

DNS_TIMEOUT_SECONDS = 5
# Each signature costs a DNS lookup; a sender could add hundreds of them.
MAX_SIGNATURES = 5
# "hardfail" is the RFC 5451-era spelling of SPF "fail"; softfail and neutral are not failures.
FAILED = frozenset({"fail", "hardfail"})
LOCAL = "dkim:local"


@dataclass(frozen=True)
class AuthResult:
    """One method's result from an Authentication-Results header (RFC 8601), or from our own DKIM check."""

    authserv_id: str
    method: str
    result: str
    reason: str = ""
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, name: str) -> str:
        """Return the first value of a property such as `header.d`; "" when absent."""
        return next((value for key, value in self.properties if key == name), "")


@dataclass(frozen=True)
class AuthVerdict:
    """Whether to hold a message as forged, a sentence saying why, and which check said so."""

    forged: bool
    reason: str
    checked_by: str


def address_domain(address: str) -> str:
    """Return the lowercased domain of an email address; "" when it has none."""
    _, at, domain = (address or "").strip().strip("<>").rpartition("@")
    return domain.strip().strip("<>[]").rstrip(".").lower() if at else ""


def trusted_results(message: email.message.Message, authserv_id: str | None) -> list[AuthResult]:
    """Return the results of the Authentication-Results headers that our own receiving server added."""
    wanted = (authserv_id or "").strip().lower()
    if not wanted:
        return []
    found: list[AuthResult] = []
    for value in _header_values(message, "Authentication-Results"):
        try:
            server, results = parse_authentication_results(value)
        except Exception:
            continue
        # Anyone can write this header; only our server's id counts (RFC 8601 §5: our MTA strips forged copies).
        if server.lower() == wanted:
            found.extend(results)
    return found


def judge_sender(
    message: email.message.Message,
    *,
    envelope_from: str,
    staff_domains: Collection[str],
    authserv_id: str | None,
    raw: bytes | None = None,
    verify_dkim: bool = False,
    dns: DnsLookup | None = None,
    signed_domains: Collection[str] = (),
) -> AuthVerdict:
    """Decide whether a message claiming a staff domain is forged, from trusted results or our own DKIM check."""
    staff = {_clean_domain(domain) for domain in staff_domains if domain}
    signed = {_clean_domain(domain) for domain in signed_domains if domain} & staff
    results = trusted_results(message, authserv_id)
    if results:
        server = _shown((authserv_id or "").strip())
        return _judge(message, results, envelope_from, staff, signed, f"upstream:{server}", f"checked by {server}")
    if verify_dkim and raw:
        return _judge(message, verify_signatures(raw, dns), envelope_from, staff, signed, LOCAL, "DKIM checked here")
    if verify_dkim:
        return AuthVerdict(False, "not checked: the message bytes were not available for a DKIM check", "")
    if authserv_id:
        return AuthVerdict(False, f"not checked: no Authentication-Results from {_shown(authserv_id)}", "")
    return AuthVerdict(False, "not checked: no trusted authentication server and DKIM checking is off", "")


def parse_authentication_results(value: str) -> tuple[str, list[AuthResult]]:
    """Read one Authentication-Results value into its authserv-id and results, tolerating sloppy syntax."""
    tokens = _tokens(value)
    if not tokens or tokens[0][0] not in ("word", "quoted") or (len(tokens) > 1 and tokens[1][0] == "="):
        return "", []
    server, rest = tokens[0][1].strip(), tokens[1:]
    results: list[AuthResult] = []
    open_result = False
    i = 0
    while i < len(rest):
        kind, text = rest[i]
        if kind == ";":
            open_result = False
            i += 1
            continue
        if kind != "word" or i + 1 >= len(rest) or rest[i + 1][0] != "=":
            i += 1  # a stray word: the authres-version, "none", or a value with no name
            continue
        has_value = i + 2 < len(rest) and rest[i + 2][0] in ("word", "quoted")
        key, pvalue = text.lower(), rest[i + 2][1] if has_value else ""
        i += 3 if has_value else 2
        if key == "reason":
            if open_result:
                results[-1] = replace(results[-1], reason=pvalue)
        elif "." in key:
            if open_result:
                results[-1] = replace(results[-1], properties=(*results[-1].properties, (key, pvalue)))
        else:
            # A method name starts a new result even without the ";" that should come first.
            results.append(AuthResult(server, key.split("/", 1)[0], pvalue.lower()))
            open_result = True
    return server, results


def verify_signatures(raw: bytes, dns: DnsLookup | None = None) -> list[AuthResult]:
    """Verify the message's DKIM signatures here, each as a `dkim` result like a receiving server would write."""
    try:
        checker = dkim.DKIM(raw, timeout=DNS_TIMEOUT_SECONDS)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except Exception:
        return []
    return [_verify_one(checker, index, dns) for index in range(min(count, MAX_SIGNATURES))]


class _Lookups:
    """Wrap a DNS lookup to remember what happened: dkimpy reports a missing key or a timeout as a plain False."""

    def __init__(self, lookup: DnsLookup) -> None:
        self.lookup = lookup
        self.key: bytes | str | None = None
        self.timed_out = False

    def __call__(self, name: bytes, timeout: float = DNS_TIMEOUT_SECONDS) -> bytes | str | None:
        try:
            self.key = self.lookup(name, timeout=timeout)
        except dkim.DnsTimeoutError:
            self.timed_out = True
            raise
        return self.key


def _verify_one(checker: dkim.DKIM, index: int, dns: DnsLookup | None) -> AuthResult:
    lookups = _Lookups(dns or dkim.dnsplug.get_txt)
    checker.signature_fields = {}
    detail = ""
    try:
        verified = checker.verify(idx=index, dnsfunc=lookups)
    except dkim.ValidationError as exc:
        verified, detail = False, _first_clause(exc)
    except Exception as exc:
        return _local_result(checker, "temperror" if lookups.timed_out else "permerror", _first_clause(exc))
    if verified:
        return _local_result(checker, "pass", "")
    if lookups.timed_out:
        return _local_result(checker, "temperror", "the key lookup timed out")
    if not lookups.key:
        # No key, or a malformed or expired signature that never got as far as the lookup: not a forgery proof.
        return _local_result(checker, "permerror", detail or "no public key is published for it")
    return _local_result(checker, "fail", detail or "the signature does not match the message")


def _local_result(checker: dkim.DKIM, result: str, reason: str) -> AuthResult:
    fields = checker.signature_fields or {}
    domain = bytes(fields.get(b"d", b"")).decode("ascii", "replace")
    selector = bytes(fields.get(b"s", b"")).decode("ascii", "replace")
    return AuthResult(LOCAL, "dkim", result, reason, (("header.d", domain), ("header.s", selector)))


def _judge(
    message: email.message.Message,
    results: list[AuthResult],
    envelope_from: str,
    staff: set[str],
    signed: set[str],
    checked_by: str,
    where: str,
) -> AuthVerdict:
    """Apply the rules: a failure counts only when the domain it is about is a staff domain."""
    from_domains = _from_domains(message)
    claimed = [domain for domain in from_domains if domain in staff]

    def forged(reason: str) -> AuthVerdict:
        return AuthVerdict(True, f"{reason} ({where})", checked_by)

    for r in results:
        if r.method == "dmarc" and r.result in FAILED:
            domain = _domain_of(r.prop("header.from")) or (claimed[0] if claimed else "")
            if domain in staff:
                return forged(f"DMARC failed for {_shown(domain)}")
    for domain in claimed:
        # A missing header.d is about the From domain: that is the only domain a DKIM result here can vouch for.
        about = [r for r in results if r.method == "dkim" and _aligned(_dkim_domain(r) or domain, domain)]
        passed = any(r.result == "pass" for r in about)
        failed = [r for r in about if r.result in FAILED]
        if failed and not passed:
            why = f": {_shown(failed[0].reason)}" if failed[0].reason else ""
            return forged(f"DKIM signature by {_shown(_dkim_domain(failed[0]) or domain)} failed{why}")
        if domain in signed and not passed and not any(r.result == "temperror" for r in about):
            return forged(f"{_shown(domain)} signs all its mail, but this message has no valid DKIM signature from it")
    for r in results:
        if r.method == "spf" and r.result in FAILED:
            domain = _domain_of(r.prop("smtp.mailfrom")) or address_domain(envelope_from)
            if domain in staff:
                return forged(f"SPF failed for {_shown(domain)}: the sending server is not one it allows")
    return AuthVerdict(False, _passed_reason(results, claimed, from_domains, checked_by, where), checked_by)


def _passed_reason(
    results: list[AuthResult], claimed: list[str], from_domains: list[str], checked_by: str, where: str
) -> str:
    if not claimed:
        shown = ", ".join(_shown(domain) for domain in from_domains) or "none"
        return f"the From address is not at a staff domain ({shown}), so its authentication is not judged ({where})"
    domain = _shown(claimed[0])
    if checked_by == LOCAL and not results:
        return f"not signed with DKIM, so a forgery claiming {domain} cannot be told ({where})"
    errors = [r for r in results if r.result == "temperror"]
    if checked_by == LOCAL and errors and not any(r.result == "pass" for r in results):
        return f"DKIM for {domain} could not be checked: {_shown(errors[0].reason)} ({where})"
    summary = ", ".join(dict.fromkeys(f"{r.method}={r.result}" for r in results))
    return f"no authentication failure for {domain} ({where}: {_shown(summary, 120)})"


def _dkim_domain(result: AuthResult) -> str:
    return _domain_of(result.prop("header.d")) or _domain_of(result.prop("header.i"))


def _aligned(one: str, other: str) -> bool:
    """Say whether two domains align in DMARC's relaxed sense (approximated without the public suffix list)."""
    return bool(one and other) and (one == other or one.endswith("." + other) or other.endswith("." + one))


def _from_domains(message: email.message.Message) -> list[str]:
    # Every From header and address: a forger may add a second one hoping we read the wrong one.
    values = _header_values(message, "From")
    try:
        addresses = email.utils.getaddresses(values)
    except Exception:
        return []
    return list(dict.fromkeys(domain for _, address in addresses if (domain := address_domain(address))))


def _header_values(message: email.message.Message, name: str) -> list[str]:
    try:
        values: Iterable[object] = message.get_all(name) or []
    except Exception:
        return []
    texts = []
    for value in values:
        try:
            texts.append(str(value))
        except Exception:
            continue
    return texts


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split a header value into words, quoted strings, ";" and "="; drop comments, join what touches."""
    tokens: list[tuple[str, str]] = []
    i, n, touching = 0, len(text), False
    while i < n:
        ch = text[i]
        if ch == "(":
            i, touching = _after_comment(text, i), False
            continue
        if ch.isspace():
            i, touching = i + 1, False
            continue
        if ch in ";=":
            tokens.append((ch, ch))
            i, touching = i + 1, False
            continue
        if ch == '"':
            kind, (piece, i) = "quoted", _quoted(text, i)
        else:
            # A stray ")" belongs to the word: stopping at it would never move past it.
            start, i = i, i + 1
            while i < n and not text[i].isspace() and text[i] not in '(;="':
                i += 1
            kind, piece = "word", text[start:i]
        # `"john doe"@example.com` is one value in two pieces.
        if touching and tokens and tokens[-1][0] in ("word", "quoted"):
            tokens[-1] = ("word", tokens[-1][1] + piece)
        else:
            tokens.append((kind, piece))
        touching = True
    return tokens


def _after_comment(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        i += 1
        if depth == 0:
            break
    return i


def _quoted(text: str, i: int) -> tuple[str, int]:
    chars, i = [], i + 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        chars.append(text[i])
        i += 1
    return "".join(chars), i + 1


def _domain_of(value: str) -> str:
    """Read a domain from a result property, which some servers write as a whole address."""
    return address_domain(value) if "@" in value else _clean_domain(value)


def _clean_domain(value: str) -> str:
    return (value or "").strip().strip("<>[]").rstrip(".").lower()


def _first_clause(exc: BaseException) -> str:
    """Keep the readable start of a dkimpy message, without the hashes it appends in parentheses."""
    return str(exc).split(" (", 1)[0].strip() or type(exc).__name__


def _shown(value: str, limit: int = 80) -> str:
    """Shorten a value for a reason a person reads; header values come from the sender."""
    printable = "".join(ch for ch in value if ch.isprintable())
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"
