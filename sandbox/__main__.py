"""``python -m sandbox``: a standalone sandbox in its own process, driven over HTTP.

Unlike ``trainee-bot sandbox`` it reads no settings and can pick a free port; it prints
``SANDBOX_URL <url>`` once listening and stops when its standard input closes, so the
process that started it needs no signals to end it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sandbox.models import Limits
from sandbox.server import Sandbox


async def _serve(host: str, port: int, limits: Limits) -> None:
    sandbox = Sandbox(limits=limits)
    url = await sandbox.start(host=host, port=port)
    print(f"SANDBOX_URL {url}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        # Blocks in a thread until the parent closes our standard input (or exits).
        await loop.run_in_executor(None, sys.stdin.buffer.read)
    finally:
        await sandbox.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rate", type=float, default=30.0, help="global sends per second")
    parser.add_argument("--no-limits", action="store_true", help="turn the flood limits off")
    parser.add_argument(
        "--strict", action="store_true", help="count in sliding windows, every write included"
    )
    args = parser.parse_args(argv)
    limits = Limits(enabled=not args.no_limits, global_per_second=args.rate, strict=args.strict)
    asyncio.run(_serve(args.host, args.port, limits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
