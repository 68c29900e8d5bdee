"""Small rendering helpers shared by the handlers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot import markup

#: The one HTML escape, handed on to the routers that import it from here.
h = markup.h


#: Telegram refuses a message over 4,096 characters; HTML tags count here, so this is safe.
MESSAGE_CHARS = 4000
_TAG = re.compile(r"<[^>]*>")


def fit_lines(lines: Iterable[str], limit: int = MESSAGE_CHARS) -> str:
    """Join HTML lines into one message of at most ``limit`` characters, cutting only between
    lines (each line is whole markup), and ending with "…" when something was left out.

    A single line longer than the limit loses its tags and is cut before any entity it would
    split, so the message always parses.
    """
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line) + (1 if kept else 0)
        if used + size > limit - 2:
            if not kept:
                kept.append(_cut_plain(_TAG.sub("", line), limit - 2))
            kept.append("…")
            break
        kept.append(line)
        used += size
    return "\n".join(kept)


def _cut_plain(text: str, limit: int) -> str:
    cut = text[:limit]
    ampersand = cut.rfind("&")
    if ampersand != -1 and ";" not in cut[ampersand:]:
        cut = cut[:ampersand]
    return cut
