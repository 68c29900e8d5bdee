"""The fonts the charts need for Chinese and Arabic: a test that depends on them skips when
they are not installed, unless ``REQUIRE_FONTS`` is set (as on CI), where it fails instead."""

from __future__ import annotations

import os

import pytest

from bot.services import charts


def require_fonts() -> charts.FontsStatus:
    """The fonts' status when both the CJK and the Arabic fonts are there; else skip (or fail
    under ``REQUIRE_FONTS``)."""
    status = charts.fonts_status()
    if status.complete:
        return status
    missing = " and ".join(
        name for name, found in (("CJK", status.cjk), ("Arabic", status.arabic)) if not found
    )
    if os.environ.get("REQUIRE_FONTS"):
        pytest.fail(
            f"The {missing} fonts are required (REQUIRE_FONTS) but not installed: "
            "apt-get install fonts-noto-core fonts-noto-cjk"
        )
    pytest.skip(f"the {missing} fonts are not installed (fonts-noto-core, fonts-noto-cjk)")


def require_certificate_fonts(families: list[str] | None = None) -> None:
    """Skip (or fail under ``REQUIRE_FONTS``) unless the fonts the certificates need for
    ``families`` (the Latin ones by default) are installed."""
    from bot.services.certificates import render

    try:
        render.check_fonts(families or ["sans"])
    except render.FontsMissing as exc:
        if os.environ.get("REQUIRE_FONTS"):
            pytest.fail(f"The certificates' fonts are required (REQUIRE_FONTS): {exc}")
        pytest.skip(f"the certificates' fonts are not installed: {exc}")
