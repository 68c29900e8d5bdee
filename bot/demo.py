"""``trainee-bot demo``: the sandbox and the bot in one process, and a chat in this terminal.

At start the sample programme, roster and timetable (``examples/``) are imported through the
same services as the command line (:mod:`bot.demo_seed`). The person types as a Telegram user;
the bot's answers are printed with their buttons numbered; typing a number presses that
button. Lines starting with ``:`` are demo commands (``:help``): register as one of the
roster's trainees, let time pass, move a session as the organiser. Ctrl-D ends the demo.

Time. The bot runs on a :class:`~bot.clock.ManualClock` that starts a little over a day
before the first session and moves only on ``:wait``. The bot is the real one, started with
``run_polling()``, so its own sender and scheduler run as in production. That is the simplest
correct design: the sender delivers whatever is due by the bot's clock, at once when woken;
the scheduler's jobs fire on wall-clock intervals but read the bot's clock, and planning is
idempotent (one outbox row per reminder key), so a run between two ``:wait`` commands only
plans, at the same demo instant, what the next ``:wait`` would plan at its first step.
``:wait`` does not rely on those timers: it drives the planning jobs itself with
:func:`bot.scheduling.jobs.fast_forward_to`, stopping at each due message and letting the
running sender deliver it before time moves on, so reminders and notices arrive in order and
at their own demo time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.app import SANDBOX_TOKEN, Application, application
from bot.clock import ManualClock
from bot.config import Settings
from bot.db import certificates as certificates_db
from bot.demo_seed import (
    DEFAULT_EXAMPLES,
    MAX_WAIT,
    DemoSetupError,
    DemoWorld,
    MoveError,
    RosterPerson,
    classroom_export,
    describe_duration,
    describe_instant,
    load_samples,
    move_next_session,
    next_session,
    parse_duration,
    roster,
    seed,
    start_time,
)
from bot.i18n import use_locale
from bot.scheduling import jobs
from bot.services.attendance import classroom
from bot.services.certificates import codes, issuing
from bot.services.certificates.plans import describe_plan
from bot.services.certificates.render import FontsMissing
from bot.services.roster import importing as roster_import
from sandbox import Limits, Sandbox, SandboxChat, SandboxUser, TranscriptEntry

DEMO_TRAINEE = SandboxUser(id=424242, first_name="Amina", last_name="Nakato", language_code="en")
DEMO_ADMIN = SandboxUser(id=434343, first_name="Li", last_name="Na", language_code="en")
VERIFIER = SandboxUser(id=454545, first_name="Sara", last_name="Okoro", language_code="en")
#: Roster trainee N registers from the Telegram account ``ROSTER_ACCOUNTS + N``.
ROSTER_ACCOUNTS = 500_000
#: The programme team's supergroup, topics on: questions the FAQ cannot answer arrive there.
STAFF_GROUP = SandboxChat(id=-1001000000777, type="supergroup", title="Programme team")
DEFAULT_MOVE = timedelta(hours=1)

HELP = """Demo commands:
  <text>           send a message as the current person (e.g. /start, /help, /next, Tashkent)
  <number>         press that button under the bot's last message with buttons
  :trainees        the demo cohort's roster, numbered
  :register N      become roster trainee N: a new Telegram account opens their personal link
  :wait DURATION   let time pass (30m, 2h, 1d, 1h30m); what falls due arrives in the chats
  :time            the demo's date and time, and the next session
  :move-next [DURATION]
                   as the organiser, send the timetable with the next session moved
                   (default 1h; -30m moves it earlier), then press Confirm
  :admin           speak as the organiser (an admin) — :trainee to switch back
  :staff TEXT      as the organiser, answer in the staff group's topic of the last trainee
                   who asked something the FAQ could not answer
  :file PATH       send a file to the bot as the current person
  :classroom       as the organiser, import the online classroom's participant report
                   (a Zoom-style CSV) of the latest session that started
  :vote N          answer the newest quiz poll in the current chat with option N
  :certificates    as the organiser, issue certificates to the demo cohort's trainees who
                   completed (the PDFs are also saved next to the demo's database)
  :verify          as someone new to the bot, check the last certificate issued
                   (/start verify-CODE, the link in its QR code)
  :help            this list
  Ctrl-D           end the demo"""


@dataclass
class _Screen:
    """What has been printed for one chat, so edits are shown once and buttons numbered."""

    out: TextIO
    name: str
    printed: dict[int, tuple[str, str]] = field(default_factory=dict)
    buttons: list[tuple[int, str]] = field(default_factory=list)

    def show(self, entry: TranscriptEntry, *, current: bool) -> None:
        body = entry.text or entry.caption or ""
        if entry.poll:
            body = f"[quiz poll] {entry.poll.get('question', '')}"
            options = [str(option.get("text", "")) for option in entry.poll.get("options", [])]
            body += "".join(f"\n  :vote {n}  {text}" for n, text in enumerate(options, 1))
        elif entry.document_name:
            body = f"[file: {entry.document_name}] {body}".rstrip()
        elif entry.photo:
            body = f"[picture: a chart] {body}".rstrip()
        flat = [b for row in entry.buttons for b in row]
        signature = (body, repr([(b.text, b.callback_data, b.url) for b in flat]))
        previous = self.printed.get(entry.message_id)
        if previous == signature:
            return
        self.printed[entry.message_id] = signature
        label = "bot" if current else f"bot → {self.name}"
        if previous is not None:
            label += " (edited)"
        print(f"\n{label}> " + body.replace("\n", "\n     "), file=self.out)
        if flat:
            self.buttons = []
            for number, button in enumerate(flat, start=1):
                if button.url:
                    print(f"   [{number}] {button.text} → {button.url}", file=self.out)
                else:
                    print(f"   [{number}] {button.text}", file=self.out)
                self.buttons.append((entry.message_id, button.callback_data or ""))
        self.out.flush()


async def _read_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


def _typed_lines_are_echoed() -> bool:
    """Whether the terminal shows what is typed (else the demo prints it, for a transcript)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _fresh_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _read_file(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _full_name(user: SandboxUser) -> str:
    return " ".join(p for p in (user.first_name, user.last_name) if p)


async def run_demo(
    settings: Settings,
    database: str = "data/demo.db",
    out: TextIO = sys.stdout,
    examples: Path | None = None,
) -> int:
    """Run the interactive demo until end of input."""
    folder = examples or DEFAULT_EXAMPLES
    try:
        samples = await asyncio.to_thread(load_samples, folder)
        clock = ManualClock(start_time(samples))
    except DemoSetupError as exc:
        print(f"Cannot start the demo: {exc}", file=sys.stderr)
        return 1
    db_path = Path(database)
    await asyncio.to_thread(_fresh_database, db_path)
    sb = Sandbox(limits=Limits(enabled=False))
    await sb.start(host="127.0.0.1", port=0)
    demo_settings = settings.model_copy(
        update={
            "bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": sb.url,
            "database_url": f"sqlite+aiosqlite:///{db_path}",
            "admin_ids": [DEMO_ADMIN.id],
            "redis_url": None,
        }
    )
    print("Starting the sandbox and the bot on a fresh database...", file=out)
    if settings.log_level != "DEBUG":
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    try:
        async with application(demo_settings, clock=clock) as app:
            await app.prepare()
            try:
                world = await seed(app.session_factory, clock, samples)
            except DemoSetupError as exc:
                print(f"Cannot start the demo: {exc}", file=sys.stderr)
                return 1
            polling = asyncio.create_task(app.run_polling())
            try:
                with tempfile.TemporaryDirectory(prefix="trainee-bot-demo-") as workdir:
                    demo = _Demo(sb, app, clock, world, Path(workdir), out, db_path)
                    await demo.link_staff_group()
                    await demo.introduce(folder)
                    await demo.chat()
            finally:
                await app.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(polling, timeout=10)
    finally:
        await sb.stop()
    print("\nDemo ended.", file=out)
    return 0


class _Demo:
    """The terminal side: who is speaking, what each chat has shown, the demo commands."""

    def __init__(
        self,
        sb: Sandbox,
        app: Application,
        clock: ManualClock,
        world: DemoWorld,
        workdir: Path,
        out: TextIO,
        database: Path,
    ) -> None:
        self.database = database
        self.last_code: str | None = None
        self.sb = sb
        self.app = app
        self.clock = clock
        self.world = world
        self.workdir = workdir
        self.out = out
        self.trainee = DEMO_TRAINEE
        self.person = DEMO_TRAINEE
        self.screens = {
            DEMO_TRAINEE.id: _Screen(out, DEMO_TRAINEE.first_name),
            DEMO_ADMIN.id: _Screen(out, f"{DEMO_ADMIN.first_name} (organiser)"),
        }
        self.answers_seen: set[str] = set()
        self.timetable = world.samples.timetable
        self.echo = not _typed_lines_are_echoed()

    def say(self, text: str = "") -> None:
        print(text, file=self.out)
        self.out.flush()

    # -- the story ----------------------------------------------------------------------------

    async def link_staff_group(self) -> None:
        """The organiser makes the programme team's forum the staff inbox."""
        await self.sb.create_forum(DEMO_ADMIN, STAFF_GROUP)
        await self.sb.send_text(
            DEMO_ADMIN, f"/link_staff {self.world.programme_code}", chat=STAFF_GROUP
        )
        await self.settle()
        self.screens[STAFF_GROUP.id] = _Screen(self.out, "staff group")

    async def introduce(self, folder: Path) -> None:
        w = self.world
        samples = w.samples
        self.say(f"Seeded from {folder}:")
        self.say(f"  programme {w.programme_code}: {w.programme_title} ({samples.programme_name})")
        self.say(
            f"  cohort {w.cohort_code}, {w.cohort_name}: {w.trainees} trainees "
            f"({samples.roster_name}), {w.sessions} sessions ({samples.timetable_name})"
        )
        if w.faq_entries:
            self.say(
                f"  FAQ: {w.faq_entries} questions and answers (faq.yaml); the staff group "
                f"“{STAFF_GROUP.title}” gets what the FAQ cannot answer"
            )
        if w.forms:
            names = ", ".join(f"{title} ({key})" for key, title in w.forms)
            self.say(f"  feedback forms (feedback.yaml): {names}")
        if w.quizzes:
            self.say(f"  quizzes (quiz.yaml): {', '.join(w.quizzes)}")
        for code, mode in w.other_cohorts:
            how = {
                "open": "anyone may register",
                "approval": "anyone may ask, an organiser approves",
            }.get(mode, "personal links only")
            self.say(f"  cohort {code} ({mode}: {how}): type /start {code} to try its link")
        await self.show_time()
        self.say("")
        self.say(
            f"You are {_full_name(DEMO_TRAINEE)}, a Telegram user who has not registered yet. "
            "A walk through it:"
        )
        self.say("  1. :trainees lists the roster; :register 1 opens trainee 1's personal link")
        self.say("     from a new Telegram account; type 1 to answer Yes to “Are you …?”.")
        self.say("  2. :wait 2h lets two hours pass: the reminder a day before the first")
        self.say("     session arrives; wait on (:wait 1d) for the one 15 minutes before.")
        self.say("  3. :move-next 1h sends, as the organiser, the timetable with the next session")
        self.say("     an hour later; type 1 to Confirm, and the trainee gets the change notice.")
        self.say("  4. As the trainee, type a question (how do I join ClassIn, 证书什么时候发):")
        self.say("     the FAQ answers in your language; ask something else (the weather) and")
        self.say("     it goes to the staff group; :staff It will be sunny answers from there.")
        self.say("  5. :wait past a lecture's end: its feedback form arrives 15 minutes after it,")
        self.say("     one question at a time; a trainee who ignores it is nudged later. As the")
        self.say("     organiser (:admin), /results shows the answers with a chart, /attendance")
        self.say("     marks who was there, :classroom imports the classroom's report; as the")
        self.say("     trainee, /progress shows your attendance and forms.")
        self.say("  6. :wait 2d6h: the quiz after the digital-economy lecture arrives as Telegram")
        self.say("     quiz polls; :vote N answers, the next question follows; /quiz shows the")
        self.say("     score. As the organiser, /completion DT27-A lists who completed and who")
        self.say("     is at risk; /completion_except DT27-A Amina Nakato | followed the")
        self.say("     recordings records an exception; :certificates issues the PDFs (saved")
        self.say("     next to the demo's database too); :verify checks the last one as a")
        self.say("     stranger would, with /start verify-CODE.")
        self.say(HELP)

    async def show_time(self) -> None:
        now = self.clock.now()
        self.say(f"Demo time: {describe_instant(now, self.world.home_zone)}.")
        upcoming = await next_session(self.app.session_factory, self.world, now)
        if upcoming is None:
            self.say("No session of the cohort lies ahead.")
            return
        title, starts = upcoming
        self.say(
            f"Next session: {title}, {describe_instant(starts, self.world.home_zone)}, "
            f"in {describe_duration(starts - now)}."
        )

    # -- the loop -----------------------------------------------------------------------------

    async def chat(self) -> None:
        while True:
            print(f"\n{self.person.first_name}> ", end="", file=self.out)
            self.out.flush()
            line = await _read_line()
            if line == "":
                break
            text = line.strip()
            if self.echo:
                self.say(text)
            if not text:
                continue
            mark = len(self.sb.requests)
            if text.startswith(":"):
                answer_expected = await self.command(text)
            else:
                answer_expected = await self.speak(text)
            if answer_expected:
                await self.wait_for_answer(mark)
            await self.render()

    async def speak(self, text: str) -> bool:
        """Send the line, or press the numbered button; True when the bot will answer."""
        screen = self.screens[self.person.id]
        if not (text.isdigit() and screen.buttons):
            await self.sb.send_text(self.person, text)
            return True
        number = int(text)
        if not 1 <= number <= len(screen.buttons):
            self.say(f"   (there is no button {number})")
            return False
        message_id, data = screen.buttons[number - 1]
        if not data:
            self.say("   (that button opens a link)")
            return False
        await self.sb.press_button(self.person, message_id, data)
        return True

    async def wait_for_answer(self, mark: int) -> None:
        """Wait until the bot reacted to what was just sent, and what it queued went out."""

        def answered() -> bool:
            return any(r.method != "getUpdates" for r in self.sb.requests[mark:])

        with contextlib.suppress(TimeoutError):
            await self.sb.wait_for(answered, timeout=15, what="the bot's answer")
        # A handler may still be on its way: a second message to the same chat within a
        # second waits for Telegram's per-chat pace.
        for _tick in range(150):
            if self.app.updates_in_progress() == 0:
                break
            await asyncio.sleep(0.1)
        await self.settle()

    async def settle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await self.sb.settle(quiet=0.3, timeout=15)
        await jobs.wait_until_delivered(
            self.app.session_factory, self.clock, self.app.sender, timeout=15
        )
        with contextlib.suppress(TimeoutError):
            await self.sb.settle(quiet=0.2, timeout=15)

    async def render(self) -> None:
        """Print what is new in every chat: the current person's first, then the others'."""
        self.render_chat(self.person.id)
        for query_id, answer in list(self.sb.callback_answers.items()):
            if query_id not in self.answers_seen:
                self.answers_seen.add(query_id)
                if answer.get("text"):
                    self.say(f"   ({answer['text']})")
        for chat_id in self.screens:
            if chat_id != self.person.id:
                self.render_chat(chat_id)

    def render_chat(self, chat_id: int) -> None:
        screen = self.screens[chat_id]
        for entry in self.sb.transcript(chat_id):
            if entry.from_bot:
                screen.show(entry, current=chat_id == self.person.id)

    # -- demo commands ------------------------------------------------------------------------

    async def command(self, text: str) -> bool:
        """Run a ``:`` command; True when it sent something the bot will answer."""
        command, _sep, argument = text.partition(" ")
        argument = argument.strip()
        if command == ":admin":
            self.become(DEMO_ADMIN, "an organiser")
            return False
        if command == ":trainee":
            self.become(self.trainee, "a trainee")
            return False
        if command == ":trainees":
            await self.list_trainees()
            return False
        if command == ":register":
            return await self.register(argument)
        if command == ":wait":
            await self.wait(argument)
            return False
        if command == ":time":
            await self.show_time()
            return False
        if command in (":move-next", ":move"):
            return await self.move_next(argument)
        if command == ":staff":
            return await self.staff_answer(argument)
        if command == ":classroom":
            await self.classroom()
            return False
        if command == ":vote":
            return await self.vote(argument)
        if command == ":certificates":
            await self.certificates()
            return False
        if command == ":verify":
            if self.last_code is None:
                self.say("   (no certificate issued yet: :certificates as the organiser first)")
                return False
            self.become(VERIFIER, "someone checking a certificate")
            await self.sb.send_text(VERIFIER, f"/start verify-{self.last_code}")
            return True
        if command == ":file":
            path = Path(argument)
            content = await asyncio.to_thread(_read_file, path)
            if content is None:
                self.say(f"   (no such file: {path})")
                return False
            await self.sb.send_document(self.person, path.name, content)
            return True
        self.say(HELP)
        return False

    async def classroom(self) -> None:
        export = await classroom_export(self.app.session_factory, self.world, self.clock.now())
        if export is None:
            self.say("   (no session has started yet: :wait until one has)")
            return
        path = self.workdir / f"zoom-participants-{export.session_id}.csv"
        await asyncio.to_thread(path.write_bytes, export.content)
        self.say(
            f"The organiser downloads the participant report of “{export.title}” from the "
            f"online classroom ({path}) and imports it:"
        )
        self.say(f"$ trainee-bot attendance import {path.name} --session {export.session_id}")
        async with self.app.session_factory() as session:
            outcome = await classroom.import_report(
                session,
                session_id=export.session_id,
                data=export.content,
                now=self.clock.now(),
            )
        with use_locale("en"):
            if outcome.ok:
                self.say(classroom.describe_import(outcome))
            else:
                self.say("Not imported: " + "; ".join(str(p) for p in outcome.problems))

    async def vote(self, argument: str) -> bool:
        if not argument.isdigit() or int(argument) < 1:
            self.say("   (type :vote N, N being the option's number under the quiz poll)")
            return False
        try:
            await self.sb.answer_poll(self.person, [int(argument) - 1])
        except ValueError as exc:
            self.say(f"   (Telegram would not take that vote: {exc})")
            return False
        return True

    async def certificates(self) -> None:
        self.say(f"$ trainee-bot certificates issue --cohort {self.world.cohort_code}")
        async with self.app.session_factory() as session:
            try:
                with use_locale("en"):
                    plan = await issuing.issue(
                        session,
                        self.app.settings,
                        self.world.cohort_code,
                        self.clock.now(),
                        sender=self.app.sender,
                    )
            except (issuing.IssueError, FontsMissing) as exc:
                self.say(f"Not issued: {exc}")
                return
            with use_locale("en"):
                self.say(describe_plan(plan, dry_run=False))
            for name, code in plan.codes.items():
                stored = codes.normalise(code)
                certificate = await certificates_db.by_code(session, stored) if stored else None
                if certificate is None or certificate.pdf is None:
                    continue
                path = self.database.parent / f"certificate-{stored}.pdf"
                await asyncio.to_thread(path.write_bytes, certificate.pdf)
                self.say(f"  {name}: {path}; anyone may check it with /start verify-{stored}")
                self.last_code = stored
        await self.settle()
        await self.render()

    async def staff_answer(self, text: str) -> bool:
        topics = self.sb.topics(STAFF_GROUP.id)
        if not text or not topics:
            self.say("   (type :staff TEXT once a trainee's question has reached the staff group)")
            return False
        await self.sb.post_in_topic(DEMO_ADMIN, STAFF_GROUP, topics[-1].message_thread_id, text)
        return True

    def become(self, user: SandboxUser, role: str) -> None:
        if user.id not in self.screens:
            self.screens[user.id] = _Screen(self.out, user.first_name)
        self.person = user
        self.say(f"Now speaking as {_full_name(user)}, {role}.")

    async def list_trainees(self) -> None:
        people = await roster(self.app.session_factory, self.world)
        self.say(f"The roster of {self.world.cohort_code} ({self.world.samples.roster_name}):")
        for person in people:
            done = "  [registered]" if person.registered else ""
            self.say(f"  {person.number:>2}. {person.describe()}{done}")
        self.say(":register N makes you trainee N; the bot then speaks the language they read.")

    async def register(self, argument: str) -> bool:
        people = await roster(self.app.session_factory, self.world)
        if not argument.isdigit() or not 1 <= int(argument) <= len(people):
            self.say(f"   (type :register N with N from 1 to {len(people)}; :trainees lists them)")
            return False
        chosen: RosterPerson = people[int(argument) - 1]
        first, _space, last = chosen.full_name.partition(" ")
        account = SandboxUser(
            id=ROSTER_ACCOUNTS + chosen.number,
            first_name=first,
            last_name=last or None,
            language_code="en",
        )
        self.trainee = account
        self.become(account, f"trainee {chosen.number} of the roster")
        async with self.app.session_factory() as session:
            username = await roster_import.bot_username(session, self.app.settings)
        link = roster_import.personal_link(username or "bot", chosen.personal_code)
        self.say(f"(a Telegram account of their own, id {account.id}, opens their link {link})")
        line = f"/start {chosen.personal_code}"
        self.say(f"{account.first_name}> {line}")
        await self.sb.send_text(account, line)
        return True

    async def wait(self, argument: str) -> None:
        delta = parse_duration(argument)
        if delta is None or delta <= timedelta(0):
            self.say("   (type :wait DURATION, e.g. :wait 30m, :wait 2h, :wait 1d)")
            return
        if delta > MAX_WAIT:
            self.say(f"   (at most {describe_duration(MAX_WAIT)} at a time)")
            return
        until = self.clock.now() + delta
        self.say(f"⏩ Letting {describe_duration(delta)} pass…")
        sent = await jobs.fast_forward_to(
            self.app.session_factory,
            self.clock,
            self.app.sender,
            until,
            rate=self.app.settings.send_rate,
        )
        await self.settle()
        self.say(f"Demo time: {describe_instant(self.clock.now(), self.world.home_zone)}.")
        if sent == 0:
            self.say("(no message was due in that time)")

    async def move_next(self, argument: str) -> bool:
        delta = parse_duration(argument, signed=True) if argument else DEFAULT_MOVE
        if delta is None:
            self.say("   (type :move-next DURATION, e.g. :move-next 1h or :move-next -30m)")
            return False
        name = self.world.samples.timetable_name
        if not name.lower().endswith(".csv"):
            self.say(f"   (the demo edits a .csv timetable; {name} is not one)")
            return False
        try:
            moved = move_next_session(self.timetable, self.world.home_zone, self.clock.now(), delta)
        except MoveError as exc:
            self.say(f"   ({exc})")
            return False
        path = self.workdir / name
        await asyncio.to_thread(path.write_bytes, moved.content)
        self.timetable = moved.content
        zone = self.world.home_zone
        self.say(
            f"The organiser edits their copy of {name} ({path}): “{moved.title}” moves from "
            f"{describe_instant(moved.old_start, zone)} to "
            f"{describe_instant(moved.new_start, zone)}, and sends it to the bot."
        )
        if moved.new_start.date() != moved.old_start.date():
            self.say(
                "(The date changes: a spreadsheet without an ID column names its sessions by "
                "date and title, so the bot will read this as a cancelled session and a new one.)"
            )
        self.become(DEMO_ADMIN, "an organiser")
        self.say(f"{DEMO_ADMIN.first_name}> [file: {name}] {self.world.cohort_code}")
        await self.sb.send_document(
            DEMO_ADMIN, name, moved.content, mime_type="text/csv", caption=self.world.cohort_code
        )
        return True
