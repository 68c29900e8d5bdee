"""The sandbox served over HTTP: the Bot API, file downloads and the control API."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from types import TracebackType
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

from sandbox.control import control_routes
from sandbox.core import TOKEN_RE, SandboxCore
from sandbox.errors import ApiError, bad_request
from sandbox.models import Limits, UploadedFile
from sandbox.webhook import Push, WebhookPusher

_MAX_UPLOAD = 60 * 1024 * 1024
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class Sandbox(SandboxCore):
    """A local stand-in for the Telegram Bot API.

    Start it, point the bot at :attr:`url`, inject what users do (``send_text``,
    ``press_button``...) and read what they would see (``transcript``, ``next_bot_message``).
    """

    _runner: web.AppRunner | None = None
    _socket: socket.socket | None = None
    _url: str | None = None
    _pusher: WebhookPusher | None = None

    @property
    def url(self) -> str:
        """Base URL for ``TelegramAPIServer.from_base``."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started")
        return self._url

    # -- lifecycle ------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application serving the Bot API, file downloads and control API."""
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_routes(control_routes(self))
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); returns :attr:`url`."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._socket = sock
        self.stopping = False
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self._url = f"http://{shown}:{bound}"
        self._pusher = WebhookPusher(self)
        self._pusher.start()
        self.busy_checks.append(lambda: self._pusher is not None and self._pusher.busy)
        return self._url

    @property
    def webhook_pushes(self) -> list[Push]:
        """Every POST of an update to the bot's webhook, with the status it answered."""
        return [] if self._pusher is None else self._pusher.pushes

    async def stop(self) -> None:
        """Release waiting long polls and close the server."""
        self.stopping = True
        self.world.updates.wake("stop")
        if self._pusher is not None:
            await self._pusher.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = request.match_info["method"]
        self.request_started(name)
        try:
            try:
                params, files = await _read_request(request)
            except ApiError as exc:
                status, body = self.fail(name, {}, exc)
            else:
                status, body = await self.call_api(token, name, params, files)
            if self.faults.latency > 0:
                await asyncio.sleep(self.faults.latency)
            return web.json_response(body, status=status, dumps=_dumps)
        finally:
            self.request_finished(name)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.world.files_by_path.get(request.match_info["file_path"])
        if stored is None or not TOKEN_RE.fullmatch(request.match_info["token"]):
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type)


async def _read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.body_exists:
        return params, files
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("the JSON body must be an object")
        params.update(body)
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    elif content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise bad_request("nested multipart bodies are not supported")
            if part.name is None:
                continue
            if part.filename is not None:
                data = await part.read(decode=True)
                content = part.headers.get(hdrs.CONTENT_TYPE)
                files[part.name] = UploadedFile(part.filename, content, bytes(data))
            else:
                params[part.name] = await part.text()
    return params, files


async def serve_forever(host: str, port: int, bot_username: str, limits: Limits) -> None:
    """Run a standalone sandbox until cancelled (Ctrl-C), printing its URL once."""
    sandbox = Sandbox(limits=limits, bot_username=bot_username)
    url = await sandbox.start(host=host, port=port)
    print(f"Telegram Bot API sandbox listening on {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
