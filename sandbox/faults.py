"""Failures that tests inject to see how the bot copes with an unfriendly Telegram."""

from __future__ import annotations

import random

from sandbox.errors import ApiError


class Faults:
    """Injected failures; none of them counts as a violation by the bot."""

    def __init__(self) -> None:
        self.latency: float = 0.0
        """Seconds added before every Bot API answer."""
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._missing: set[int] = set()
        self._server_errors: list[tuple[int | None, int]] = []
        self._random: random.Random | None = None
        self._probability = 0.0

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: 403 "Forbidden: bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self._blocked.discard(chat_id)

    def deactivate(self, chat_id: int) -> None:
        """The user deleted their account: 403 "Forbidden: user is deactivated"."""
        self._deactivated.add(chat_id)

    def chat_not_found(self, chat_id: int) -> None:
        """The chat is gone: 400 "Bad Request: chat not found"."""
        self._missing.add(chat_id)

    def server_error(self, chat_id: int | None = None, times: int = 1, status: int = 500) -> None:
        """The next ``times`` sends (to ``chat_id``, or to any chat) fail with a 5xx."""
        for _ in range(times):
            self._server_errors.append((chat_id, status))

    def random_server_errors(self, probability: float, seed: int) -> None:
        """Each send fails with a 500 with ``probability``, reproducibly for ``seed``."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within 0..1, got {probability}")
        self._probability = probability
        self._random = random.Random(seed)  # noqa: S311 - reproducible chaos, not secrets

    def clear(self) -> None:
        """Remove every injected fault, including latency."""
        self.latency = 0.0
        self._blocked.clear()
        self._deactivated.clear()
        self._missing.clear()
        self._server_errors.clear()
        self._random = None
        self._probability = 0.0

    def chat_error(self, chat_id: int) -> ApiError | None:
        """The error any call addressing ``chat_id`` gets, if one is injected."""
        if chat_id in self._missing:
            return ApiError(400, "Bad Request: chat not found", violation=False)
        if chat_id in self._deactivated:
            return ApiError(403, "Forbidden: user is deactivated", violation=False)
        if chat_id in self._blocked:
            return ApiError(403, "Forbidden: bot was blocked by the user", violation=False)
        return None

    def send_error(self, chat_id: int) -> ApiError | None:
        """The server error a send to ``chat_id`` gets, if one is due; consumes it."""
        for index, (target, status) in enumerate(self._server_errors):
            if target is None or target == chat_id:
                del self._server_errors[index]
                return _server_error(status)
        if self._random is not None and self._random.random() < self._probability:
            return _server_error(500)
        return None


def _server_error(status: int) -> ApiError:
    description = "Bad Gateway" if status == 502 else "Internal Server Error"
    return ApiError(status, description, violation=False)
