"""Polls: ``sendPoll`` with Telegram's checks, and votes by simulated users.

The limits come from the spec's own words (``sandbox/api.json``: "1-300 characters", "a list
of 1-12 answer options", "0-200 characters with at most 2 line feeds", "5-2628000"); a quiz
needs at least 2 options, a correct option in range and no multiple answers. A quiz poll takes
one vote per person, never changed; a closed poll (``open_period`` or ``close_date`` passed,
by the sandbox's wall clock or the ``now`` a test gives) takes none.
"""

from __future__ import annotations

import re
import secrets
import time
from functools import cache
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.methods.sending import post_message
from sandbox.spec import ApiSpec


def _range(description: str, pattern: str) -> tuple[int, int]:
    found = re.search(pattern, description)
    if found is None:  # pragma: no cover - the spec says it
        raise RuntimeError(f"no limits in {description!r}")
    return int(found.group(1)), int(found.group(2))


@cache
def limits(spec: ApiSpec) -> dict[str, tuple[int, int]]:
    """``{"question", "options", "option", "explanation", "period"}`` -> (least, most)."""
    method = spec.find_method("sendPoll")
    assert method is not None
    fields = method.fields
    option = spec.fields_of("InputPollOption")["text"].description
    explanation = fields["explanation"].description
    feeds = re.search(r"at most (\d+) line feeds", explanation)
    return {
        "question": _range(fields["question"].description, r"(\d+)-(\d+) characters"),
        "options": _range(fields["options"].description, r"(\d+)-(\d+) answer options"),
        "option": _range(option, r"(\d+)-(\d+) characters"),
        "explanation": _range(explanation, r"(\d+)-(\d+) characters"),
        "feeds": (0, int(feeds.group(1)) if feeds else 2),
        "period": _range(fields["open_period"].description, r"(\d+)-(\d+)"),
    }


def _check_length(text: str, bounds: tuple[int, int], what: str) -> None:
    low, high = bounds
    if not low <= len(text) <= high:
        raise bad_request(f"{what} length must be between {low} and {high}")


@handles("sendPoll")
def send_poll(call: Call) -> dict[str, Any]:
    """A poll (regular or quiz) with Telegram's checks; the message holds a ``Poll``."""
    params = call.params
    bounds = limits(call.spec)
    question = str(params["question"])
    _check_length(question.strip(), bounds["question"], "poll question")
    options = [str(option.get("text", "")) for option in params["options"]]
    low, high = bounds["options"]
    kind = params.get("type", "regular")
    if kind not in ("regular", "quiz"):
        raise bad_request("wrong poll type specified")
    if kind == "quiz":
        low = max(low, 2)
    if not low <= len(options) <= high:
        raise bad_request(f"poll must have {low}-{high} options")
    for text in options:
        _check_length(text.strip(), bounds["option"], "poll option")
    correct = params.get("correct_option_ids")
    if correct is None and "correct_option_id" in params:
        correct = [params["correct_option_id"]]
    if kind == "quiz":
        if not correct:
            raise bad_request("quiz poll must have a correct option")
        if params.get("allows_multiple_answers") and len(correct) < 2:
            raise bad_request("quiz poll with one correct option can't allow multiple answers")
        if any(not 0 <= int(i) < len(options) for i in correct):
            raise bad_request("wrong correct option specified")
    elif correct:
        raise bad_request("correct options are for quiz polls only")
    explanation = params.get("explanation")
    if explanation is not None:
        if kind != "quiz":
            raise bad_request("explanation is for quiz polls only")
        _check_length(str(explanation), bounds["explanation"], "poll explanation")
        if str(explanation).count("\n") > bounds["feeds"][1]:
            raise bad_request("poll explanation has too many line feeds")
    now = time.time()
    close_at: float | None = None
    if "open_period" in params and "close_date" in params:
        raise bad_request("open_period and close_date can't be used together")
    period_low, period_high = bounds["period"]
    if "open_period" in params:
        period = int(params["open_period"])
        if not period_low <= period <= period_high:
            raise bad_request("wrong open_period specified")
        close_at = now + period
    if "close_date" in params:
        close_date = int(params["close_date"])
        if not period_low <= close_date - now <= period_high:
            raise bad_request("wrong close_date specified")
        close_at = float(close_date)
    anonymous = params.get("is_anonymous", True) is not False
    poll_id = str(secrets.randbits(62))
    poll: dict[str, Any] = {
        "id": poll_id,
        "question": question,
        "options": [
            {"persistent_id": str(i), "text": text, "voter_count": 0}
            for i, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": bool(params.get("is_closed", False)),
        "is_anonymous": anonymous,
        "type": kind,
        "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
        "allows_revoting": bool(params.get("allows_revoting", kind != "quiz")),
        "members_only": False,
    }
    if kind == "quiz":
        poll["correct_option_ids"] = [int(i) for i in correct or []]
        if explanation:
            poll["explanation"] = str(explanation)
    if "open_period" in params:
        poll["open_period"] = int(params["open_period"])
    if close_at is not None:
        poll["close_date"] = int(close_at)
    stored = post_message(call, {"poll": poll})
    call.world.polls[poll_id] = {
        "poll": poll,
        "chat_id": call.target.id,
        "message_id": stored.message_id,
        "close_at": close_at,
        "votes": {},
    }
    return stored.message


def vote(
    world: Any, poll_id: str, user: dict[str, Any], option_ids: list[int], now: float | None = None
) -> dict[str, Any]:
    """A user votes; returns the ``poll_answer`` update's payload. Refuses (``ValueError``) an
    unknown poll, a closed one, an option out of range, and a second vote in a quiz."""
    entry = world.polls.get(poll_id)
    if entry is None:
        raise ValueError(f"no poll {poll_id}")
    poll = entry["poll"]
    moment = time.time() if now is None else now
    if poll["is_closed"] or (entry["close_at"] is not None and moment >= entry["close_at"]):
        poll["is_closed"] = True
        raise ValueError("the poll is closed")
    count = len(poll["options"])
    if any(not 0 <= i < count for i in option_ids):
        raise ValueError(f"option out of range (the poll has {count})")
    if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
        raise ValueError("the poll takes one option")
    if user["id"] in entry["votes"] and not poll["allows_revoting"]:
        raise ValueError("a quiz poll cannot be voted again")
    if not option_ids and poll["type"] == "quiz":
        raise ValueError("a quiz vote cannot be retracted")
    entry["votes"][user["id"]] = list(option_ids)
    for i in option_ids:
        poll["options"][i]["voter_count"] += 1
    poll["total_voter_count"] = len(entry["votes"])
    return {
        "poll_id": poll_id,
        "user": user,
        "option_ids": list(option_ids),
        "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
    }
