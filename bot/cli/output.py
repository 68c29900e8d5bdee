"""Writing a command's output file: one place for the write and its one-line error."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.i18n import gettext as _


async def write_output(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (off the event loop); False, said on stderr, when it cannot."""
    try:
        await asyncio.to_thread(path.write_bytes, data)
    except OSError:
        print(_("Cannot write the file {path}.").format(path=path), file=sys.stderr)
        return False
    return True
