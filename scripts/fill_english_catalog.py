"""English is the source language: its catalog says every message as written in the code."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(path: str = "locales/en/LC_MESSAGES/messages.po") -> int:
    po = Path(path)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id  # plural ids are (singular, plural): the same two forms
        message.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, width=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
