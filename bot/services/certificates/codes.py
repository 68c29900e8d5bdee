"""Verification codes: ten random characters of Crockford's base32 (50 bits from
:mod:`secrets`), shown as ``XXXXX-XXXXX``.

The alphabet has no I, L, O or U; a code typed with lower case, spaces or dashes, or with
O for 0 and I or L for 1, still reads as the same code.
"""

from __future__ import annotations

import secrets
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH: Final = 10
_SAME: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh code (stored form: ten characters, no dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """``ABCDE-FGHJK``."""
    return f"{code[:5]}-{code[5:]}"


def normalise(text: str) -> str | None:
    """The stored form of a typed code; None when it cannot be a code."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_SAME)
    if len(cleaned) != LENGTH or any(char not in ALPHABET for char in cleaned):
        return None
    return cleaned
