"""Registration: a 10,000-row roster import, then 10,000 trainees using their personal links.

1. Import a generated roster of 10,000 trainees into one cohort (SQLite file): time and peak
   Python memory (tracemalloc) of parsing and writing.
2. The 10,000 trainees open their personal links at once through the sandbox (rate limits
   off in the sandbox and in the bot, at most ``CONCURRENCY`` in flight): ``/start <code>``
   until the question arrives, then Yes until the welcome arrives. Prints registrations per
   second and p50/p99 of each step.

As in the updates benchmark, the sandbox and the simulated trainees run in a process of their
own (``BENCH_SANDBOX=inline`` keeps them in the bot's process); the roster import runs in the
bot's process. ``python -m benchmarks.registration 1000`` runs a smaller cohort.
"""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc

from sqlmodel import select

from benchmarks.common import peak_rss_mb, percentile
from benchmarks.updates import inline_sandbox, our_bot, sandbox_host
from bot.db.models import Cohort, RosterEntry
from bot.services import programmes
from bot.services.roster import importing as roster_import
from sandbox import Sandbox, SandboxUser

TRAINEES = 10_000
CONCURRENCY = 100
#: Countries with one clock, so every registration takes the same path.
COUNTRIES = ["Uganda", "Kenya", "Pakistan", "Uzbekistan", "Egypt", "Nepal", "Peru", "Serbia"]
PROGRAMME = """
code: BENCH
titles: {en: Benchmark programme}
home_timezone: Asia/Shanghai
cohorts:
  - {code: BENCH-A, name: Benchmark cohort, starts_on: 2027-03-08, ends_on: 2027-04-02}
"""


def roster_csv(count: int) -> bytes:
    """A roster of ``count`` distinct trainees."""
    lines = ["Full name,Country,Organisation,Email,Preferred language"]
    for n in range(count):
        country = COUNTRIES[n % len(COUNTRIES)]
        lines.append(f"Trainee Number {n},{country},Ministry {n % 97},t{n}@example.org,English")
    return ("\n".join(lines) + "\n").encode()


async def _register(
    sandbox: Sandbox, user: SandboxUser, code: str, limit: asyncio.Semaphore
) -> tuple[float, float]:
    async with limit:
        started = time.perf_counter()
        await sandbox.send_text(user, f"/start {code}")
        question = await sandbox.next_bot_message(user.id, timeout=120)
        asked = time.perf_counter()
        if not question.buttons:
            raise RuntimeError(f"no question for {user.id}: {question.text!r}")
        yes = question.buttons[0][0].callback_data or ""
        await sandbox.press_button(user, question.message_id, yes)
        welcome = await sandbox.next_bot_message(user.id, timeout=120)
        done = time.perf_counter()
        if "Welcome" not in (welcome.text or ""):
            raise RuntimeError(f"unexpected answer: {welcome.text!r}")
        return asked - started, done - asked


async def register_all(
    sandbox: Sandbox, codes: list[str], concurrency: int
) -> tuple[float, list[tuple[float, float]]]:
    """Everyone opens their personal link, ``concurrency`` at a time: seconds and each step."""
    limit = asyncio.Semaphore(concurrency)
    users = [SandboxUser(id=100_000 + n, first_name=f"T{n}") for n in range(len(codes))]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_register(sandbox, user, code, limit) for user, code in zip(users, codes, strict=True))
    )
    return time.perf_counter() - started, list(results)


async def main(trainees: int = TRAINEES) -> None:
    # The bot's own capacity: no limits in the sandbox, no rate budget in the bot
    # (benchmarks/rush.py registers under Telegram's limits).
    async with sandbox_host() as host, our_bot(host, rate_budget=False) as app:
        async with app.session_factory() as session:
            spec = programmes.parse_programme(PROGRAMME)
            await programmes.import_programme(session, spec, app.clock.now())
            cohort = (await session.exec(select(Cohort))).one()
        if cohort.id is None:
            raise RuntimeError("no cohort")
        data = roster_csv(trainees)
        tracemalloc.start()
        started = time.perf_counter()
        async with app.session_factory() as session:
            outcome = await roster_import.import_roster(
                session, cohort.id, data, "roster.csv", app.clock.now()
            )
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if outcome.result is None:
            raise RuntimeError(f"roster refused: {outcome.errors[:3]}")
        print(
            f"roster import: {trainees:,} rows in {elapsed:.2f} s "
            f"({trainees / elapsed:,.0f} rows/s), peak traced memory "
            f"{peak / 1024 / 1024:.1f} MB"
        )
        async with app.session_factory() as session:
            codes = list((await session.exec(select(RosterEntry.personal_code))).all())

        elapsed, results = await host.run(register_all, codes, CONCURRENCY)
    starts = [r[0] * 1000 for r in results]
    confirms = [r[1] * 1000 for r in results]
    print(
        f"personal links: {len(results):,} registrations in {elapsed:.1f} s "
        f"({len(results) / elapsed:,.0f} registrations/s, {CONCURRENCY} in flight)"
    )
    print(
        f"  /start <code> -> question: p50 {percentile(starts, 50):.0f} ms, "
        f"p99 {percentile(starts, 99):.0f} ms"
    )
    print(
        f"  Yes -> welcome:            p50 {percentile(confirms, 50):.0f} ms, "
        f"p99 {percentile(confirms, 99):.0f} ms"
    )
    where = "sandbox in the same process" if inline_sandbox() else "sandbox in a process of its own"
    print(f"peak RSS of the bot's process: {peak_rss_mb():.0f} MB ({where})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else TRAINEES))
