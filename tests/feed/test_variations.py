"""Variations: money and time changes from a subject or a note, and what is never read as either."""

from __future__ import annotations

from decimal import Decimal

import pytest

from feed.variations import Money, TimeChange, Variation, parse_money, parse_time_change, parse_variation


def money(amount: str, currency: str = "GBP") -> Money:
    return Money(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+£180", money("180")),
        ("£180", money("180")),
        ("-$250", money("-250", "USD")),
        ("€1.200,00", money("1200", "EUR")),
        ("£1,250.50", money("1250.50")),
        ("+ 250 GBP", money("250")),
        ("EUR 99", money("99", "EUR")),
        ("Extra socket on island (+£180)", money("180")),
    ],
)
def test_money_from_the_issue_examples(text, expected):
    assert parse_money(text) == expected


def test_money_keeps_two_decimal_places():
    assert str(parse_money("£180").amount) == "180.00"
    assert str(parse_money("£12.5").amount) == "12.50"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("99,50 €", money("99.50", "EUR")),
        ("1.200,00 €", money("1200", "EUR")),
        ("€1.200", money("1200", "EUR")),
        ("€1 200,00", money("1200", "EUR")),
        ("1 200 €", money("1200", "EUR")),
        ("€1\u202f200,00", money("1200", "EUR")),
        ("CHF 1'200.50", money("1200.50", "CHF")),
        ("£1,000,000", money("1000000")),
        ("£12.345", money("12345")),
        ("£1234.56", money("1234.56")),
        ("£1234,56", money("1234.56")),
    ],
)
def test_money_reads_european_and_british_number_formats(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250 GBP", money("250")),
        ("GBP250", money("250")),
        ("gbp 250", money("250")),
        ("US$50", money("50", "USD")),
        ("A$75", money("75", "AUD")),
        ("C$40", money("40", "CAD")),
        ("NZ$40", money("40", "NZD")),
        ("extra$50", money("50", "USD")),  # not "a$50", Australian dollars
        ("250 quid", money("250")),
        ("30 euros", money("30", "EUR")),
        ("£ 180", money("180")),
        ("180£", money("180")),
    ],
)
def test_money_reads_symbols_codes_and_words_either_side(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize(("text", "amount"), [("£2k", "2000"), ("£1.5k", "1500"), ("€3K", "3000")])
def test_money_reads_thousands_written_as_k(text, amount):
    assert parse_money(text).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("-£250", "-250"),
        ("£-250", "-250"),
        ("\u2212£250", "-250"),
        ("\u2212 £250", "-250"),
        ("(-£250)", "-250"),
        ("-250 GBP", "-250"),
        ("+£180", "180"),
        ("+ £180", "180"),
    ],
)
def test_money_keeps_an_explicit_sign(text, amount):
    assert parse_money(text).amount == Decimal(amount)


@pytest.mark.parametrize(
    "text", ["Extra socket - £180", "Extra socket – £180", "socket-£180", "Item 3 -£ nothing £180"]
)
def test_money_reads_a_spaced_or_attached_hyphen_as_a_separator(text):
    assert parse_money(text).amount == Decimal("180")


@pytest.mark.parametrize(
    "text",
    ["credit £250", "Credit of £250", "credit: £250", "minus £250", "Refund £250", "saving of £250", "discount £250"],
)
def test_money_reads_a_credit_word_before_the_amount_as_negative(text):
    assert parse_money(text).amount == Decimal("-250")


def test_money_lets_an_explicit_plus_beat_a_credit_word():
    assert parse_money("credit +£250").amount == Decimal("250")


def test_money_takes_the_first_amount():
    assert parse_money("£180 plus £20 fitting").amount == Decimal("180")
    assert parse_money("£180-£200 depending on finish").amount == Decimal("180")
    assert parse_money("+£180 +VAT").amount == Decimal("180")


def test_money_takes_the_amount_next_to_the_symbol_when_numbers_sit_side_by_side():
    assert parse_money("2 £180").amount == Decimal("180")
    assert parse_money("£150 100mm downpipe").amount == Decimal("150")
    assert parse_money("Sockets 2 250 GBP").amount == Decimal("250")


def test_money_reads_a_zero_amount():
    assert parse_money("£0") == money("0")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No cost change",
        "Call me on 07700 900123",
        "+44 20 7946 0958",
        "Delivery 12/12/2025",
        "now 2025-12-12",
        "2x sockets",
        "10% discount",
        "+15%",
        "+2 days",
        "Rev 2 CAD drawings",
        "CAD 2",
        "Width 1.200,00 mm",
        "price £",
        "£1,250,00",
        "£1.2345",
        "GBPX 250",
    ],
)
def test_money_finds_nothing_without_a_currency(text):
    assert parse_money(text) is None


def test_money_ignores_numbers_around_the_amount():
    assert parse_money("2x sockets on 12/12, 10% off: £90 each").amount == Decimal("90")
    assert parse_money("Call 07700 900123 about the £180").amount == Decimal("180")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2 days", TimeChange(2)),
        ("+1 week", TimeChange(7)),
        ("-3 days", TimeChange(-3)),
        ("2 extra days", TimeChange(2)),
        ("plus one week", TimeChange(7)),
        ("+1 working day", TimeChange(1, working=True)),
    ],
)
def test_time_from_the_brief_examples(text, expected):
    assert parse_time_change(text) == expected


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("+ 2 days", 2),
        ("+2 weeks", 14),
        ("+1 wk", 7),
        ("\u22122 days", -2),
        ("minus 3 days", -3),
        ("an extra day", 1),
        ("another week", 7),
        ("a week longer", 7),
        ("1 week extra", 7),
        ("two days extra", 2),
        ("extra 2 days", 2),
        ("further 2 days", 2),
        ("a couple of extra days", 2),
        ("adds a week", 7),
        ("Adds 3 days to the job", 3),
        ("extends the programme by a week", 7),
        ("pushed back by a week", 7),
        ("delay of 3 days", 3),
        ("2-day delay", 2),
        ("2 day delay", 2),
        ("3 days later", 3),
    ],
)
def test_time_reads_more_time_in_many_words(text, days):
    assert parse_time_change(text).days == days


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("3 days less", -3),
        ("2 days ahead", -2),
        ("a week earlier", -7),
        ("saves two days", -2),
        ("saving a week", -7),
        ("shortens the programme by 2 days", -2),
    ],
)
def test_time_reads_less_time_as_negative(text, days):
    assert parse_time_change(text).days == days


def test_time_counts_working_days_as_days_and_flags_them():
    assert parse_time_change("+3 working days") == TimeChange(3, working=True)
    assert parse_time_change("+2 business days") == TimeChange(2, working=True)
    assert parse_time_change("+2 days") == TimeChange(2, working=False)


def test_time_counts_a_working_week_as_five_working_days():
    assert parse_time_change("+2 working weeks") == TimeChange(10, working=True)


@pytest.mark.parametrize("text", ["+2-3 days", "+2–3 days", "+2 to 3 days", "2-3 extra days"])
def test_time_takes_the_upper_end_of_a_range(text):
    assert parse_time_change(text) == TimeChange(3)


@pytest.mark.parametrize(
    "text",
    [
        "no change to the programme",
        "No change to programme",
        "no impact on the schedule",
        "No extra time",
        "no time impact",
        "no delay",
        "won't affect the programme",
        "won’t affect the programme",
        "will not change the completion date",
        "+0 days",
    ],
)
def test_time_reads_an_explicit_no_change_as_zero(text):
    assert parse_time_change(text) == TimeChange(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Extra socket on island",
        "takes 2 days",
        "3 days",
        "done in 2 days flat",
        "worked 2 days on it",
        "extra days",
        "Extra socket - 2 days",
        "+4 hours",
        "+0.5 days",
        "0.5 extra days",
        "1.5 weeks extra",
        "2x sockets",
        "2D drawings (+£180)",
        "holidays from 22 Dec",
        "+£180",
        "the 2 days off",
    ],
)
def test_time_finds_nothing_without_a_stated_change(text):
    assert parse_time_change(text) is None


def test_time_takes_the_first_change():
    assert parse_time_change("+2 days, or +1 week if it rains") == TimeChange(2)
    assert parse_time_change("no change to the programme; +2 days for the sealant to cure") == TimeChange(0)


def test_time_ignores_the_money_next_to_it():
    assert parse_time_change("Extra socket (+£180, +1 day)") == TimeChange(1)


def test_variation_reads_the_subject():
    assert parse_variation("[Variation] Extra socket on island (+£180, +1 day)", "") == Variation(
        money("180"), TimeChange(1)
    )


def test_variation_reads_the_body_when_the_subject_says_nothing():
    found = parse_variation("[Variation] Extra socket", "Cost: £180 + VAT.\nAdds a day to first fix.")
    assert found == Variation(money("180"), TimeChange(1))


def test_variation_prefers_the_subject_to_the_body():
    found = parse_variation("[Variation] Extra socket (+£180, +2 days)", "Was £150 and +1 day last time.")
    assert found == Variation(money("180"), TimeChange(2))


def test_variation_takes_cost_and_time_from_different_places():
    found = parse_variation("[Variation] Extra socket (+£180)", "This adds 2 days.")
    assert found == Variation(money("180"), TimeChange(2))


def test_variation_keeps_an_explicit_no_change_from_the_subject_over_the_body():
    found = parse_variation("[Variation] Socket (+£180, no change to the programme)", "Adds a day.")
    assert found.time == TimeChange(0)


def test_variation_with_nothing_stated():
    assert parse_variation("[Variation] Move the socket", "As discussed on site.") == Variation(None, None)


def test_variation_never_reads_internal_lines():
    body = "Extra socket on the island.\n[internal]\nOur cost £90, margin £40, +3 days really"
    assert parse_variation("[Variation] Extra socket", body) == Variation(None, None)


def test_variation_reads_the_client_part_before_an_internal_marker():
    body = "Extra socket: £180, +1 day.\n--internal--\nOur cost £90, +3 days really"
    assert parse_variation("[Variation] Extra socket", body) == Variation(money("180"), TimeChange(1))


def test_values_are_frozen():
    with pytest.raises(AttributeError):
        money("1").amount = Decimal("2")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        TimeChange(1).days = 2  # type: ignore[misc]
