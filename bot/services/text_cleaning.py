"""Names and free text as people type them, cleaned once on the way in.

Everything a person or a file gives us that later stands in a list, an export or a certificate
passes here first: the registration form, the profile, the roster, the timetable's titles, the
FAQ's questions and the staff's answers, typed feedback.

- Unicode is brought to NFC, so "José" typed with a separate accent is the same "José".
- Direction controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) go: a name with
  a right-to-left override reads differently from what is stored. Arabic and Hebrew need none
  of them to show right to left.
- Zero-width spaces (U+200B, U+2060, U+FEFF), the soft hyphen and every other invisible
  format or control character go, so two names that look the same are the same.
- The zero-width non-joiner and joiner (U+200C, U+200D) stay where they do a job: between two
  letters of a script that joins or forms conjuncts (Persian "می‌خواهم", Hindi "क्‍ष"), and the
  joiner inside an emoji ("👩‍💻"). Anywhere else, next to a Latin letter or at an edge, they
  only hide a difference, and go.
- :func:`clean_line` makes one line of it (every run of white space one space);
  :func:`clean_block` keeps the lines (spaces tidied within each, at most one empty line in
  a row).
"""

from __future__ import annotations

import unicodedata
from typing import Final

ZWNJ: Final = "\u200c"
ZWJ: Final = "\u200d"
_JOINERS: Final = frozenset((ZWNJ, ZWJ))

#: Scripts whose words use the joiners (the first word of a character's Unicode name).
_JOINING_SCRIPTS: Final = frozenset(
    {
        "ARABIC",
        "SYRIAC",
        "NKO",
        "MONGOLIAN",
        "DEVANAGARI",
        "BENGALI",
        "GURMUKHI",
        "GUJARATI",
        "ORIYA",
        "TAMIL",
        "TELUGU",
        "KANNADA",
        "MALAYALAM",
        "SINHALA",
        "MYANMAR",
        "KHMER",
    }
)
#: Pieces of emoji a joiner may stand between (other symbols, skin tones, U+FE0F).
_EMOJI_CATEGORIES: Final = frozenset({"So", "Sk"})
_EMOJI_PRESENTATION: Final = "\ufe0f"
#: The tags after a black flag that make the flags of England, Scotland and Wales.
_BLACK_FLAG: Final = "\U0001f3f4"
_TAGS: Final = range(0xE0020, 0xE0080)


def _tag(char: str) -> bool:
    return ord(char) in _TAGS


def _drops(char: str) -> bool:
    """Invisible characters with no job in a name or a message: controls and formats (white
    space, line breaks included, is left to the callers; the joiners are decided later)."""
    return (
        unicodedata.category(char) in ("Cc", "Cf", "Cs")
        and not char.isspace()
        and char not in _JOINERS
    )


def _joining_letter(char: str) -> bool:
    if unicodedata.category(char)[0] not in "LM":
        return False
    return unicodedata.name(char, "").split(" ", 1)[0] in _JOINING_SCRIPTS


def _emoji_piece(char: str) -> bool:
    return char == _EMOJI_PRESENTATION or unicodedata.category(char) in _EMOJI_CATEGORIES


def _joiner_stays(joiner: str, before: str, after: str) -> bool:
    if _joining_letter(before) and _joining_letter(after):
        return True
    return joiner == ZWJ and _emoji_piece(before) and _emoji_piece(after)


def _visible(text: str) -> str:
    """NFC, with the invisible characters taken out (white space is kept as it is)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if _tag(char):
            # Kept only inside a flag's sequence, which starts with the black flag.
            if kept and (kept[-1] == _BLACK_FLAG or _tag(kept[-1])):
                kept.append(char)
            continue
        if not _drops(char):
            kept.append(char)
    out: list[str] = []
    for index, char in enumerate(kept):
        if char in _JOINERS:
            before = out[-1] if out else ""
            after = kept[index + 1] if index + 1 < len(kept) else ""
            if not (before and after and _joiner_stays(char, before, after)):
                continue
        out.append(char)
    return "".join(out)


def _cut(text: str, max_len: int | None) -> str:
    if max_len is not None and len(text) > max_len:
        text = text[:max_len]
    # A cut may leave a joiner, or a space, with nothing after it.
    return text.rstrip().rstrip(ZWJ + ZWNJ).rstrip()


def clean_line(text: str, max_len: int | None = None) -> str:
    """One line: NFC, no invisible characters, white space runs as one space, at most
    ``max_len`` characters. May be empty: the caller says what an empty answer means."""
    return _cut(" ".join(_visible(text).split()), max_len)


def clean_block(text: str, max_len: int | None = None) -> str:
    """Free text of several lines: as :func:`clean_line` within each line, the lines kept,
    no more than one empty line in a row, none at the start or the end."""
    lines: list[str] = []
    for line in _visible(text).splitlines():
        tidy = " ".join(line.split())
        if tidy or (lines and lines[-1]):
            lines.append(tidy)
    return _cut("\n".join(lines).strip(), max_len)
