"""The error a Bot API call answers with."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``.

    ``violation`` tells whether the request was the caller's mistake (recorded in
    ``Sandbox.violations``) rather than a condition of the world the bot cannot foresee.
    """

    def __init__(
        self,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        violation: bool = True,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.violation = violation

    def to_json(self) -> dict[str, Any]:
        """The answer body exactly as Telegram shapes it."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str, *, violation: bool = True) -> ApiError:
    """A 400 answer; ``description`` is the part after ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {description}", violation=violation)
