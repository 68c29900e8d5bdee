"""The control HTTP API under ``/sandbox/``: drive the sandbox from another process."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.core import SandboxCore
from sandbox.models import Limits, SandboxChat, SandboxUser


class _BadInput(Exception):
    pass


def control_routes(sandbox: SandboxCore) -> list[web.RouteDef]:
    """Routes that inject user actions, read transcripts and tune limits and faults."""

    async def post_message(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise _BadInput("text is required")
        user = _user(sandbox, request, body)
        message = await sandbox.send_text(user, text, chat=_chat(sandbox, body))
        return web.json_response(message)

    async def post_callback(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        message_id = body.get("message_id")
        data = body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _BadInput("message_id (integer) and data (string) are required")
        chat_id = body.get("chat_id")
        try:
            query_id = await sandbox.press_button(
                _user(sandbox, request, body), message_id, data, chat_id=chat_id
            )
        except LookupError as exc:
            raise _BadInput(str(exc)) from None
        return web.json_response({"callback_query_id": query_id})

    async def post_poll_answer(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        options = body.get("option_ids")
        poll_id = body.get("poll_id")
        if not isinstance(options, list) or not all(isinstance(i, int) for i in options):
            raise _BadInput("option_ids (a list of integers) is required")
        if poll_id is not None and not isinstance(poll_id, str):
            raise _BadInput("poll_id must be a string")
        try:
            answer = await sandbox.answer_poll(
                _user(sandbox, request, body), options, poll_id=poll_id
            )
        except ValueError as exc:
            raise _BadInput(str(exc)) from None
        return web.json_response(answer)

    async def post_document(request: web.Request) -> web.StreamResponse:
        fields: dict[str, Any] = {}
        upload: tuple[str, bytes, str | None] | None = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content = bytes(await part.read(decode=True))
                upload = (part.filename, content, part.headers.get("Content-Type"))
            else:
                fields[part.name] = await part.text()
        if upload is None:
            raise _BadInput("a file part is required")
        filename, content, mime_type = upload
        if "chat_id" in fields:
            fields["chat_id"] = int(fields["chat_id"])
        message = await sandbox.send_document(
            _user(sandbox, request, fields),
            filename,
            content,
            mime_type=fields.get("mime_type") or mime_type,
            caption=fields.get("caption"),
            chat=_chat(sandbox, fields),
        )
        return web.json_response(message)

    async def get_transcript(request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        return web.json_response([entry.to_json() for entry in sandbox.transcript(chat_id)])

    async def get_next_bot_message(request: web.Request) -> web.StreamResponse:
        chat_id = int(request.match_info["chat_id"])
        timeout = float(request.query.get("timeout", "5"))
        try:
            entry = await sandbox.next_bot_message(chat_id, timeout=timeout)
        except TimeoutError as exc:
            return web.json_response({"error": str(exc)}, status=408)
        return web.json_response(entry.to_json())

    async def get_requests(request: web.Request) -> web.StreamResponse:
        records = [record.to_json() for record in sandbox.requests]
        return web.json_response(records, dumps=_lenient_dumps)

    async def get_violations(request: web.Request) -> web.StreamResponse:
        return web.json_response(sandbox.violations)

    async def get_delivered(request: web.Request) -> web.StreamResponse:
        delivered = {str(chat): texts for chat, texts in sandbox.delivered.items()}
        return web.json_response(delivered)

    async def get_rate_limited(request: web.Request) -> web.StreamResponse:
        return web.json_response([[at, chat] for at, chat in sandbox.rate_limited])

    async def get_counts(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "requests": len(sandbox.requests),
                "delivered_chats": len(sandbox.delivered),
                "rate_limited": len(sandbox.rate_limited),
                "violations": len(sandbox.violations),
            }
        )

    async def get_limits(request: web.Request) -> web.StreamResponse:
        return web.json_response(sandbox.limits.to_json())

    async def put_limits(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        known = {f.name for f in dataclasses.fields(Limits)}
        unknown = set(body) - known
        if unknown:
            raise _BadInput(f"unknown limits: {sorted(unknown)}")
        sandbox.limits = dataclasses.replace(sandbox.limits, **body)
        return web.json_response(sandbox.limits.to_json())

    async def post_fault(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        kind = body.get("kind")
        chat_id = body.get("chat_id")
        faults = sandbox.faults
        if kind in ("block", "unblock", "deactivate", "chat_not_found"):
            if not isinstance(chat_id, int):
                raise _BadInput(f"{kind} needs an integer chat_id")
            getattr(faults, kind)(chat_id)
        elif kind == "server_error":
            faults.server_error(
                chat_id, times=int(body.get("times", 1)), status=int(body.get("status", 500))
            )
        elif kind == "random_server_errors":
            faults.random_server_errors(float(body["probability"]), int(body.get("seed", 0)))
        elif kind == "latency":
            faults.latency = float(body.get("seconds", 0))
        else:
            raise _BadInput(f"unknown fault kind {kind!r}")
        return web.json_response({"ok": True})

    async def delete_faults(request: web.Request) -> web.StreamResponse:
        sandbox.faults.clear()
        return web.json_response({"ok": True})

    async def post_forum(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        chat = _group(sandbox, {"chat_type": "supergroup", **body, "chat_id": _chat_id(request)})
        owner = _user(sandbox, _body_user(body.get("owner_id")), body)
        await sandbox.create_forum(
            owner, chat, bot_can_manage_topics=bool(body.get("bot_can_manage_topics", True))
        )
        return web.json_response({"ok": True})

    async def post_topic(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        name = body.get("name")
        if not isinstance(name, str):
            raise _BadInput("name is required")
        user = _user(sandbox, _body_user(body.get("user_id")), body)
        chat = _group(sandbox, {**body, "chat_id": _chat_id(request)})
        topic = await sandbox.create_topic(user, chat, name, icon_color=body.get("icon_color"))
        return web.json_response(topic.to_api())

    async def post_topic_message(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        text = body.get("text")
        thread_id = body.get("message_thread_id")
        if not isinstance(text, str) or not isinstance(thread_id, int):
            raise _BadInput("text (string) and message_thread_id (integer) are required")
        chat = _group(sandbox, body)
        message = await sandbox.post_in_topic(
            _user(sandbox, request, body),
            chat,
            thread_id,
            text,
            reply_to_message_id=body.get("reply_to_message_id"),
        )
        return web.json_response(message)

    async def get_topic_transcript(request: web.Request) -> web.StreamResponse:
        chat_id = _chat_id(request)
        thread_id = int(request.match_info["thread_id"])
        if request.query.get("from_bot") in ("1", "true"):
            entries = sandbox.bot_messages_in_topic(chat_id, thread_id)
        else:
            entries = sandbox.topic_transcript(chat_id, thread_id)
        return web.json_response([entry.to_json() for entry in entries])

    async def post_topic_state(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        action = request.match_info["action"]
        if action not in ("close", "reopen"):
            raise _BadInput(f"unknown topic action {action!r}; use close or reopen")
        user = _user(sandbox, _body_user(body.get("user_id")), body)
        await sandbox.close_topic(
            user, _chat_id(request), int(request.match_info["thread_id"]), closed=action == "close"
        )
        return web.json_response({"ok": True})

    async def delete_topic(request: web.Request) -> web.StreamResponse:
        user_id = request.query.get("user_id")
        if user_id is None:
            raise _BadInput("user_id (the administrator deleting the topic) is required")
        user = _user(sandbox, _body_user(int(user_id)), {})
        await sandbox.delete_topic(user, _chat_id(request), int(request.match_info["thread_id"]))
        return web.json_response({"ok": True})

    async def post_settle(request: web.Request) -> web.StreamResponse:
        body = await _json_body(request) if request.body_exists else {}
        try:
            await sandbox.settle(
                quiet=float(body.get("quiet", 0.3)), timeout=float(body.get("timeout", 10))
            )
        except TimeoutError as exc:
            return web.json_response({"error": str(exc)}, status=408)
        return web.json_response({"ok": True})

    handlers = [
        web.post("/sandbox/users/{user_id}/messages", post_message),
        web.post("/sandbox/users/{user_id}/callback", post_callback),
        web.post("/sandbox/users/{user_id}/documents", post_document),
        web.post("/sandbox/users/{user_id}/poll_answer", post_poll_answer),
        web.get("/sandbox/chats/{chat_id}/transcript", get_transcript),
        web.get("/sandbox/chats/{chat_id}/next_bot_message", get_next_bot_message),
        web.get("/sandbox/requests", get_requests),
        web.get("/sandbox/violations", get_violations),
        web.get("/sandbox/delivered", get_delivered),
        web.get("/sandbox/rate_limited", get_rate_limited),
        web.get("/sandbox/counts", get_counts),
        web.get("/sandbox/limits", get_limits),
        web.put("/sandbox/limits", put_limits),
        web.post("/sandbox/faults", post_fault),
        web.delete("/sandbox/faults", delete_faults),
        web.post("/sandbox/settle", post_settle),
        web.post("/sandbox/chats/{chat_id}/forum", post_forum),
        web.post("/sandbox/chats/{chat_id}/topics", post_topic),
        web.post("/sandbox/users/{user_id}/topic_messages", post_topic_message),
        web.get("/sandbox/chats/{chat_id}/topics/{thread_id}/transcript", get_topic_transcript),
        web.post("/sandbox/chats/{chat_id}/topics/{thread_id}/{action}", post_topic_state),
        web.delete("/sandbox/chats/{chat_id}/topics/{thread_id}", delete_topic),
    ]
    return [_guarded(route) for route in handlers]


def _guarded(route: web.RouteDef) -> web.RouteDef:
    """Turn bad input into a 400 with a readable reason."""
    inner = route.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await inner(request)
        except (_BadInput, ValueError, TypeError, LookupError) as exc:
            return web.json_response({"error": str(exc) or type(exc).__name__}, status=400)

    return web.route(route.method, route.path, handler)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise _BadInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise _BadInput("the body must be a JSON object")
    return body


def _body_user(value: Any) -> int:
    """A user id given in the body rather than in the path."""
    if not isinstance(value, int) or value <= 0:
        raise _BadInput("a positive integer user id is required")
    return value


def _chat_id(request: web.Request) -> int:
    return int(request.match_info["chat_id"])


def _group(sandbox: SandboxCore, body: dict[str, Any]) -> SandboxChat:
    chat = _chat(sandbox, body)
    if chat is None:
        raise _BadInput("chat_id is required")
    return chat


def _user(sandbox: SandboxCore, request: web.Request | int, body: dict[str, Any]) -> SandboxUser:
    """The user named in the path (or by ``request`` as an id) with what the body adds."""
    user_id = request if isinstance(request, int) else int(request.match_info["user_id"])
    known = sandbox.world.users.get(user_id, {})
    return SandboxUser(
        id=user_id,
        first_name=str(body.get("first_name") or known.get("first_name") or f"User {user_id}"),
        last_name=body.get("last_name", known.get("last_name")),
        username=body.get("username", known.get("username")),
        language_code=body.get("language_code", known.get("language_code", "en")),
    )


def _chat(sandbox: SandboxCore, body: dict[str, Any]) -> SandboxChat | None:
    chat_id = body.get("chat_id")
    if chat_id is None:
        return None
    if not isinstance(chat_id, int) or chat_id >= 0:
        raise _BadInput("chat_id must be a negative integer (a group)")
    known = sandbox.world.chats.get(chat_id)
    default_type = "supergroup" if str(chat_id).startswith("-100") else "group"
    kind = body.get("chat_type") or (known.type if known else default_type)
    title = body.get("chat_title") or (known.chat.get("title") if known else None)
    return SandboxChat(chat_id, str(kind), str(title or f"Chat {chat_id}"))


def _lenient_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)
