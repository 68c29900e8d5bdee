"""A registration rush under Telegram's limits: 1,000 roster trainees open their links.

The organiser posts the personal links; trainees open them 50 at a time (``/start <code>``,
then Yes). The sandbox runs in its own process with Telegram's limits on, counted strictly
(30 calls in any sliding second, every write included; one message a second per person with
a burst of three), and the bot runs with its rate budget, as in production. Printed: how
many ended bound and welcomed (target: all), failed updates (target 0), 429s, p50/p99 from
``/start`` to the welcome, and the bot process's peak memory.

``python -m benchmarks.rush 200`` runs a smaller rush.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

from sqlmodel import col, func, select

from benchmarks.common import peak_rss_mb, percentile
from benchmarks.registration import COUNTRIES, PROGRAMME
from benchmarks.updates import our_bot, sandbox_host
from bot.db.models import Cohort, Enrolment, RosterEntry
from bot.services import programmes
from bot.services.roster import importing as roster_import
from sandbox import Limits, Sandbox, SandboxUser

TRAINEES = 1_000
AT_A_TIME = 50


def roster_csv(count: int) -> bytes:
    lines = ["Full name,Country,Organisation,Email,Preferred language"]
    for n in range(count):
        country = COUNTRIES[n % len(COUNTRIES)]
        lines.append(f"Rush Trainee {n},{country},Ministry {n % 97},r{n}@example.org,English")
    return ("\n".join(lines) + "\n").encode()


class _Failures(logging.Handler):
    """Counts the updates the bot reports failed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed" in record.getMessage():
            self.count += 1
            if self.count <= 3:
                print(f"  failed: {record.getMessage()}", flush=True)


async def _one(sandbox: Sandbox, user: SandboxUser, code: str, gate: asyncio.Semaphore) -> float:
    """Seconds from /start to the welcome; -1 when the welcome never came."""
    async with gate:
        started = time.perf_counter()
        try:
            await sandbox.send_text(user, f"/start {code}")
            question = await sandbox.next_bot_message(user.id, timeout=120)
            if not question.buttons:
                return -1.0
            yes = question.buttons[0][0].callback_data or ""
            await sandbox.press_button(user, question.message_id, yes)
            welcome = await sandbox.next_bot_message(user.id, timeout=120)
        except TimeoutError:
            return -1.0
        if "Welcome" not in (welcome.text or ""):
            return -1.0
        return time.perf_counter() - started


async def rush(
    sandbox: Sandbox, codes: list[str], at_a_time: int
) -> tuple[float, list[float], int]:
    """Everyone opens their link: seconds in all, each person's time, 429s seen."""
    gate = asyncio.Semaphore(at_a_time)
    users = [SandboxUser(id=700_000 + n, first_name=f"R{n}") for n in range(len(codes))]
    started = time.perf_counter()
    times = await asyncio.gather(
        *(_one(sandbox, user, code, gate) for user, code in zip(users, codes, strict=True))
    )
    elapsed = time.perf_counter() - started
    # What the bot still sends after the welcome (held back by its budget) arrives before
    # the sandbox goes away.
    await sandbox.settle(quiet=2.0, timeout=120)
    return elapsed, list(times), len(sandbox.rate_limited)


async def main(trainees: int = TRAINEES) -> None:
    failures = _Failures()
    logging.getLogger("bot.errors").addHandler(failures)
    async with sandbox_host(Limits(strict=True)) as host, our_bot(host) as app:
        async with app.session_factory() as session:
            await programmes.import_programme(
                session, programmes.parse_programme(PROGRAMME), app.clock.now()
            )
            cohort = (await session.exec(select(Cohort))).one()
            if cohort.id is None:
                raise RuntimeError("no cohort")
            outcome = await roster_import.import_roster(
                session, cohort.id, roster_csv(trainees), "roster.csv", app.clock.now()
            )
            if outcome.result is None:
                raise RuntimeError(f"roster refused: {outcome.errors[:3]}")
            codes = list((await session.exec(select(RosterEntry.personal_code))).all())
        elapsed, times, too_many = await host.run(rush, codes, AT_A_TIME)
        async with app.session_factory() as session:
            bound = (
                await session.exec(select(func.count()).where(col(Enrolment.user_id).is_not(None)))
            ).one()
    welcomed = [t * 1000 for t in times if t >= 0]
    print(
        f"registration rush: {trainees:,} roster trainees, {AT_A_TIME} at a time, sandbox "
        "limits on (strict count), rate budget on"
    )
    print(f"  bound: {bound:,} of {trainees:,}; welcomed: {len(welcomed):,} (target: all)")
    print(f"  failed updates: {failures.count} (target 0); 429s from the sandbox: {too_many}")
    print(
        f"  /start -> welcome: p50 {percentile(welcomed, 50):.0f} ms, "
        f"p99 {percentile(welcomed, 99):.0f} ms; {elapsed:.1f} s in all "
        f"({len(welcomed) / elapsed:.1f} registrations/s)"
    )
    print(f"  peak RSS of the bot's process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else TRAINEES))
