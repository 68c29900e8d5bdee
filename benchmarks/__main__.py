"""``python -m benchmarks`` (``make bench``): run every benchmark and print its figures."""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS = [
    "benchmarks.updates",
    "benchmarks.registration",
    "benchmarks.broadcast",
    "benchmarks.reminders",
]


def main() -> int:
    chosen = sys.argv[1:] or BENCHMARKS
    for name in chosen:
        module = importlib.import_module(name if "." in name else f"benchmarks.{name}")
        print(f"\n=== {module.__name__} ===", flush=True)
        asyncio.run(module.main())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
