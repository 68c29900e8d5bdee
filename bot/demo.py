"""``trainee-bot demo``: the sandbox and the bot in one process, and a chat in this terminal.

The person types as a trainee; the bot's answers are printed with their buttons numbered;
typing a number presses that button. Lines starting with ``:`` are demo commands (``:help``).
Ctrl-D ends the demo cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.app import SANDBOX_TOKEN, application
from bot.clock import SystemClock
from bot.config import Settings
from bot.sandbox import Limits, Sandbox, SandboxUser, TranscriptEntry

DEMO_TRAINEE = SandboxUser(id=424242, first_name="Amina", last_name="Nakato", language_code="en")
DEMO_ADMIN = SandboxUser(id=434343, first_name="Li", last_name="Na", language_code="en")

HELP = """Demo commands:
  <text>        send a message as the current person (e.g. /start, /help, Tashkent)
  <number>      press that button under the bot's last message with buttons
  :admin        speak as the organiser (an admin) — :trainee to switch back
  :file PATH    send a file to the bot as the current person
  :help         this list
  Ctrl-D        end the demo"""


@dataclass
class _Screen:
    """What has been printed for one chat, so edits are shown once and buttons numbered."""

    out: TextIO
    printed: dict[int, tuple[str, str]] = field(default_factory=dict)
    buttons: list[tuple[int, str]] = field(default_factory=list)
    answers_seen: set[str] = field(default_factory=set)

    def show(self, entry: TranscriptEntry) -> None:
        body = entry.text or entry.caption or ""
        if entry.document_name:
            body = f"[file: {entry.document_name}] {body}".rstrip()
        flat = [b for row in entry.buttons for b in row]
        signature = (body, repr([(b.text, b.callback_data, b.url) for b in flat]))
        previous = self.printed.get(entry.message_id)
        if previous == signature:
            return
        self.printed[entry.message_id] = signature
        label = "bot (edited)" if previous is not None else "bot"
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


async def _render(sb: Sandbox, chat_id: int, screen: _Screen) -> None:
    for entry in sb.transcript(chat_id):
        if entry.from_bot:
            screen.show(entry)
    for query_id, answer in list(sb.callback_answers.items()):
        if query_id not in screen.answers_seen:
            screen.answers_seen.add(query_id)
            if answer.get("text"):
                print(f"   ({answer['text']})", file=screen.out)


async def _wait_for_answer(sb: Sandbox, mark: int) -> None:
    """Wait until the bot reacted to what was just sent (any call but polling), then settles."""

    def answered() -> bool:
        return any(r.method != "getUpdates" for r in sb.requests[mark:])

    with contextlib.suppress(TimeoutError):
        await sb.wait_for(answered, timeout=15, what="the bot's answer")
    await sb.settle(quiet=0.3, timeout=15)


async def _read_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


def _fresh_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _read_file(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


async def run_demo(
    settings: Settings, database: str = "data/demo.db", out: TextIO = sys.stdout
) -> int:
    """Run the interactive demo until end of input."""
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
        async with application(demo_settings, clock=SystemClock()) as app:
            await app.prepare()
            polling = asyncio.create_task(app.run_polling())
            try:
                await _chat(sb, out)
            finally:
                await app.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(polling, timeout=10)
    finally:
        await sb.stop()
    print("\nDemo ended.", file=out)
    return 0


async def _chat(sb: Sandbox, out: TextIO) -> None:
    person = DEMO_TRAINEE
    screens = {DEMO_TRAINEE.id: _Screen(out), DEMO_ADMIN.id: _Screen(out)}
    print(f"You are {person.first_name} {person.last_name}, a trainee. {HELP}", file=out)
    print("Type /start to begin.", file=out)
    out.flush()
    while True:
        print(f"\n{person.first_name}> ", end="", file=out)
        out.flush()
        line = await _read_line()
        if line == "":
            break
        text = line.strip()
        if not text:
            continue
        screen = screens[person.id]
        mark = len(sb.requests)
        if text.startswith(":"):
            person = await _demo_command(sb, text, person, out)
            screen = screens[person.id]
        elif text.isdigit() and screen.buttons:
            number = int(text)
            if 1 <= number <= len(screen.buttons):
                message_id, data = screen.buttons[number - 1]
                if data:
                    await sb.press_button(person, message_id, data)
                else:
                    print("   (that button opens a link)", file=out)
            else:
                print(f"   (there is no button {number})", file=out)
        else:
            await sb.send_text(person, text)
        await _wait_for_answer(sb, mark)
        await _render(sb, person.id, screen)


async def _demo_command(sb: Sandbox, text: str, person: SandboxUser, out: TextIO) -> SandboxUser:
    command, _sep, argument = text.partition(" ")
    if command == ":admin":
        print(
            f"Now speaking as {DEMO_ADMIN.first_name} {DEMO_ADMIN.last_name}, an organiser.",
            file=out,
        )
        return DEMO_ADMIN
    if command == ":trainee":
        print(f"Now speaking as {DEMO_TRAINEE.first_name}, a trainee.", file=out)
        return DEMO_TRAINEE
    if command == ":file":
        path = Path(argument.strip())
        content = await asyncio.to_thread(_read_file, path)
        if content is None:
            print(f"   (no such file: {path})", file=out)
            return person
        await sb.send_document(person, path.name, content)
        return person
    print(HELP, file=out)
    return person
