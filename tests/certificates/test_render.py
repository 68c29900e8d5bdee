"""The certificate's page, looked at: each script's name in the PDF's text layer, the fonts
embedded cover every character of the name, Arabic joined, the page drawn by ``pdftoppm``
with ink where the name is, and a 300-character name still on the page."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import Image
from pypdf import PdfReader

from bot.db.certificates import Certificate
from bot.services.certificates import render
from bot.services.certificates.issuing import content_of
from tests.support.fonts import require_fonts

NAMES = {
    "chinese": "王小明",
    "arabic": "محمد عبد الله",
    "cyrillic": "Иван Петрович Сидоров",
    "vietnamese": "Nguyễn Thị Ánh",
    "french": "Françoise Lefèvre-Hébert",
    "spanish": "José Ñúñez Peña",
}


def _pdf(name: str, language: str = "en") -> bytes:
    certificate = Certificate(
        code="ABCDE12345",
        holder_name=name,
        programme_title="Digital trade",
        hours=42.5,
        language=language,
        issued_at=datetime(2027, 3, 20, tzinfo=UTC),
    )
    content = content_of(certificate, "Digital trade", "Training Centre", "trainee_bot")
    return render.render(content)


def _fonts(data: bytes) -> dict[str, bytes]:
    """The embedded fonts: base name -> the font file's bytes."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    out = {}
    resources: Any = page["/Resources"]
    for ref in resources["/Font"].values():
        font = ref.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        out[str(font["/BaseFont"]).split("+", 1)[-1]] = stream.get_object().get_data()
    return out


def _covered(char: str) -> bool:
    for family in render.fonts_needed(char):
        path, face, _package = render.FONT_FILES[family + "B"]
        with TTFont(path, fontNumber=face, lazy=True) as font:
            if ord(char) in font.getBestCmap():
                return True
    return False


@pytest.mark.parametrize("script", sorted(NAMES))
def test_the_name_is_in_the_text_layer(script: str) -> None:
    require_fonts()
    name = NAMES[script]
    text = PdfReader(io.BytesIO(_pdf(name))).pages[0].extract_text()
    # For the CJK font (a CID-keyed CFF whose /Encoding fpdf2 writes as an embedded CMap)
    # pypdf reads each two-byte code as a NUL and the character: the NULs are pypdf's, the
    # page draws the name alone (pdftotext reads it clean).
    text = unicodedata.normalize("NFC", text.replace("\x00", ""))
    if script == "arabic":
        # pypdf reads the words as they stand on the page, right to left: the last word
        # first, each word's letters in their logical order.
        assert " ".join(reversed(name.split())) in text
    else:
        assert name in text
    assert "ABCDE-12345" in text
    assert "https://t.me/trainee_bot?start=verify-ABCDE12345" in text


@pytest.mark.parametrize("script", ["arabic", "chinese"])
def test_the_embedded_fonts_cover_every_character(script: str) -> None:
    require_fonts()
    name = NAMES[script]
    fonts = _fonts(_pdf(name))
    wanted = "NotoSansArabicBold" if script == "arabic" else "NotoSansCJKscBold"
    assert any(base.replace("-", "").lower() == wanted.lower() for base in fonts), fonts.keys()
    assert all(_covered(char) for char in name if not char.isspace())


def test_arabic_letters_are_joined() -> None:
    require_fonts()
    [arabic] = [data for base, data in _fonts(_pdf(NAMES["arabic"])).items() if "Arabic" in base]
    glyphs = set(TTFont(io.BytesIO(arabic)).getGlyphOrder())
    # "عبد": ain at the start of a word takes its initial form (U+FECB), not the isolated
    # letter (U+0639); beh in the middle its medial form (U+FE92).
    assert "uniFECB" in glyphs
    assert "uni0639" not in glyphs
    assert "uniFE92" in glyphs
    assert "uni0628" not in glyphs


def test_a_missing_font_is_named() -> None:
    saved = dict(render.FONT_FILES)
    render.FONT_FILES["cjk"] = ("/nowhere/NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk")
    render._checked.discard("cjk")
    try:
        with pytest.raises(render.FontsMissing, match="fonts-noto-cjk"):
            _pdf(NAMES["chinese"])
    finally:
        render.FONT_FILES.update(saved)


def _page_image(data: bytes, tmp_path: Path) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("REQUIRE_FONTS"):
            pytest.fail("pdftoppm is required (REQUIRE_FONTS): apt-get install poppler-utils")
        pytest.skip("pdftoppm is not installed (poppler-utils)")
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    return Image.open(tmp_path / "page.png").convert("L")


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(image.crop(box).histogram()[:128])


@pytest.mark.parametrize("script", ["arabic", "chinese"])
def test_the_page_is_drawn_with_the_name(script: str, tmp_path: Path) -> None:
    require_fonts()
    image = _page_image(_pdf(NAMES[script]), tmp_path)
    width, height = image.size
    assert width > height  # landscape
    # The name's band (about 55-75 mm from the top of 210) has ink; a blank name has none.
    band = (int(width * 0.1), int(height * 0.27), int(width * 0.9), int(height * 0.36))
    with_name = _ink(image, band)
    (tmp_path / "blank").mkdir()
    blank = _ink(_page_image(_pdf(" "), tmp_path / "blank"), band)
    assert with_name > blank + 50


def test_a_long_name_fits_on_the_page() -> None:
    require_fonts()
    name = ("Maria-Fernanda de los Ángeles " * 11)[:300].strip()
    text = PdfReader(io.BytesIO(_pdf(name))).pages[0].extract_text()
    flat = " ".join(unicodedata.normalize("NFC", text.replace("\x00", "")).split())
    assert name in flat
    assert "Digital trade" in flat
    assert "ABCDE-12345" in flat


def test_a_batch_with_chinese_names_renders_each_name() -> None:
    require_fonts()
    names = ["王小明", "李娜", "Françoise Lefèvre-Hébert"]
    certificates = [
        Certificate(
            code="ABCDE12345",
            holder_name=name,
            programme_title="数字贸易研修班",
            language="en",
            issued_at=datetime(2027, 3, 20, tzinfo=UTC),
        )
        for name in names
    ]
    pdfs = render.render_many(
        [content_of(c, "Digital trade", "Training Centre", "bot") for c in certificates]
    )
    for name, data in zip(names, pdfs, strict=True):
        text = PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\x00", "")
        assert name in text
        assert "数字贸易研修班" in text
        assert any("CJK" in base for base in _fonts(data))
