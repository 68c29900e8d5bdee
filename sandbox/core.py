"""The sandbox's state and the operations on it: Bot API calls, user actions and waits.

Knows nothing of HTTP; :mod:`sandbox.server` serves it and :mod:`sandbox.control` drives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.faults import Faults
from sandbox.formatting import command_entities
from sandbox.methods import HANDLERS, SEND_METHODS, UNCOUNTED, Call, admit, chat_member
from sandbox.methods import polls as polls_methods
from sandbox.models import (
    MEMBER_STATUSES,
    Limits,
    RequestRecord,
    SandboxChat,
    SandboxUser,
    TranscriptEntry,
    UploadedFile,
)
from sandbox.ratelimit import RateLimiter
from sandbox.rules import OBJECT_HOOKS, check_request
from sandbox.spec import ApiSpec, SpecError
from sandbox.state import ACTIVE_STATUSES, ADMIN_STATUSES, ChatState, World, now_epoch
from sandbox.topics import ForumActions

_log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
"""What a bot token looks like; anything else is 401 (404 for file downloads)."""
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


class SandboxCore(ForumActions):
    """The sandbox's world and what can happen in it, without any HTTP server.

    Answers Bot API calls (:meth:`call_api`), injects what users do (``send_text``,
    ``press_button``...) and reads what they would see (``transcript``, ``next_bot_message``);
    forum topics are :class:`~sandbox.topics.ForumActions`'.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        bot_username: str = "trainee_assistant_bot",
        *,
        token: str | None = None,
        auto_create_chats: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``token`` fixes the bot's id before the bot's first request (else learned from it).

        ``auto_create_chats`` lets the bot write to chats no user opened (else "chat not
        found"); ``clock`` drives the flood limits.
        """
        self.spec = ApiSpec.load()
        self.world = World(bot_username, auto_create_chats=auto_create_chats)
        if token is not None:
            self.world.learn_token(token)
        self.faults = Faults()
        self._clock = clock
        self._limits = limits if limits is not None else Limits()
        self._limiter = RateLimiter(self._limits, clock)
        self.requests: list[RequestRecord] = []
        self.violations: list[str] = []
        self.rate_limited: list[tuple[float, int]] = []
        self.internal_errors: list[str] = []
        """Defects of the sandbox itself (answered with 500); should stay empty."""
        self.busy_checks: list[Callable[[], bool]] = []
        """Questions to the client: True while it is about to call (waiting for its own rate
        limit, say); :meth:`settle` waits for all of them to say False."""
        self.stopping = False
        """True while the server stops: long polls return at once."""
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._change_signal = asyncio.Event()

    # -- configuration and shared state -----------------------------------------------------

    @property
    def limits(self) -> Limits:
        """The flood limits in force; assign a new :class:`Limits` to change them."""
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = value
        self._limiter = RateLimiter(value, self._clock)

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Bot commands keyed by (scope as canonical JSON, language code or "")."""
        return self.world.commands

    @property
    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """The bot's answer to each callback query, by query id."""
        return self.world.callback_answers

    @property
    def delivered(self) -> dict[int, list[str]]:
        """Texts and captions (``""`` for none) the bot delivered, per chat, in order."""
        return self.world.delivered

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting for updates right now."""
        return self.world.updates.waiting

    async def call_api(
        self,
        token: str,
        name: str,
        raw: dict[str, Any],
        files: dict[str, UploadedFile],
    ) -> tuple[int, dict[str, Any]]:
        method = self.spec.find_method(name)
        method_name = method.name if method is not None else name
        params: dict[str, Any] = raw
        try:
            if not TOKEN_RE.fullmatch(token):
                raise ApiError(401, "Unauthorized")
            self.world.learn_token(token)
            if method is None:
                raise ApiError(404, "Not Found")
            try:
                params = self.spec.validate_params(method, raw, files, OBJECT_HOOKS)
                check_request(method.name, params)
            except SpecError as exc:
                raise ApiError(400, exc.description) from None
            if method.name != "getUpdates" and method.name not in HANDLERS:
                raise bad_request("method is not supported by the sandbox")
            call = Call(method.name, params, files, self.world, self.spec)
            self._admit(call)
            if method.name == "getUpdates":
                result: Any = await self._get_updates(call)
            else:
                result = HANDLERS[method.name](call)
        except ApiError as exc:
            return self.fail(method_name, params, exc)
        except Exception as exc:
            # A defect of the sandbox itself: answer like a failing Telegram, keep it visible.
            _log.exception("sandbox failed on %s", method_name)
            self.internal_errors.append(f"{method_name}: {exc!r}")
            return self.fail(
                method_name, params, ApiError(500, "Internal Server Error", violation=False)
            )
        self._record(method_name, params, 200, None)
        return 200, {"ok": True, "result": result}

    def fail(
        self, method: str, params: dict[str, Any], exc: ApiError
    ) -> tuple[int, dict[str, Any]]:
        self._record(method, params, exc.status, exc.description)
        if exc.violation:
            self.violations.append(f"{method}: {exc.description}")
        return exc.status, exc.to_json()

    def _record(self, method: str, params: dict[str, Any], status: int, error: str | None) -> None:
        logged = {
            key: value.describe() if isinstance(value, UploadedFile) else value
            for key, value in params.items()
        }
        self.requests.append(RequestRecord(method, logged, status, error, time.monotonic()))

    def _admit(self, call: Call) -> None:
        """Resolve the target chat, then apply injected faults and flood limits."""
        chat_id = call.params.get("chat_id")
        if chat_id is None:
            if self._limits.strict and call.method not in UNCOUNTED:
                self._count(call, None)
            return
        reading = call.method.startswith("get")
        if isinstance(chat_id, int):
            self._raise_fault(chat_id, reading=reading)
        chat = self.world.find_chat(chat_id)
        if chat.id != chat_id:
            self._raise_fault(chat.id, reading=reading)
        self.world.check_reachable(chat)
        call.chat = chat
        if call.method in SEND_METHODS:
            error = self.faults.send_error(chat.id)
            if error is not None:
                raise error
            self._count(call, chat.id)
        elif self._limits.strict and not reading and call.method not in UNCOUNTED:
            # Strictly, every write counts overall (a chat's own limit is about new messages).
            self._count(call, None)

    def _count(self, call: Call, chat_id: int | None) -> None:
        retry = self._limiter.acquire(chat_id, paid=bool(call.params.get("allow_paid_broadcast")))
        if retry is not None:
            self.rate_limited.append((time.monotonic(), chat_id or 0))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry}",
                parameters={"retry_after": retry},
                violation=False,
            )

    def _raise_fault(self, chat_id: int, *, reading: bool) -> None:
        error = self.faults.chat_error(chat_id)
        if error is not None and (error.status == 400 or not reading):
            raise error

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        queue = self.world.updates
        params = call.params
        if self.world.webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK, violation=False)
        if "allowed_updates" in params:
            queue.set_allowed(params["allowed_updates"])
        if params.get("offset"):
            queue.confirm(params["offset"])
        limit = params.get("limit", 100)
        batch = queue.take(limit)
        timeout = params.get("timeout", 0)
        if not batch and timeout > 0 and not self.stopping:
            waiter = queue.new_waiter()
            self.changed()
            try:
                await asyncio.wait({waiter}, timeout=timeout)
            finally:
                queue.drop_waiter(waiter)
            if waiter.done() and waiter.result() == "conflict":
                raise ApiError(409, _CONFLICT_POLL, violation=False)
            batch = queue.take(limit)
        if batch:
            self._last_activity = time.monotonic()
        return batch

    # -- what users do --------------------------------------------------------------------

    def _push(self, kind: str, payload: dict[str, Any]) -> None:
        self.world.updates.push(kind, payload)
        self.changed()

    def _chat_for(self, user: SandboxUser, chat: SandboxChat | None) -> ChatState:
        if chat is None:
            return self.world.private_chat(user)
        self.world.add_user(user)
        state = self.world.group_chat(chat)
        if state.members.get(user.id) not in ACTIVE_STATUSES:
            state.members[user.id] = "member"
        return state

    async def send_text(
        self,
        user: SandboxUser,
        text: str,
        chat: SandboxChat | None = None,
        *,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """``user`` writes ``text`` (in private with the bot unless ``chat`` is given), as a
        reply to ``reply_to_message_id`` of that chat when given."""
        state = self._chat_for(user, chat)
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to_message_id is not None:
            target = state.messages.get(reply_to_message_id)
            if target is None:
                raise LookupError(f"no message {reply_to_message_id} to reply to")
            content["reply_to_message"] = target.quoted()
        stored = self.world.add_message(state, user.to_api(), content, from_bot=False)
        self._push("message", stored.message)
        return stored.message

    async def press_button(
        self,
        user: SandboxUser,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
    ) -> str:
        """``user`` presses an inline button; returns the callback query id.

        The data is not checked against the message's buttons, so tests can forge presses.
        """
        self.world.add_user(user)
        target = user.id if chat_id is None else chat_id
        state = self.world.chats.get(target)
        stored = None if state is None else state.messages.get(message_id)
        if stored is None:
            raise LookupError(f"no message {message_id} in chat {target} to press a button on")
        query_id = self.world.next_query_id()
        self.world.open_queries.add(query_id)
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": stored.message,
            "chat_instance": str((target * 2_654_435_761) % 2**62),
            "data": callback_data,
        }
        self._push("callback_query", payload)
        return query_id

    async def answer_poll(
        self,
        user: SandboxUser,
        option_ids: list[int],
        poll_id: str | None = None,
        *,
        now: float | None = None,
    ) -> dict[str, Any]:
        """``user`` votes in a poll (the newest poll of their private chat unless ``poll_id``);
        pushes a ``poll_answer`` update and returns it. ``ValueError`` for a refused vote."""
        self.world.add_user(user)
        if poll_id is None:
            state = self.world.chats.get(user.id)
            polls = (
                []
                if state is None
                else [
                    stored.message["poll"]["id"]
                    for stored in state.messages.values()
                    if "poll" in stored.message
                ]
            )
            if not polls:
                raise ValueError(f"no poll in the chat with {user.id}")
            poll_id = polls[-1]
        answer = polls_methods.vote(self.world, poll_id, user.to_api(), option_ids, now)
        if self.world.polls[poll_id]["poll"]["is_anonymous"]:
            return answer  # an anonymous poll tells the bot nothing of who voted
        self._push("poll_answer", answer)
        return answer

    async def send_document(
        self,
        user: SandboxUser,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: SandboxChat | None = None,
    ) -> dict[str, Any]:
        """``user`` uploads a document; the bot can fetch it with getFile."""
        state = self._chat_for(user, chat)
        stored_file = self.world.add_file("document", content, filename, mime_type)
        body: dict[str, Any] = {"document": stored_file.document()}
        if caption:
            body["caption"] = caption
        stored = self.world.add_message(
            state, user.to_api(), body, from_bot=False, document_bytes=content
        )
        self._push("message", stored.message)
        return stored.message

    async def add_bot_to_group(
        self, by_user: SandboxUser, chat: SandboxChat, as_admin: bool = False
    ) -> None:
        """``by_user`` adds the bot to ``chat`` (and so is its creator or an administrator)."""
        world = self.world
        by = world.add_user(by_user)
        state = world.group_chat(chat)
        old = state.bot_status if state.bot_added else "left"
        state.bot_added = True
        state.bot_status = "administrator" if as_admin else "member"
        if "creator" not in state.members.values():
            state.members[by_user.id] = "creator"
        elif state.members.get(by_user.id) not in ADMIN_STATUSES:
            state.members[by_user.id] = "administrator"
        bot = world.bot_user()
        self._push(
            "my_chat_member",
            {
                "chat": state.chat,
                "from": by,
                "date": now_epoch(),
                "old_chat_member": chat_member(self.spec, bot, old, state.bot_rights),
                "new_chat_member": chat_member(self.spec, bot, state.bot_status, state.bot_rights),
            },
        )
        stored = world.add_message(state, by, {"new_chat_members": [bot]}, from_bot=False)
        self._push("message", stored.message)

    async def remove_bot_from_group(
        self, by_user: SandboxUser, chat: SandboxChat, kicked: bool = False
    ) -> None:
        """``by_user`` removes (or bans) the bot; later sends there get 403."""
        world = self.world
        by = world.add_user(by_user)
        state = world.group_chat(chat)
        bot = world.bot_user()
        old = state.bot_status
        state.bot_added = True
        state.bot_status = "kicked" if kicked else "left"
        self._push(
            "my_chat_member",
            {
                "chat": state.chat,
                "from": by,
                "date": now_epoch(),
                "old_chat_member": chat_member(self.spec, bot, old, state.bot_rights),
                "new_chat_member": chat_member(self.spec, bot, state.bot_status, state.bot_rights),
            },
        )

    async def user_blocks_bot(self, user: SandboxUser) -> None:
        """``user`` blocks the bot: a my_chat_member update, then 403 on every send."""
        state = self.world.private_chat(user)
        bot = self.world.bot_user()
        self.faults.block(user.id)
        self._push(
            "my_chat_member",
            {
                "chat": state.chat,
                "from": user.to_api(),
                "date": now_epoch(),
                "old_chat_member": chat_member(self.spec, bot, "member"),
                "new_chat_member": chat_member(self.spec, bot, "kicked"),
            },
        )

    def set_chat_member(self, chat_id: int, user: SandboxUser, status: str) -> None:
        """Set ``user``'s standing in a chat, as getChatMember and friends will report it."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}; use one of {MEMBER_STATUSES}")
        self.world.add_user(user)
        state = self.world.chats.get(chat_id) or self.world.find_chat(chat_id)
        state.members[user.id] = status

    async def request_join(
        self, user: SandboxUser, chat: SandboxChat, invite_link: str | None = None
    ) -> None:
        """``user`` asks to join ``chat`` (through ``invite_link`` if given)."""
        world = self.world
        data = world.add_user(user)
        state = world.group_chat(chat)
        state.join_requests.add(user.id)
        payload: dict[str, Any] = {
            "chat": state.chat,
            "from": data,
            "user_chat_id": user.id,
            "date": now_epoch(),
        }
        if invite_link is not None:
            link = state.invite_links.get(invite_link)
            if link is None:
                link = {
                    "invite_link": invite_link,
                    "creator": world.bot_user(),
                    "creates_join_request": True,
                    "is_primary": False,
                    "is_revoked": False,
                }
            payload["invite_link"] = link
        self._push("chat_join_request", payload)

    async def join_chat(self, user: SandboxUser, chat: SandboxChat) -> None:
        """``user`` joins ``chat`` directly (a link without approval)."""
        self.world.add_user(user)
        admit(self.world, self.spec, self.world.group_chat(chat), user.id)
        self.changed()

    async def migrate_group(self, chat: SandboxChat, new_chat_id: int) -> SandboxChat:
        """Upgrade a group to a supergroup; returns the supergroup.

        Both chats get a service message; afterwards calls to the old id answer 400 with
        ``parameters.migrate_to_chat_id``.
        """
        world = self.world
        old = world.group_chat(chat)
        if old.type != "group":
            raise ValueError(f"only a group can be migrated, {chat.id} is a {old.type}")
        new_chat = SandboxChat(new_chat_id, "supergroup", chat.title)
        new = world.group_chat(new_chat)
        new.members.update(old.members)
        new.bot_status = old.bot_status
        new.bot_added = old.bot_added
        owner = next((uid for uid, s in old.members.items() if s == "creator"), None)
        actor = world.user_data(owner) if owner is not None else None
        sender = actor or {"id": 1087968824, "is_bot": True, "first_name": "Group"}
        moved = world.add_message(old, sender, {"migrate_to_chat_id": new_chat_id}, from_bot=False)
        old.migrated_to = new_chat_id
        self._push("message", moved.message)
        arrived = world.add_message(new, sender, {"migrate_from_chat_id": chat.id}, from_bot=False)
        self._push("message", arrived.message)
        return new_chat

    # -- what users see -------------------------------------------------------------------
    # The waits below take ``timeout`` arguments because tests call them that way (ASYNC109).

    def transcript(self, chat_id: int) -> list[TranscriptEntry]:
        """Every message of the chat in order, edits applied, deleted ones gone."""
        return self.world.transcript(chat_id)

    def bot_messages(self, chat_id: int) -> list[TranscriptEntry]:
        """The bot's messages of the chat as they look now (service messages left out)."""
        return [e for e in self.transcript(chat_id) if e.from_bot and e.service is None]

    def current_keyboard(self, chat_id: int) -> list[list[str]] | None:
        """The reply keyboard a person has under the input field now, if any."""
        state = self.world.chats.get(chat_id)
        return None if state is None else state.reply_keyboard

    def _advance(self, chat_id: int) -> TranscriptEntry | None:
        state = self.world.chats.get(chat_id)
        if state is None:
            return None
        while state.read_cursor < len(state.bot_message_ids):
            message_id = state.bot_message_ids[state.read_cursor]
            state.read_cursor += 1
            stored = state.messages.get(message_id)
            if stored is not None:
                return stored.entry()
        return None

    def unread_bot_messages(self, chat_id: int) -> list[TranscriptEntry]:
        """Bot messages not yet read by ``next_bot_message``; marks them read."""
        entries = []
        while (entry := self._advance(chat_id)) is not None:
            entries.append(entry)
        return entries

    async def next_bot_message(
        self,
        chat_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> TranscriptEntry:
        """The next unread bot message in the chat, waiting up to ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            entry = self._advance(chat_id)
            if entry is not None:
                return entry
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no new bot message in chat {chat_id} within {timeout}s; transcript:\n"
                    + self.describe_chat(chat_id)
                )
            signal = self.world.bot_message_signal
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Wait until ``condition()`` holds; it is re-checked after every request."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{what} did not hold within {timeout}s")
            signal = self._change_signal
            # Most changes are signalled; the short cap also catches the few that are not.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), min(remaining, 0.05))

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once every update was fetched, every pressed button answered (Telegram
        expects ``answerCallbackQuery`` for each), and no request came for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        step = max(min(quiet / 5, 0.05), 0.005)
        while True:
            idle_for = time.monotonic() - self._last_activity
            pending = self.world.updates.has_unfetched()
            unanswered = len(self.world.open_queries)
            busy = any(check() for check in self.busy_checks)
            if (
                not pending
                and not unanswered
                and self._in_flight == 0
                and not busy
                and idle_for >= quiet
            ):
                return
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"the sandbox did not settle within {timeout}s "
                    f"(updates pending: {pending}, buttons unanswered: {unanswered}, "
                    f"requests in flight: {self._in_flight}, client busy: {busy})"
                )
            await asyncio.sleep(step)

    def describe_chat(self, chat_id: int) -> str:
        """A readable transcript of the chat, for failure messages."""
        lines = []
        for entry in self.transcript(chat_id):
            who = "bot" if entry.from_bot else f"user {entry.from_id}"
            body = entry.content or (
                f"[document {entry.document_name}]" if entry.document_name else ""
            )
            if entry.service is not None:
                body = f"[{entry.service}]"
            if entry.thread_id is not None:
                body = f"(topic {entry.thread_id}) {body}"
            buttons = " | ".join(b.text for row in entry.buttons for b in row)
            lines.append(
                f"  #{entry.message_id} {who}: {body!r}" + (f" [{buttons}]" if buttons else "")
            )
        return "\n".join(lines) or "  (empty)"

    def changed(self) -> None:
        self._change_signal.set()
        self._change_signal = asyncio.Event()

    def request_started(self, method: str) -> None:
        """A Bot API request arrived; all but the long poll keep :meth:`settle` waiting."""
        if method.lower() != "getupdates":
            self._in_flight += 1
            self._last_activity = time.monotonic()

    def request_finished(self, method: str) -> None:
        """The request started with :meth:`request_started` was answered."""
        if method.lower() != "getupdates":
            self._in_flight -= 1
            self._last_activity = time.monotonic()
        self.changed()
