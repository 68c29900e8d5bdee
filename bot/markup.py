"""Escaping values for Telegram's HTML parse mode, and the list of a refused file's problems;
shared by the services and the handlers."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.i18n import ngettext


def h(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (names, titles, anything people typed)."""
    return html.escape(str(value), quote=False)


def problem_list(header: str, problems: Sequence[str], limit: int) -> str:
    """A header, then one bullet per problem, in at most ``limit`` characters (plain text, not
    escaped); problems that do not fit are counted on a last line."""
    lines = [header, ""]
    size = len(header) + 1
    reserve = 80  # room for the "and N more" line, whatever N is
    for position, problem in enumerate(problems):
        line = "• " + problem
        if size + len(line) + 1 + reserve > limit:
            rest = len(problems) - position
            lines.append(
                ngettext("…and {count} more problem.", "…and {count} more problems.", rest).format(
                    count=rest
                )
            )
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)
