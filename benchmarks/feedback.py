"""Feedback at scale: forms planned for 3,000 trainees, answers arriving fast, a big report.

1. Planning: 3,000 trainees in 30 cohorts of 100 across nine time zones, one lecture each
   (spread over two days and every hour of the clock), one five-question form after it. The
   planner runs every five minutes of simulated time for four days; what falls due is
   marked sent at that moment, and two trainees in three answer some hours after their form
   arrived. Checked: every form sent inside its window (after the session, before it closes)
   and outside the reader's night (22:00-07:00 in their zone), every nudge to someone who had
   not answered, at most two each, in their daytime. Figures: time per planning run.
2. Answering: 2,000 trainees answer a five-question form with the buttons, through the real
   bot polling the sandbox (in a process of its own), updates arriving at a steady 200/s
   across them: p50 and p99 from pressing a button to the edited question (target p99 <
   100 ms), and all 2,000 responses stored whole.
3. Report: a cohort of 500, ten lectures, four in five answering each: the report's figures,
   its text and its chart, built (target < 2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from benchmarks.common import peak_rss_mb, percentile
from benchmarks.updates import our_bot, sandbox_host
from bot.clock import ManualClock
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.db.feedback import FeedbackForm, FeedbackRequest, FeedbackResponse, FormTrigger
from bot.db.models import Cohort, Enrolment, OutboxMessage, Programme, TrainingSession, User
from bot.services.feedback import planning, results
from sandbox import Sandbox, SandboxUser
from tests.support.postgres import PostgresServer, find_bindir

ZONES = [
    "Asia/Shanghai",
    "Asia/Tashkent",
    "Africa/Kampala",
    "America/Havana",
    "Europe/Belgrade",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/Lima",
    "Pacific/Fiji",
]
LOCALES = ["en", "zh", "ru", "fr", "es", "ar"]
START = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)


def questions() -> list[dict[str, Any]]:
    """Five questions answered with buttons: ratings, a recommendation, choices."""

    def texts(q: str, options: list[str] | None = None) -> dict[str, dict[str, Any]]:
        body: dict[str, Any] = {"q": q}
        if options:
            body["options"] = options
        return {"en": body}

    return [
        {"id": "overall", "kind": "rating", "skip": False, "texts": texts("Overall?")},
        {"id": "nps", "kind": "nps", "skip": False, "texts": texts("Recommend?")},
        {
            "id": "pace",
            "kind": "choice",
            "skip": False,
            "texts": texts("Pace?", ["Slow", "Right", "Fast"]),
        },
        {"id": "speaker", "kind": "rating", "skip": False, "texts": texts("Speaker?")},
        {
            "id": "format",
            "kind": "choice",
            "skip": False,
            "texts": texts("Format?", ["Online", "On site"]),
        },
    ]


def _form(programme_id: int, open_hours: int = 48) -> FeedbackForm:
    return FeedbackForm(
        programme_id=programme_id,
        key="after-lecture",
        titles={"en": "After the lecture"},
        questions=questions(),
        trigger=FormTrigger.AFTER_KIND,
        trigger_values=["lecture"],
        delay_minutes=15,
        open_hours=open_hours,
        nudges=2,
        nudge_every_hours=12,
    )


def _quiet(moment: datetime, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone)).time()
    return local.hour >= 22 or local.hour < 7


# --------------------------------------------------------------------------------------------
# 1. Planning


async def plan_run(cohorts: int = 30, per_cohort: int = 100) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'feedback.db'}"
        await migrate.upgrade(url)
        engine = create_engine(url)
        factory = create_session_factory(engine)
        zone_of: dict[int, str] = {}
        ends_of: dict[int, datetime] = {}
        async with factory() as session:
            programme = Programme(code="BENCH", home_timezone="Asia/Shanghai")
            session.add(programme)
            await session.flush()
            session.add(_form(programme.id or 0))
            user_id = 3_000_000
            for c in range(cohorts):
                cohort = Cohort(programme_id=programme.id or 0, code=f"F{c:02d}")
                session.add(cohort)
                await session.flush()
                starts = START + timedelta(hours=c * 1.6)  # every hour of the clock, two days
                session.add(
                    TrainingSession(
                        cohort_id=cohort.id or 0,
                        key="lecture",
                        titles={"en": "Lecture"},
                        kind="lecture",
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=90),
                    )
                )
                for _ in range(per_cohort):
                    user_id += 1
                    zone = ZONES[user_id % len(ZONES)]
                    zone_of[user_id] = zone
                    ends_of[user_id] = starts + timedelta(minutes=90)
                    session.add(
                        User(id=user_id, first_name="T", locale=LOCALES[user_id % 6], timezone=zone)
                    )
                    session.add(
                        Enrolment(
                            user_id=user_id,
                            cohort_id=cohort.id or 0,
                            created_at=START - timedelta(days=7),
                        )
                    )
            await session.commit()

        clock = ManualClock(START)
        times: list[float] = []
        answered_at: dict[int, datetime] = {}
        # Two in three answer, between 1 and 20 hours after their form arrived.
        answers_after = {
            uid: timedelta(hours=1 + (uid * 7919) % 20) for uid in zone_of if uid % 3 != 0
        }
        sent_form_at: dict[int, datetime] = {}
        while clock.now() < START + timedelta(days=4):
            now = clock.now()
            started = time.perf_counter()
            async with factory() as session:
                await planning.plan_feedback(session, now)
            times.append(time.perf_counter() - started)
            async with factory() as session:
                due = (
                    await session.exec(
                        select(OutboxMessage).where(
                            col(OutboxMessage.status) == "pending", col(OutboxMessage.due_at) <= now
                        )
                    )
                ).all()
                for row in due:
                    # The sender sends at the due time (within its pace): so does this one.
                    row.status, row.sent_at = "sent", row.due_at
                    if row.kind == planning.FORM_KIND and row.user_id is not None:
                        sent_form_at[row.user_id] = row.due_at
                    session.add(row)
                answering_now = [
                    uid
                    for uid, after in answers_after.items()
                    if uid in sent_form_at
                    and uid not in answered_at
                    and sent_form_at[uid] + after <= now
                ]
                if answering_now:
                    await session.execute(
                        update(FeedbackRequest)
                        .where(
                            col(FeedbackRequest.user_id).in_(answering_now),
                            col(FeedbackRequest.status).in_(["planned", "open"]),
                        )
                        .values(status="answered", answered_at=now, next_nudge_at=None)
                    )
                    for uid in answering_now:
                        answered_at[uid] = now
                await session.commit()
            clock.advance(timedelta(minutes=5))

        async with factory() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
            requests = (await session.exec(select(FeedbackRequest))).all()
        await engine.dispose()

    forms = [r for r in rows if r.kind == planning.FORM_KIND]
    nudges = [r for r in rows if r.kind == planning.NUDGE_KIND]
    closes = {r.user_id: r.closes_at for r in requests}
    late = sum(
        1
        for r in forms
        if r.sent_at is None
        or r.user_id is None
        or not (ends_of[r.user_id] + timedelta(minutes=15) <= r.sent_at < closes[r.user_id])
    )
    night_forms = sum(
        1 for r in forms if r.sent_at and r.user_id and _quiet(r.sent_at, zone_of[r.user_id])
    )
    night_nudges = sum(
        1 for r in nudges if r.sent_at and r.user_id and _quiet(r.sent_at, zone_of[r.user_id])
    )
    to_respondents = sum(
        1
        for r in nudges
        if r.user_id in answered_at and r.sent_at and answered_at[r.user_id] < r.sent_at
    )
    per_person = Counter(r.user_id for r in nudges)
    print(f"planning: {len(zone_of)} trainees, {cohorts} cohorts, one lecture and one form each")
    print(
        f"  forms sent: {len(forms)} of {len(zone_of)}; outside their window: {late};"
        f" in the reader's night: {night_forms} (targets 0)"
    )
    print(
        f"  answered: {len(answered_at)}; nudges: {len(nudges)} to {len(per_person)} people,"
        f" at most {max(per_person.values(), default=0)} each (target <= 2);"
        f" to people who had answered: {to_respondents}; at night: {night_nudges} (targets 0)"
    )
    print(
        f"  planning runs: {len(times)} (every 5 simulated minutes); p50"
        f" {percentile(times, 50) * 1000:.1f} ms, p99 {percentile(times, 99) * 1000:.1f} ms,"
        f" max {max(times) * 1000:.0f} ms"
    )


# --------------------------------------------------------------------------------------------
# 2. Answering through the bot


def _text_of(sandbox: Sandbox, chat_id: int, message_id: int) -> str:
    state = sandbox.world.chats.get(chat_id)
    stored = None if state is None else state.messages.get(message_id)
    return "" if stored is None else (stored.entry().text or "")


async def answer_forms(
    sandbox: Sandbox, request_of: dict[int, int], rate: float
) -> tuple[list[float], list[float], int]:
    """Each trainee presses Start, then an answer to each of five questions; the presses of
    everyone together arrive at ``rate`` per second. Returns (start, answer) latencies and how
    many trainees gave up (no edit within 30 s)."""
    people = {uid: SandboxUser(id=uid, first_name="A") for uid in request_of}
    # Every trainee's chat needs a message to press on: their /feedback list, unmeasured.
    for uid in people:
        await sandbox.send_text(people[uid], "/feedback")
    for uid in people:
        await sandbox.next_bot_message(uid, timeout=60)
    steps = dict.fromkeys(people, 0)
    question_message: dict[int, int] = {}
    busy: set[int] = set()
    starts: list[float] = []
    answers: list[float] = []
    late: list[int] = []

    async def step(uid: int) -> None:
        user = people[uid]
        began = time.perf_counter()
        if steps[uid] == 0:
            listing = sandbox.bot_messages(uid)[-1]
            await sandbox.press_button(user, listing.message_id, f"fb:s:{request_of[uid]}")
            try:
                question = await sandbox.next_bot_message(uid, timeout=30)
            except TimeoutError:
                late.append(uid)
                steps[uid] = 6
                busy.discard(uid)
                return
            question_message[uid] = question.message_id
            starts.append(time.perf_counter() - began)
        else:
            message_id = question_message[uid]
            entry = next(e for e in sandbox.bot_messages(uid) if e.message_id == message_id)
            data = next(
                b.callback_data
                for row in entry.buttons
                for b in row
                if (b.callback_data or "").startswith("fb:a:")
            )
            before = entry.text or ""
            await sandbox.press_button(user, message_id, data or "")
            try:
                await sandbox.wait_for(
                    lambda: _text_of(sandbox, uid, message_id) != before,
                    timeout=30,
                    what="the edit",
                )
            except TimeoutError:
                late.append(uid)
                steps[uid] = 6  # this trainee gives up
                busy.discard(uid)
                return
            answers.append(time.perf_counter() - began)
        steps[uid] += 1
        busy.discard(uid)

    order = list(people)
    total = len(order) * 6
    tasks = []
    started = time.perf_counter()
    cursor = 0
    for n in range(total):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # The next trainee (round robin) with a step left and none on its way.
        for _ in range(len(order)):
            uid = order[cursor % len(order)]
            cursor += 1
            if steps[uid] < 6 and uid not in busy:
                busy.add(uid)
                tasks.append(asyncio.create_task(step(uid)))
                break
    await asyncio.gather(*tasks)
    return starts, answers, len(late)


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str | None]:
    """``sqlite``: None (the bot's own fresh file); ``postgres``: a throw-away server's URL,
    when PostgreSQL is installed (else None, and the run says so)."""
    bindir = find_bindir() if kind == "postgres" else None
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    server.start()
    try:
        await server.aexecute("CREATE DATABASE bench")
        yield server.url("bench")
    finally:
        server.stop()


async def answering_run(trainees: int = 2000, rate: float = 200.0, kind: str = "sqlite") -> None:
    async with database(kind) as url:
        if kind == "postgres" and url is None:
            print("answering on PostgreSQL: skipped (PostgreSQL is not installed)")
            return
        await _answering(trainees, rate, url, kind)


async def _answering(trainees: int, rate: float, url: str | None, kind: str) -> None:
    if url is not None:
        await migrate.upgrade(url)
    async with sandbox_host() as host, our_bot(host, rate_budget=False, database_url=url) as app:
        now = app.context.clock.now()
        request_of: dict[int, int] = {}
        async with app.session_factory() as session:
            programme = Programme(code="ANSWER", home_timezone="UTC")
            session.add(programme)
            await session.flush()
            cohort = Cohort(programme_id=programme.id or 0, code="ANSWER")
            form = _form(programme.id or 0)
            session.add_all([cohort, form])
            await session.flush()
            requests = []
            for i in range(trainees):
                uid = 4_000_000 + i
                session.add(User(id=uid, first_name="A", locale="en", timezone="UTC"))
                session.add(Enrolment(user_id=uid, cohort_id=cohort.id or 0))
                request = FeedbackRequest(
                    form_id=form.id or 0,
                    cohort_id=cohort.id or 0,
                    occasion="bench",
                    user_id=uid,
                    status="open",
                    opens_at=now - timedelta(minutes=1),
                    closes_at=now + timedelta(hours=48),
                )
                session.add(request)
                requests.append(request)
            await session.commit()
            for request in requests:
                request_of[request.user_id or 0] = request.id or 0
        began = time.perf_counter()
        starts, answers, gave_up = await host.run(answer_forms, request_of, rate)
        elapsed = time.perf_counter() - began
        async with app.session_factory() as session:
            responses = (await session.exec(select(FeedbackResponse))).all()
    whole = sum(1 for r in responses if len(r.answers) == 5)
    print(
        f"answering: {trainees} trainees x (Start + 5 answers) = {len(starts) + len(answers)}"
        f" button presses at {rate:.0f}/s, in {elapsed:.0f} s ({kind})"
    )
    print(
        f"  press -> edited question: p50 {percentile(answers, 50) * 1000:.1f} ms,"
        f" p99 {percentile(answers, 99) * 1000:.1f} ms (target < 100 ms);"
        f" Start -> first question: p99 {percentile(starts, 99) * 1000:.1f} ms"
    )
    print(f"  responses stored whole: {whole} of {trainees}; gave up waiting 30 s: {gave_up}")


# --------------------------------------------------------------------------------------------
# 3. The report of a big cohort


async def report_run(trainees: int = 500, lectures: int = 10) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'report.db'}"
        await migrate.upgrade(url)
        engine = create_engine(url)
        factory = create_session_factory(engine)
        async with factory() as session:
            programme = Programme(code="REPORT", home_timezone="Asia/Shanghai")
            session.add(programme)
            await session.flush()
            cohort = Cohort(programme_id=programme.id or 0, code="REPORT")
            form = _form(programme.id or 0)
            form.questions = [
                *form.questions[:4],
                {"id": "comment", "kind": "text", "skip": True, "texts": {"en": {"q": "Else?"}}},
            ]
            session.add_all([cohort, form])
            await session.flush()
            rows = []
            for n in range(lectures):
                starts = START + timedelta(days=n)
                row = TrainingSession(
                    cohort_id=cohort.id or 0,
                    key=f"l{n}",
                    titles={"en": f"Lecture {n + 1}", "zh": f"第{n + 1}讲"},
                    kind="lecture",
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=90),
                )
                session.add(row)
                rows.append(row)
            await session.flush()
            for i in range(trainees):
                uid = 5_000_000 + i
                session.add(User(id=uid, first_name="R"))
                for row in rows:
                    request = FeedbackRequest(
                        form_id=form.id or 0,
                        cohort_id=cohort.id or 0,
                        session_id=row.id,
                        occasion=f"s:{row.id}",
                        user_id=uid,
                        status="answered" if i % 5 else "closed",
                        opens_at=row.ends_at,
                        closes_at=row.ends_at + timedelta(hours=48),
                    )
                    session.add(request)
                    if i % 5:
                        session.add(
                            FeedbackResponse(
                                form_id=form.id or 0,
                                cohort_id=cohort.id or 0,
                                session_id=row.id,
                                user_id=uid,
                                answers={
                                    "overall": 1 + (i + (row.id or 0)) % 5,
                                    "nps": i % 11,
                                    "pace": i % 3,
                                    "speaker": 1 + i % 5,
                                    **({"comment": f"Comment {i}"} if i % 7 == 0 else {}),
                                },
                            )
                        )
            await session.commit()
            cohort_id = cohort.id or 0
        timings: dict[str, list[float]] = {"figures": [], "text": [], "chart": [], "whole": []}
        for _run in range(5):
            began = time.perf_counter()
            async with factory() as session:
                report = await results.build_report(session, cohort_id)
            figures = time.perf_counter()
            assert report is not None
            text = report.text("zh")
            texted = time.perf_counter()
            chart = report.chart_png("zh")
            done = time.perf_counter()
            timings["figures"].append(figures - began)
            timings["text"].append(texted - figures)
            timings["chart"].append(done - texted)
            timings["whole"].append(done - began)
        await engine.dispose()
    answers = trainees * lectures * 4 // 5
    print(
        f"report: a cohort of {trainees}, {lectures} lectures, {answers} responses of five"
        f" questions (SQLite), in Chinese"
    )
    print(
        "  median of 5: "
        + ", ".join(f"{name} {statistics.median(v) * 1000:.0f} ms" for name, v in timings.items())
        + f" (target < 2000 ms); text {len(text)} characters, chart {len(chart or b'')} bytes"
    )


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    await plan_run()
    for kind, rate in (("sqlite", 100.0), ("sqlite", 200.0), ("postgres", 200.0)):
        await answering_run(rate=rate, kind=kind)
    await report_run()
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
