"""Charts: PNG bytes of the right size, Chinese and Arabic drawn with real glyphs (no boxes, no
"missing from font" warning), Arabic joined and right to left, and a chart still drawn when the
fonts are missing."""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
import warnings
from collections.abc import Callable

import pytest
from PIL import Image

from bot.services import charts
from tests.support.fonts import require_fonts

ARABIC = "كيف تقيم المحاضر؟"
CHINESE = "讲座的内容是否有用？"


def _render_all() -> list[bytes]:
    return [
        charts.bar_chart(
            "课程评价 · تقييم الدورة",
            [CHINESE, ARABIC, "How useful was the workshop on customs procedures?"],
            [4.3, 3.8, 4.9],
            locale="zh",
            horizontal=True,
            max_value=5,
            value_label="平均分",
        ),
        charts.bar_chart("回复率", ["第一课", "الجلسة"], [75.0, 50.0], locale="ar", percent=True),
        charts.stacked_bars(
            "分布 التوزيع", [CHINESE, ARABIC], {"1": [1, 0], "4": [3, 2], "5": [8, 9]}, locale="ar"
        ),
        charts.line_chart(
            "趋势 الاتجاه",
            ["第一课", "الجلسة الثانية", "Session 3"],
            {CHINESE: [4.1, None, 4.5], ARABIC: [3.0, 3.5, 4.0]},
            locale="zh",
            y_range=(1, 5),
        ),
    ]


def _capture(render: Callable[[], list[bytes]], caplog: pytest.LogCaptureFixture):
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        pictures = render()
    return pictures, [str(w.message) for w in caught], caplog.records


def test_charts_are_pngs_sized_for_telegram() -> None:
    for png in _render_all():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)


def test_chinese_and_arabic_render_without_missing_glyphs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    status = require_fonts()
    assert status.families[0] == charts.BASE_FAMILY
    assert charts.CJK_FAMILY in status.families
    # matplotlib 3.11 reports a glyph no font in the list has as a UserWarning ("Glyph 35762
    # (\N{CJK UNIFIED IDEOGRAPH-8BB2}) missing from font(s) DejaVu Sans."), and a family it
    # cannot find through the logger matplotlib.font_manager ("findfont: Font family ... not
    # found").
    _pictures, messages, records = _capture(_render_all, caplog)
    assert [m for m in messages if "missing from font" in m] == []
    findfont = [r.getMessage() for r in records if r.name.startswith("matplotlib.font_manager")]
    assert [m for m in findfont if "not found" in m] == []


def test_a_missing_glyph_would_be_caught(caplog: pytest.LogCaptureFixture) -> None:
    """The check above looks for the right thing: a character no font has is reported."""
    require_fonts()
    _pictures, messages, _records = _capture(
        lambda: [charts.bar_chart("\U00013000", ["x"], [1.0], locale="en")], caplog
    )
    assert any("missing from font" in m for m in messages)


def test_arabic_is_shaped_into_joined_forms_in_visual_order() -> None:
    shaped = charts.shape_rtl("مرحبا")
    assert shaped != "مرحبا"
    # Contextual forms live in the Arabic Presentation Forms-B block.
    assert all("\ufe70" <= char <= "\ufeff" for char in shaped)
    assert {unicodedata.name(char).split()[-2] for char in shaped} >= {"INITIAL", "FINAL"}
    # Visual order: the first letter (meem) is drawn last, on the right.
    assert unicodedata.name(shaped[-1]).startswith("ARABIC LETTER MEEM")
    assert charts.shape_rtl("Session 2 课程") == "Session 2 课程"


def test_text_is_handed_to_matplotlib_shaped_exactly_once() -> None:
    # matplotlib with libraqm shapes and reorders by itself: shaping before would reverse it.
    if charts.MATPLOTLIB_SHAPES:
        assert charts.display_text(ARABIC) == ARABIC
    else:
        assert charts.display_text(ARABIC) == charts.shape_rtl(ARABIC)
    assert charts.has_rtl(ARABIC)
    assert not charts.has_rtl(CHINESE)


def test_without_the_fonts_a_chart_still_renders_and_one_warning_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(charts, "_register", lambda family, paths: False)
    with caplog.at_level(logging.WARNING, logger="bot.services.charts"):
        status = charts.fonts_status.__wrapped__()
    assert (status.cjk, status.arabic, status.families) == (False, False, ("DejaVu Sans",))
    warned = [r for r in caplog.records if r.name == "bot.services.charts"]
    assert len(warned) == 1
    assert "fonts-noto-cjk" in warned[0].getMessage()

    monkeypatch.setattr(charts, "fonts_status", lambda: status)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the boxes are reported glyph by glyph
        png = charts.bar_chart(CHINESE, [CHINESE, ARABIC], [1.0, 2.0], locale="zh")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)


def test_charts_render_from_several_threads_at_once() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def draw(number: int) -> None:
        try:
            results.append(charts.bar_chart(f"{number}", ["a", "b"], [1.0, 2.0], locale="en"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 4


def test_labels_and_values_must_match() -> None:
    with pytest.raises(ValueError, match="2 values for 1 labels"):
        charts.bar_chart("x", ["a"], [1.0, 2.0], locale="en")
