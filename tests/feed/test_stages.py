"""Stages: templates per trade, matching a named stage, placing an unknown one, names from titles."""

from __future__ import annotations

import pytest

from feed.stages import STAGE_TEMPLATES, match_stage, place_stage, stage_name_from_title

RENOVATION = STAGE_TEMPLATES["renovation"]
FABRICATION = STAGE_TEMPLATES["fabrication"]
FURNITURE = STAGE_TEMPLATES["furniture"]


def test_each_trade_has_an_ordered_template():
    assert set(STAGE_TEMPLATES) == {"renovation", "fabrication", "furniture"}
    assert RENOVATION[0] == "Survey" and RENOVATION[-1] == "Handover"
    assert RENOVATION.index("First fix") < RENOVATION.index("Plastering") < RENOVATION.index("Second fix")
    assert FABRICATION.index("Cutting") < FABRICATION.index("Welding and assembly") < FABRICATION.index("Finishing")
    assert FURNITURE.index("Materials") < FURNITURE.index("Making") < FURNITURE.index("Delivery")


def test_templates_are_immutable_tuples_without_duplicates():
    for stages in STAGE_TEMPLATES.values():
        assert isinstance(stages, tuple)
        assert len({stage.casefold() for stage in stages}) == len(stages)


def test_every_template_stage_matches_itself():
    for stages in STAGE_TEMPLATES.values():
        for stage in stages:
            assert match_stage(stage, stages) == stage


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("installation", "Installation"),
        ("INSTALLATION", "Installation"),
        ("  Installation  ", "Installation"),
        ("Installation!", "Installation"),
        ("Second-fix", "Second fix"),
        ("second_fix", "Second fix"),
        ("SecondFix", "Second fix"),
        ("hand-over", "Handover"),
        ("Plastering stage", "Plastering"),
        ("plastering phase", "Plastering"),
        ("Stage: plastering", "Plastering"),
        ("Stage 3 plastering", "Plastering"),
        ("first fix stage", "First fix"),
    ],
)
def test_match_ignores_case_spacing_punctuation_and_stage_words(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("instalation", "Installation"),
        ("installtion", "Installation"),
        ("plastring", "Plastering"),
        ("decoratoin", "Decoration"),
        ("demolitoin", "Demolition"),
        ("frist fix", "First fix"),
        ("sercond fix", "Second fix"),
        ("snaging", "Snagging"),
        ("survay", "Survey"),
    ],
)
def test_match_forgives_misspellings(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plaster", "Plastering"),
        ("plastered", "Plastering"),
        ("install", "Installation"),
        ("installing", "Installation"),
        ("decorating", "Decoration"),
        ("surveying", "Survey"),
        ("snags", "Snagging"),
        ("designs", "Design"),
    ],
)
def test_match_accepts_other_forms_of_the_word(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2nd fix", "Second fix"), ("1st fix", "First fix"), ("2nd-fix", "Second fix"), ("1st Fix Stage", "First fix")],
)
def test_match_reads_ordinals_as_words(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demo", "Demolition"),
        ("strip-out", "Demolition"),
        ("Rip out", "Demolition"),
        ("painting", "Decoration"),
        ("kitchen fitting", "Installation"),
        ("snag list", "Snagging"),
        ("hand over", "Handover"),
        ("practical completion", "Handover"),
    ],
)
def test_match_knows_common_trade_aliases(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Plastering started", "Plastering"),
        ("Starting second fix", "Second fix"),
        ("Second fix in progress", "Second fix"),
        ("Moving to decoration", "Decoration"),
        ("Snagging done", "Snagging"),
        ("Now starting the plastering stage", "Plastering"),
    ],
)
def test_match_ignores_words_saying_a_stage_started_or_ended(name, expected):
    assert match_stage(name, RENOVATION) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Kitchen installation", "Installation"),
        ("first fix electrics", "First fix"),
        ("Second fix plumbing", "Second fix"),
    ],
)
def test_match_finds_a_stage_inside_a_short_longer_name(name, expected):
    assert match_stage(name, RENOVATION) == expected


def test_match_does_not_find_a_stage_word_inside_a_sentence():
    sentence = "waiting on the electrician before we can book the plastering and tiling crews"
    assert match_stage(sentence, RENOVATION) is None


@pytest.mark.parametrize(
    ("name", "stages", "expected"),
    [
        ("Welding", FABRICATION, "Welding and assembly"),
        ("assembly", FABRICATION, "Welding and assembly"),
        ("Welding/Assembly", FABRICATION, "Welding and assembly"),
        ("welding & assembly", FABRICATION, "Welding and assembly"),
        ("cut", FABRICATION, "Cutting"),
        ("delivered", FABRICATION, "Delivery"),
        ("make", FURNITURE, "Making"),
        ("manufacturing", FURNITURE, "Making"),
        ("approved", FURNITURE, "Approval"),
        ("Sign-off", FURNITURE, "Approval"),
        ("materials ordered", FURNITURE, "Materials"),
    ],
)
def test_match_works_for_each_trade(name, stages, expected):
    assert match_stage(name, stages) == expected


def test_roofing_does_not_match_flooring():
    assert match_stage("Roofing", ("Flooring",)) is None
    assert match_stage("Flooring", ("Roofing",)) is None


def test_a_misspelt_flooring_still_matches_flooring():
    assert match_stage("Floring", ("Roofing", "Flooring")) == "Flooring"
    assert match_stage("Roofng", ("Roofing", "Flooring")) == "Roofing"


@pytest.mark.parametrize(
    ("name", "stages"),
    [
        ("Masking", FURNITURE),  # one letter from "Making", but a real word of its own
        ("Tiling", RENOVATION),
        ("Plasterboard", RENOVATION),
        ("Electrics", RENOVATION),
        ("Galvanising", FABRICATION),
        ("Decking", RENOVATION),
        ("Fit", RENOVATION),
        ("Roof", RENOVATION),
    ],
)
def test_match_refuses_a_different_real_stage(name, stages):
    assert match_stage(name, stages) is None


def test_match_refuses_names_equally_close_to_two_stages():
    assert match_stage("Design approval", FURNITURE) is None


def test_match_refuses_names_below_the_threshold():
    assert match_stage("Demolition", ("Decoration",)) is None
    assert match_stage("Decoration", ("Demolition",)) is None
    assert match_stage("First fix", ("Second fix",)) is None


@pytest.mark.parametrize("name", ["", "   ", "—", "stage", "the stage"])
def test_match_returns_none_for_an_empty_name(name):
    assert match_stage(name, RENOVATION) is None


def test_match_returns_none_without_stages():
    assert match_stage("Installation", ()) is None


def test_match_returns_the_stage_as_the_project_spells_it():
    assert match_stage("second FIX", ("Survey", "2nd fix")) == "2nd fix"


def test_match_answers_to_the_head_of_a_stage_with_a_detail():
    assert match_stage("second FIX", ("Survey", "2nd Fix (electrics)")) == "2nd Fix (electrics)"
    assert match_stage("second fix", ("Second fix (electrics)", "Second fix (plumbing)")) is None


def test_match_reads_accents_as_plain_letters():
    assert match_stage("Installatión", RENOVATION) == "Installation"
    assert match_stage("Küche", ("Kuche", "Bad")) == "Kuche"


def test_match_finds_a_short_stage_from_its_long_form():
    assert match_stage("Cutting", ("Cut", "Weld")) == "Cut"
    assert match_stage("Welding", ("Cut", "Weld")) == "Weld"


def test_match_works_on_numbered_stages():
    stages = ("Stage 1", "Stage 2", "Stage 3")
    assert match_stage("stage 2", stages) == "Stage 2"
    assert match_stage("Stage 4", stages) is None
    assert match_stage("Stage 3", ("Stage 1",)) is None


def test_match_works_on_a_project_edited_list():
    stages = ("Survey", "Tiling", "Grouting", "Sealing")
    assert match_stage("tilling", stages) == "Tiling"
    assert match_stage("grout", stages) == "Grouting"
    assert match_stage("Installation", stages) is None


def test_place_keeps_the_list_when_the_stage_is_known():
    assert place_stage("plaster", RENOVATION, "First fix") == RENOVATION
    assert place_stage("2nd fix", RENOVATION, None) == RENOVATION


def test_place_inserts_an_unknown_stage_after_the_current_one():
    placed = place_stage("Tiling", RENOVATION, "Plastering")
    assert placed[placed.index("Plastering") + 1] == "Tiling"
    assert placed[placed.index("Tiling") + 1] == "Second fix"
    assert len(placed) == len(RENOVATION) + 1


def test_place_appends_an_unknown_stage_when_there_is_no_current_one():
    assert place_stage("Tiling", RENOVATION, None) == (*RENOVATION, "Tiling")


def test_place_appends_when_the_current_stage_is_not_in_the_list():
    assert place_stage("Tiling", RENOVATION, "Roofing") == (*RENOVATION, "Tiling")


def test_place_finds_a_current_stage_spelt_differently():
    placed = place_stage("Tiling", RENOVATION, "plastering")
    assert placed[placed.index("Plastering") + 1] == "Tiling"


def test_place_after_the_last_stage_appends():
    assert place_stage("Aftercare", RENOVATION, "Handover") == (*RENOVATION, "Aftercare")


def test_place_into_an_empty_list():
    assert place_stage("Tiling", (), None) == ("Tiling",)


def test_place_tidies_the_spacing_of_the_new_name():
    assert place_stage("  Floor   tiling ", ("Survey",), "Survey") == ("Survey", "Floor tiling")


def test_place_ignores_a_blank_name():
    assert place_stage("   ", RENOVATION, "Survey") == RENOVATION


def test_place_returns_a_tuple_and_leaves_the_input_alone():
    stages = ["Survey", "Design"]
    placed = place_stage("Tiling", stages, "Survey")
    assert placed == ("Survey", "Tiling", "Design")
    assert stages == ["Survey", "Design"]


def test_a_placed_stage_then_matches_itself():
    placed = place_stage("Tiling", RENOVATION, "Plastering")
    assert match_stage("Tiling", placed) == "Tiling"
    assert place_stage("tiling", placed, "Tiling") == placed


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Installation – Küche", "Installation"),
        ("Installation — Küche", "Installation"),
        ("Installation - Küche", "Installation"),
        ("Installation-Küche", "Installation-Küche"),
        ("Second fix: electrics", "Second fix"),
        ("Second fix | flat 2", "Second fix"),
        ("Installation (kitchen)", "Installation"),
        ("Plastering, day 2", "Plastering"),
        ("Tiling. Bathroom first", "Tiling"),
    ],
)
def test_title_gives_the_part_before_a_dash_or_colon(title, expected):
    assert stage_name_from_title(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Second-fix", "Second-fix"), ("Re-plastering", "Re-plastering"), ("Welding/Assembly", "Welding/Assembly")],
)
def test_title_keeps_hyphens_and_slashes_inside_a_name(title, expected):
    assert stage_name_from_title(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Stage 3: Plastering", "Plastering"),
        ("Phase 2 - First fix", "First fix"),
        ("Stage 3 Plastering", "Plastering"),
        ("Stage 3", "Stage 3"),
    ],
)
def test_title_skips_a_stage_number(title, expected):
    assert stage_name_from_title(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plastering started", "Plastering"),
        ("Starting second fix", "second fix"),
        ("Moving to decoration – hall", "decoration"),
        ("Tiling stage", "Tiling"),
        ("Snagging in progress", "Snagging"),
        ("Started", "Started"),
    ],
)
def test_title_drops_words_about_starting_or_finishing(title, expected):
    assert stage_name_from_title(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [('"Snagging"', "Snagging"), ("  Installation  ", "Installation"), ("Second   fix", "Second fix"), ("", "")],
)
def test_title_trims_quotes_and_spaces(title, expected):
    assert stage_name_from_title(title) == expected


def test_title_drops_a_leading_tag_the_parser_kept():
    assert stage_name_from_title("[Photos] Installation – Küche") == "Installation"


def test_title_keeps_the_staff_spelling():
    assert stage_name_from_title("2nd fix – upstairs") == "2nd fix"


def test_title_caps_a_very_long_name_at_a_word():
    name = stage_name_from_title("Removal of the existing conservatory roof and replacement with a solid tiled roof")
    assert len(name) <= 60
    assert name.endswith("replacement")
    assert stage_name_from_title("x" * 100) == "x" * 60


def test_title_then_match_finds_the_stage():
    assert match_stage(stage_name_from_title("Installation – Küche"), RENOVATION) == "Installation"
    assert match_stage(stage_name_from_title("2nd fix: electrics"), RENOVATION) == "Second fix"
