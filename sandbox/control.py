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
    ]
    return [_guarded(route) for route in handlers]


def _guarded(route: web.RouteDef) -> web.RouteDef:
    """Turn bad input into a 400 with a readable reason."""
    inner = route.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await inner(request)
        except (_BadInput, ValueError, TypeError, KeyError) as exc:
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


def _user(sandbox: SandboxCore, request: web.Request, body: dict[str, Any]) -> SandboxUser:
    user_id = int(request.match_info["user_id"])
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
