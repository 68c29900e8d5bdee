"""Charts for organisers as PNG bytes: bars, stacked bars and lines, sized for a Telegram photo.

Rendered headless with matplotlib's Agg canvas on a :class:`~matplotlib.figure.Figure` of its
own (never pyplot, never the global ``rcParams``), so charts may be drawn from several threads.
Labels come in the organiser's language, so every text is set in a family list that falls
back from DejaVu Sans to Noto Sans CJK (Chinese) and Noto Sans Arabic: Debian's
``fonts-noto-cjk`` and ``fonts-noto-core``. Without them a chart still renders, with boxes
for the missing glyphs, and one warning is logged.

Arabic must be joined and run right to left. matplotlib from 3.11 lays text out with libraqm,
which shapes and reorders by itself; older releases draw code points one by one, so there
the text is reshaped (``arabic_reshaper``) and put in visual order (``python-bidi``) first.
Doing both would reverse the text again, hence :func:`display_text` picks one.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from babel.numbers import format_decimal
from matplotlib import ft2font
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager

from bot.i18n import babel_locale

log = logging.getLogger(__name__)

#: A Telegram photo that stays sharp: 1280 x 720 pixels.
WIDTH_PX: Final = 1280
HEIGHT_PX: Final = 720
DPI: Final = 100

BASE_FAMILY: Final = "DejaVu Sans"
CJK_FAMILY: Final = "Noto Sans CJK SC"
ARABIC_FAMILIES: Final = ("Noto Sans Arabic", "Noto Naskh Arabic")

#: Where Debian puts the fonts (``fonts-noto-cjk``, ``fonts-noto-core``).
_CJK_PATHS: Final = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
_ARABIC_PATHS: Final = (
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
)

#: A palette that stays apart for the colour-blind (Okabe and Ito).
COLOURS: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)

#: Whether this matplotlib shapes complex scripts itself (libraqm, from 3.11).
MATPLOTLIB_SHAPES: Final = bool(getattr(ft2font, "__libraqm_version__", ""))

_RTL_CLASSES: Final = frozenset({"R", "AL"})
#: Left-to-right, right-to-left and Arabic letter marks, and the isolates and embeddings.
_BIDI_MARKS: Final = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_LABEL_WIDTH: Final = 28
_LABEL_MAX: Final = 80
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class FontsStatus:
    """Which fonts the charts found: the family list they use, and what it covers."""

    cjk: bool
    arabic: bool
    families: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Chinese and Arabic both render (no boxes)."""
        return self.cjk and self.arabic


def _known_families() -> set[str]:
    return {entry.name for entry in fontManager.ttflist}


def _fc_list_files(family: str) -> list[str]:
    """Files fontconfig knows for ``family`` (fonts installed somewhere else than Debian's)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
            [fc_list, family, "file"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip().rstrip(":") for line in done.stdout.splitlines() if line.strip()]


def _register(family: str, paths: Sequence[str]) -> bool:
    """Make ``family`` known to matplotlib's font manager; whether it is now."""
    if family in _known_families():
        return True
    candidates = [path for path in paths if Path(path).is_file()] or _fc_list_files(family)
    for path in candidates:
        try:
            fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError) as exc:
            log.debug("could not load font %s: %s", path, exc)
    return family in _known_families()


@cache
def fonts_status() -> FontsStatus:
    """Find and register the CJK and Arabic fonts once; says what was found.

    Logs one warning when either is missing: charts then show boxes for those scripts.
    """
    with _lock:
        cjk = _register(CJK_FAMILY, _CJK_PATHS)
        arabic_found = [family for family in ARABIC_FAMILIES if _register(family, _ARABIC_PATHS)][
            :1
        ]
    families = (BASE_FAMILY, *([CJK_FAMILY] if cjk else []), *arabic_found)
    status = FontsStatus(cjk=cjk, arabic=bool(arabic_found), families=families)
    if not status.complete:
        missing = [name for name, ok in (("CJK", cjk), ("Arabic", status.arabic)) if not ok]
        log.warning(
            "Chart fonts missing (%s): Chinese or Arabic labels will show as boxes; install "
            "Debian's fonts-noto-cjk and fonts-noto-core",
            ", ".join(missing),
        )
    return status


def _font(size: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(
        family=list(fonts_status().families), size=size, weight="bold" if bold else "normal"
    )


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds right-to-left letters (Arabic, Hebrew)."""
    return any(unicodedata.bidirectional(char) in _RTL_CLASSES for char in text)


def shape_rtl(text: str) -> str:
    """Arabic joined into its contextual forms and put in visual (left-to-right) order.

    For a renderer that draws code points one by one; text without RTL letters is unchanged.
    """
    if not has_rtl(text):
        return text
    import arabic_reshaper  # type: ignore[import-untyped]
    from bidi import get_display  # type: ignore[import-untyped]

    return str(get_display(arabic_reshaper.reshape(text)))


def display_text(text: str) -> str:
    """``text`` as this matplotlib must be handed it to show it right.

    Directional marks go (Babel puts them in Arabic dates): a chart's label is one run.
    """
    text = _BIDI_MARKS.sub("", text)
    return text if MATPLOTLIB_SHAPES else shape_rtl(text)


def _width(text: str) -> int:
    """Columns ``text`` takes: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _tokens(text: str) -> list[str]:
    """Pieces a line may break between: words, spaces, and each wide (CJK) character."""
    tokens: list[str] = []
    for char in text:
        joins = tokens and not char.isspace() and _width(char) == 1
        if joins and not tokens[-1].isspace() and _width(tokens[-1][-1]) == 1:
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _wrap(text: str, width: int = _LABEL_WIDTH, lines: int = 3) -> str:
    """A label on a few short lines, cut with "…" when longer; words and numbers kept whole,
    CJK text broken between characters."""
    text = " ".join(_BIDI_MARKS.sub("", text).split())
    if len(text) > _LABEL_MAX:
        text = text[: _LABEL_MAX - 1].rstrip() + "…"
    wrapped: list[str] = []
    line = ""
    for token in _tokens(text):
        if line and _width(line + token.rstrip()) > width:
            wrapped.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    wrapped.append(line.rstrip())
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], wrapped[lines - 1][: width - 2] + "…"]
    return "\n".join(display_text(part) for part in wrapped)


def _number(value: float, locale: str, *, percent: bool) -> str:
    shown = format_decimal(value, format="#,##0.#", locale=babel_locale(locale))
    return f"{shown}%" if percent else str(shown)


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _finish(figure: Figure, axes: Axes, title: str, value_label: str, *, value_axis: str) -> bytes:
    axes.set_title(display_text(title), fontproperties=_font(18, bold=True), loc="left", pad=14)
    if value_label:
        setter = axes.set_xlabel if value_axis == "x" else axes.set_ylabel
        setter(display_text(value_label), fontproperties=_font(13))
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontproperties(_font(12))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _check(labels: Sequence[str], values: Sequence[object], name: str) -> None:
    if len(labels) != len(values):
        raise ValueError(f"{name}: {len(values)} values for {len(labels)} labels")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    locale: str,
    value_label: str = "",
    percent: bool = False,
    horizontal: bool = False,
    max_value: float | None = None,
) -> bytes:
    """One bar per label with its value written at its end; PNG bytes.

    ``percent`` writes values as percentages (0 to 100); ``max_value`` fixes the value axis
    (5 for a rating); ``horizontal`` suits long labels such as questions.
    """
    _check(labels, values, "bar_chart")
    figure, axes = _figure()
    positions = list(range(len(labels)))
    shown = [_wrap(label) for label in labels]
    top = max_value if max_value is not None else max([*values, 0.0]) * 1.15 or 1.0
    if horizontal:
        bars = axes.barh(positions, values, color=COLOURS[0])
        axes.set_yticks(positions, shown)
        axes.invert_yaxis()  # the first label on top, as it is read
        axes.set_xlim(0, top)
    else:
        bars = axes.bar(positions, values, color=COLOURS[0])
        axes.set_xticks(positions, shown)
        axes.set_ylim(0, top)
    axes.bar_label(
        bars,
        labels=[_number(value, locale, percent=percent) for value in values],
        padding=4,
        fontproperties=_font(12),
    )
    return _finish(figure, axes, title, value_label, value_axis="x" if horizontal else "y")


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    locale: str,
    value_label: str = "",
    percent: bool = False,
    horizontal: bool = True,
) -> bytes:
    """Bars made of one segment per series (e.g. how many gave 1, 2 … 5 per question); PNG.

    Segments large enough show their value; the legend names the series.
    """
    for name, values in series.items():
        _check(labels, values, f"stacked_bars series {name!r}")
    figure, axes = _figure()
    positions = list(range(len(labels)))
    shown = [_wrap(label) for label in labels]
    base = [0.0] * len(labels)
    totals = [sum(values[index] for values in series.values()) for index in positions]
    largest = max([*totals, 0.0]) or 1.0
    for number, (name, values) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        if horizontal:
            bars = axes.barh(positions, values, left=base, color=colour, label=display_text(name))
        else:
            bars = axes.bar(positions, values, bottom=base, color=colour, label=display_text(name))
        texts = [
            _number(value, locale, percent=percent) if value >= largest * 0.06 else ""
            for value in values
        ]
        axes.bar_label(bars, labels=texts, label_type="center", fontproperties=_font(11))
        base = [low + value for low, value in zip(base, values, strict=True)]
    if horizontal:
        axes.set_yticks(positions, shown)
        axes.invert_yaxis()
    else:
        axes.set_xticks(positions, shown)
    if series:
        axes.legend(
            prop=_font(11),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08 if horizontal else -0.16),
            ncols=min(len(series), 6),
            frameon=False,
        )
    return _finish(figure, axes, title, value_label, value_axis="x" if horizontal else "y")


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    locale: str,
    value_label: str = "",
    y_range: tuple[float, float] | None = None,
) -> bytes:
    """One line per series across ``labels`` (sessions in time order); gaps where a value is
    None. PNG bytes."""
    for name, values in series.items():
        _check(labels, values, f"line_chart series {name!r}")
    figure, axes = _figure()
    positions = list(range(len(labels)))
    for number, (name, values) in enumerate(series.items()):
        points = [(x, y) for x, y in zip(positions, values, strict=True) if y is not None]
        if not points:
            continue
        axes.plot(
            [x for x, _y in points],
            [y for _x, y in points],
            marker="o",
            linewidth=2.5,
            color=COLOURS[number % len(COLOURS)],
            label=_wrap(name, width=40, lines=1),
        )
    axes.set_xticks(positions, [_wrap(label, width=16, lines=2) for label in labels])
    if y_range is not None:
        axes.set_ylim(*y_range)
    axes.grid(axis="y", alpha=0.3)
    if series:
        axes.legend(prop=_font(11), loc="best", frameon=False)
    return _finish(figure, axes, title, value_label, value_axis="y")
