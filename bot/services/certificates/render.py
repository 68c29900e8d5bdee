"""A certificate as a one-page PDF (A4 landscape): the holder's name in its own script, the
programme, the dates, the hours, the training base, a verification code and its QR code.

Text is shaped (HarfBuzz, through fpdf2's ``set_text_shaping``), so Arabic is joined and laid
out right to left; fallback fonts let one line mix Latin, Cyrillic, Arabic and Chinese. The
fonts are Debian's Noto packages (``fonts-noto-core``, ``fonts-noto-cjk``), found in one place
(:data:`FONT_FILES`); Noto Sans CJK ships only as a TrueType collection (``.ttc``), which
fpdf2 reads face by face (``collection_font_number``: face 2 is Simplified Chinese). A needed
font that is missing raises :class:`FontsMissing`, naming the file and the package.

:func:`render` is plain CPU work: call it through :func:`render_async` (a worker thread) from
the event loop. The same content renders the same bytes (the creation date is fixed to the
issue time), so a certificate can always be rendered again from its record.
"""

from __future__ import annotations

import asyncio
import copy
import io
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import segno
from fontTools import subset as ftsubset  # type: ignore[import-untyped]
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

log = logging.getLogger(__name__)

#: Family -> (file, face in a collection, Debian package).
FONT_FILES: Final[dict[str, tuple[str, int, str]]] = {
    "sans": ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 0, "fonts-noto-core"),
    "sansB": ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", 0, "fonts-noto-core"),
    "arabic": (
        "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
        0,
        "fonts-noto-core",
    ),
    "arabicB": ("/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf", 0, "fonts-noto-core"),
    "cjk": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk"),
    "cjkB": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2, "fonts-noto-cjk"),
}

#: Name sizes tried in turn until the name fits on two lines at most.
NAME_SIZES: Final = (30, 26, 22, 18, 15, 12, 10, 8, 7, 6)
PAGE_W: Final = 297.0
MARGIN: Final = 20.0
TEXT_W: Final = PAGE_W - 2 * MARGIN


class FontsMissing(RuntimeError):
    """A font the certificate needs is not installed; ``str()`` says which and how to add it."""


@dataclass(frozen=True, slots=True)
class CertificateContent:
    """Everything printed on a certificate; the wording already in the holder's language.

    ``labels`` are the page's fixed lines in the holder's language, ``labels_en`` the same in
    English (equal to ``labels`` for an English certificate: then printed once).
    """

    holder_name: str
    programme_title: str
    programme_title_en: str
    dates: str
    dates_en: str
    hours: str
    organisation: str
    code: str
    link: str
    issued_at: datetime
    rtl: bool
    labels: dict[str, str]
    labels_en: dict[str, str]


def _is_cjk(char: str) -> bool:
    point = ord(char)
    return 0x2E80 <= point <= 0x9FFF or 0xF900 <= point <= 0xFAFF or 0xFF00 <= point <= 0xFFEF


def _is_arabic(char: str) -> bool:
    point = ord(char)
    return 0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0xFB50 <= point <= 0xFEFF


def fonts_needed(text: str) -> list[str]:
    """The font families (regular) a text needs beyond Noto Sans."""
    needed = ["sans"]
    if any(_is_arabic(c) for c in text):
        needed.append("arabic")
    if any(_is_cjk(c) for c in text):
        needed.append("cjk")
    return needed


_checked: set[str] = set()


def check_fonts(families: list[str]) -> None:
    """Raise :class:`FontsMissing` for any of these families (and their bold) not installed."""
    missing = []
    for family in families:
        for name in (family, family + "B"):
            if name in _checked:
                continue
            path, _face, package = FONT_FILES[name]
            if not os.path.exists(path):
                missing.append(f"{path} (apt-get install {package})")
            else:
                _checked.add(name)
    if missing:
        raise FontsMissing("Fonts needed for the certificate are missing: " + "; ".join(missing))


def _qr_png(link: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return out


#: Fonts parsed once per process (the CJK collection takes a second to read): each page gets
#: a copy sharing the metrics and the shaper, with its own subset and its own font file
#: (fpdf2 subsets the font file in place when it writes the PDF).
_parsed: dict[tuple[str, int], TTFFont] = {}
_parsing = threading.Lock()

#: Font files by family: :data:`FONT_FILES`' (file, face), or a batch's own small CJK fonts.
Files = dict[str, tuple[str, int]]


def _font_for(pdf: FPDF, family: str, style: str, files: Files) -> TTFFont:
    path, face = files[family + style]
    with _parsing:
        parsed = _parsed.get((path, face))
        if parsed is None:
            parsed = TTFFont(
                pdf, Path(path), f"{family}{style}", style, collection_font_number=face
            )
            _parsed[(path, face)] = parsed
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, fontNumber=face, lazy=True)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    return font


class _Page(FPDF):
    def __init__(self, families: list[str], files: Files) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        for family in families:
            for style in ("", "B"):
                font = _font_for(self, family, style, files)
                self.fonts[font.fontkey] = font
                if font.is_cff and font.is_cid_keyed:
                    self._set_min_pdf_version("1.6")
        self.set_fallback_fonts([f for f in families if f != "sans"], exact_match=False)
        self.set_text_shaping(True)


def _fits(pdf: FPDF, text: str, size: float, lines: int) -> bool:
    pdf.set_font("sans", "B", size)
    # Measured on one line: the width over the line's width says how many lines it takes.
    return pdf.get_string_width(text) <= TEXT_W * lines * 0.95


def _name_size(pdf: FPDF, name: str) -> tuple[float, bool]:
    """The largest size at which the name fits on one line, or else on two (wrapped)."""
    for size in NAME_SIZES:
        if _fits(pdf, name, size, 1):
            return size, False
    for size in NAME_SIZES:
        if _fits(pdf, name, size, 2):
            return size, True
    return NAME_SIZES[-1], True


def _centred(pdf: FPDF, text: str, size: float, style: str = "", height: float = 0.0) -> None:
    pdf.set_font("sans", style, size)
    pdf.set_x(MARGIN)
    pdf.multi_cell(TEXT_W, height or size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def _every_text(content: CertificateContent) -> str:
    return " ".join(
        [
            content.holder_name,
            content.programme_title,
            content.programme_title_en,
            content.dates,
            content.organisation,
            *content.labels.values(),
            *content.labels_en.values(),
        ]
    )


def _full_files() -> Files:
    return {name: (path, face) for name, (path, face, _package) in FONT_FILES.items()}


def render(content: CertificateContent) -> bytes:
    """The certificate's PDF (one page). Raises :class:`FontsMissing` without the fonts."""
    return render_many([content])[0]


def render_many(contents: Sequence[CertificateContent]) -> list[bytes]:
    """The certificates' PDFs, in order. With Chinese text among them, the CJK faces are
    first cut down once to the characters of the whole batch (fontTools): fpdf2 would
    otherwise read and subset the whole 65,000-glyph face for every page (≈ 0.8 s each)."""
    texts = [_every_text(content) for content in contents]
    families = [fonts_needed(text) for text in texts]
    check_fonts(sorted({family for needed in families for family in needed}))
    files = _full_files()
    if sum("cjk" in needed for needed in families) < 2:  # cutting down costs two pages' time
        return [_render(c, f, files) for c, f in zip(contents, families, strict=True)]
    with tempfile.TemporaryDirectory(prefix="certificate-fonts-") as folder:
        characters = {ord(char) for text in texts for char in text} | {0x20}
        for name in ("cjk", "cjkB"):
            files[name] = (_cut_down(name, characters, Path(folder)), 0)
        try:
            return [_render(c, f, files) for c, f in zip(contents, families, strict=True)]
        finally:
            with _parsing:
                for name in ("cjk", "cjkB"):
                    _parsed.pop(files[name], None)


def _cut_down(name: str, characters: set[int], folder: Path) -> str:
    """A font file with only these characters of the CJK face ``name``."""
    path, face, _package = FONT_FILES[name]
    options = ftsubset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    font = ttLib.TTFont(path, fontNumber=face, lazy=True)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=characters)
    subsetter.subset(font)
    out = folder / f"{name}.otf"
    font.save(str(out))
    font.close()
    return str(out)


def _render(content: CertificateContent, families: list[str], files: Files) -> bytes:
    pdf = _Page(families, files)
    pdf.set_creation_date(content.issued_at)
    pdf.set_title(content.labels_en["title"])
    pdf.set_author(content.organisation)
    pdf.set_creator("trainee-bot")
    pdf.set_producer("trainee-bot")
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, PAGE_W - 16, 210 - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, PAGE_W - 22, 210 - 22)
    bilingual = content.labels != content.labels_en
    pdf.set_text_color(40, 70, 120)
    pdf.set_y(20)
    _centred(pdf, content.organisation, 13, "B", 7)
    pdf.ln(3)
    _centred(pdf, content.labels["title"], 26, "B", 12)
    if bilingual:
        _centred(pdf, content.labels_en["title"], 13, "", 7)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    certify = content.labels["certify"]
    if bilingual:
        certify += " / " + content.labels_en["certify"]
    _centred(pdf, certify, 11, "", 6)
    pdf.ln(3)
    size, _wrapped = _name_size(pdf, content.holder_name)
    pdf.set_font("sans", "B", size)
    pdf.set_x(MARGIN)
    name_top = pdf.get_y()
    pdf.multi_cell(
        TEXT_W, size * 0.45, content.holder_name, align="C", new_x="LMARGIN", new_y="NEXT"
    )
    if pdf.get_y() - name_top > 2 * size * 0.45 + 0.1:
        log.warning("a certificate's name took more than two lines at %s pt", size)
    pdf.ln(4)
    completed = content.labels["completed"]
    if bilingual:
        completed += " / " + content.labels_en["completed"]
    _centred(pdf, completed, 11, "", 6)
    pdf.ln(2)
    _centred(pdf, content.programme_title, 18, "B", 9)
    if bilingual and content.programme_title_en != content.programme_title:
        _centred(pdf, content.programme_title_en, 12, "", 6)
    pdf.ln(3)
    _centred(pdf, f"{content.labels['dates']}: {content.dates}", 11, "", 6)
    if bilingual:
        _centred(pdf, f"{content.labels_en['dates']}: {content.dates_en}", 10, "", 5.5)
    _centred(pdf, f"{content.labels['hours']}: {content.hours}", 11, "", 6)
    if bilingual:
        _centred(pdf, f"{content.labels_en['hours']}: {content.hours}", 10, "", 5.5)
    # The code and its QR code, bottom right; how to verify, bottom left.
    qr_size = 32.0
    pdf.image(_qr_png(content.link), x=PAGE_W - MARGIN - qr_size, y=150, w=qr_size, h=qr_size)
    pdf.set_xy(MARGIN, 156)
    pdf.set_font("sans", "", 10)
    verify = content.labels["verify"]
    if bilingual:
        verify += "\n" + content.labels_en["verify"]
    pdf.multi_cell(TEXT_W - qr_size - 8, 5, verify, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(MARGIN)
    pdf.set_font("sans", "B", 14)
    pdf.cell(TEXT_W - qr_size - 8, 8, content.code, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(MARGIN)
    pdf.set_font("sans", "", 8)
    pdf.cell(TEXT_W - qr_size - 8, 5, content.link, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def render_async(content: CertificateContent) -> bytes:
    """:func:`render` in a worker thread, so the event loop goes on serving updates."""
    return await asyncio.to_thread(render, content)


async def render_many_async(contents: Sequence[CertificateContent]) -> list[bytes]:
    """:func:`render_many` in a worker thread."""
    return await asyncio.to_thread(render_many, contents)
