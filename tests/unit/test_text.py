"""Long HTML answers are cut between lines, so Telegram can still parse them."""

from __future__ import annotations

from handlers.text import fit_lines, h
from sandbox.formatting import parse_html


def test_long_lists_are_cut_between_lines_and_still_parse() -> None:
    lines = [
        f"<b>{i:03d}</b> {h('Trade & Customs <Single Window>')} — <i>Room A</i>" for i in range(200)
    ]
    text = fit_lines(lines, 1000)
    assert len(text) <= 1000
    assert text.endswith("\n…")
    assert text.startswith("<b>000</b>")
    parsed = parse_html(text)
    assert "Trade & Customs <Single Window>" in parsed.text


def test_short_text_is_unchanged() -> None:
    assert fit_lines(["<b>a</b>", "b"], 100) == "<b>a</b>\nb"


def test_one_overlong_line_loses_its_tags_and_keeps_entities_whole() -> None:
    line = "<b>" + h("R&D ") * 400 + "</b>"
    text = fit_lines([line], 101)
    assert len(text) <= 101
    parsed = parse_html(text)
    assert parsed.text.startswith("R&D R&D")
    assert parsed.text.endswith("…")
