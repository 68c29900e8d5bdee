"""Names and free text cleaned on the way in: real names intact, hidden tricks gone."""

from __future__ import annotations

import pytest

from bot.i18n import use_locale
from bot.services.registration import InvalidAnswer, clean_name, clean_organisation
from bot.services.roster import parse_roster
from bot.services.text_cleaning import clean_block, clean_line

RLO = "\u202e"
ZWSP = "\u200b"
ZWNJ = "\u200c"
ZWJ = "\u200d"


@pytest.mark.parametrize(
    "name",
    [
        "محمد بن علي",
        "李小龙",
        "José Ñúñez",
        "Zoë Ångström",
        "Иван Петрович Сидоров",
        "Nguyễn Thị Minh Khai",
        "Amina Nakato (أمينة) 李",
        "O'Brien-Smith",
        "Σωκράτης",
    ],
)
def test_real_names_survive_intact(name: str) -> None:
    assert clean_line(name, 256) == name


def test_decomposed_accents_become_composed() -> None:
    decomposed = "Jose\u0301 N\u0303u\u0301n\u0303ez"
    assert clean_line(decomposed) == "José Ñúñez"
    assert len(clean_line("Zoe\u0308")) == 3


def test_a_right_to_left_override_in_the_middle_goes() -> None:
    assert clean_line(f"Ahmed {RLO}gpj.exe") == "Ahmed gpj.exe"
    assert clean_line(f"محمد{RLO} علي") == "محمد علي"


DIRECTION = ["\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE = ["\u200e", "\u200f", "\u061c", ZWSP, "\u2060", "\ufeff", "\u00ad", "\x00", "\x07"]


@pytest.mark.parametrize("control", [*DIRECTION, *INVISIBLE, "\x1b"])
def test_direction_controls_zero_width_and_control_characters_go(control: str) -> None:
    assert clean_line(f"An{control}na Smith{control}") == "Anna Smith"


def test_white_space_of_every_kind_is_one_space() -> None:
    assert clean_line("  Anna\u00a0\u00a0Maria\t\nSmith\u3000 ") == "Anna Maria Smith"


def test_a_long_name_is_cut_at_the_limit() -> None:
    assert clean_line("A" * 300, 256) == "A" * 256
    # A cut never leaves a space at the end.
    assert clean_line("A" * 255 + " Bcd", 256) == "A" * 255


def test_a_name_of_only_invisible_characters_is_refused_as_empty() -> None:
    invisible = RLO + ZWSP + "\u2066\ufeff" + ZWJ + ZWNJ + "\x00"
    assert clean_line(invisible) == ""
    with use_locale("en"), pytest.raises(InvalidAnswer) as refused:
        clean_name(invisible)
    assert refused.value.reason == "Please write your full name as in your passport."
    with use_locale("en"), pytest.raises(InvalidAnswer) as refused:
        clean_organisation(RLO + " " + ZWSP)
    assert refused.value.reason == "Please write the name of your organisation."


def test_typed_names_and_organisations_are_cleaned() -> None:
    assert clean_name(f" Amina{ZWSP} {RLO}Nakato ") == "Amina Nakato"
    assert clean_organisation(f"Ministry of{RLO} Trade\ufeff") == "Ministry of Trade"


def test_joiners_stay_inside_words_of_scripts_that_need_them() -> None:
    # Persian writes "mikhaham" with a non-joiner after the prefix; Hindi uses the joiner for
    # a half form; emoji are built with the joiner. None of them loses it.
    persian = f"می{ZWNJ}خواهم"
    hindi = f"क्{ZWJ}ष"
    coder = f"👩{ZWJ}💻"
    family = f"👨🏽{ZWJ}👩{ZWJ}👧"
    heart_on_fire = "❤️" + ZWJ + "🔥"
    assert clean_line(persian) == persian
    assert clean_line(hindi) == hindi
    assert clean_line(coder) == coder
    assert clean_line(family) == family
    assert clean_line(heart_on_fire) == heart_on_fire


def test_joiners_go_where_they_only_hide_a_difference() -> None:
    # Between Latin or Cyrillic letters, at the edges, next to a space: invisible and useless.
    assert clean_line(f"An{ZWNJ}na") == "Anna"
    assert clean_line(f"Ива{ZWJ}н") == "Иван"
    assert clean_line(f"{ZWJ}محمد{ZWNJ}") == "محمد"
    assert clean_line(f"محمد {ZWNJ}علي") == "محمد علي"


def test_the_flag_of_scotland_keeps_its_tags_and_stray_tags_go() -> None:
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert clean_line(f"Go {scotland}") == f"Go {scotland}"
    assert clean_line("Anna\U000e0041\U000e0042") == "Anna"


def test_a_block_keeps_its_lines_and_tidies_them() -> None:
    text = f"  Hello{RLO}   team,\r\n\n\n\nwhen is\u00a0the exam?{ZWSP}  \n\n"
    assert clean_block(text) == "Hello team,\n\nwhen is the exam?"
    assert clean_block("a\u2028b\u2029c") == "a\nb\nc"
    assert clean_block(RLO + "\n\n" + ZWSP) == ""
    assert clean_block("x" * 5000, 4096) == "x" * 4096


def test_cleaning_twice_changes_nothing() -> None:
    for text in ("José\u0301 " + RLO + "x", f"می{ZWNJ}خواهم", "a\n\n\nb  c"):
        assert clean_line(clean_line(text)) == clean_line(text)
        assert clean_block(clean_block(text)) == clean_block(text)


def test_the_roster_cleans_names_organisations_and_positions() -> None:
    header = "Full name,Country,Organisation,Position,Email"
    row = (
        f"Amina{RLO} Nakato{ZWSP},Uganda,Ministry{ZWSP} of Trade,"
        f"Senior\u2066 Officer,amina@example.org"
    )
    long_row = f"{'B' * 300},Uganda,{'O' * 300},,b@example.org"
    result = parse_roster(("\r\n".join((header, row, long_row)) + "\r\n").encode(), "x.csv")
    assert result.errors == []
    amina, long = result.rows
    assert amina.full_name == "Amina Nakato"
    assert amina.organisation == "Ministry of Trade"
    assert amina.position == "Senior Officer"
    assert long.full_name == "B" * 256
    assert long.organisation == "O" * 256
