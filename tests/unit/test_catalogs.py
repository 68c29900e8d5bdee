"""Every interface string is translated into all six languages, placeholders intact."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")


def load(locale: str) -> Catalog:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_complete_and_placeholders_match(locale: str) -> None:
    problems = []
    for message in load(locale):
        if not message.id:
            continue
        source_ids = _strings(message.id)
        source = set(PLACEHOLDER.findall(" ".join(source_ids)))
        translations = _strings(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {source_ids[0]!r}")
        if not translations or not all(translations):
            problems.append(f"untranslated: {source_ids[0]!r}")
            continue
        for translation in translations:
            if set(PLACEHOLDER.findall(translation)) != source:
                problems.append(f"placeholders differ: {source_ids[0]!r} -> {translation!r}")
    assert problems == []


def test_every_source_string_is_in_the_catalogs(tmp_path: Path) -> None:
    """A string added to the code without running ``make i18n`` fails here."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "--mapping-file",
            str(ROOT / "babel.cfg"),
            "--keywords",
            "N_",
            "--keywords",
            "lazy_gettext",
            "--no-location",
            "--output-file",
            str(pot),
            str(ROOT / "bot"),
            str(ROOT / "handlers"),
        ],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        template = read_po(fh)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for locale in SUPPORTED_LOCALES:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in load(locale) if m.id}
        assert wanted - have == set(), f"{locale} lacks {sorted(wanted - have)[:5]}"
