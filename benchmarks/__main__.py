"""``python -m benchmarks`` (``make bench``): run every benchmark and print its figures.

``python -m benchmarks broadcast reminders --real`` runs the named ones; options (``--real``:
Telegram's own 30/s instead of the quick 300/s) are left in ``sys.argv`` for them to read.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS = [
    "benchmarks.updates",
    "benchmarks.registration",
    "benchmarks.rush",
    "benchmarks.broadcast",
    "benchmarks.reminders",
    "benchmarks.faq",
    "benchmarks.feedback",
    "benchmarks.scale",
    "benchmarks.completion",
]


def main() -> int:
    names = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    sys.argv = [sys.argv[0], *(arg for arg in sys.argv[1:] if arg.startswith("-"))]
    chosen = names or BENCHMARKS
    for name in chosen:
        module = importlib.import_module(name if "." in name else f"benchmarks.{name}")
        print(f"\n=== {module.__name__} ===", flush=True)
        asyncio.run(module.main())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
