"""An announcement's content: Telegram HTML checked per version, the payload the outbox
sends, and the sending time an organiser types.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import SUPPORTED_LOCALES
from bot.markup import h
from bot.services.announcements.errors import InvalidContent

FILE_KINDS = ("document", "photo")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f"unsupported tag <{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"unexpected </{tag}>"
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.plain.append(data)


def check_html(text: str, limit: int) -> str | None:
    """Why Telegram would refuse this HTML text (None when it is fine)."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.error:
        return checker.error
    if checker.stack:
        return f"<{checker.stack[-1]}> is not closed"
    length = len("".join(checker.plain))
    if length > limit:
        return f"{length} characters, at most {limit} allowed"
    return None


def plain_to_html(text: str) -> str:
    """Escape plain text for HTML parse mode."""
    return h(text)


def validate_content(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check every version and return it in the stored shape; raises InvalidContent."""
    if not content:
        raise InvalidContent("no version")
    clean: dict[str, dict[str, Any]] = {}
    for language, version in content.items():
        if language not in SUPPORTED_LOCALES:
            raise InvalidContent(f"unsupported language {language}")
        text = str(version.get("text") or "")
        file_id = version.get("file_id")
        file_kind = version.get("file_kind")
        if file_id and file_kind not in FILE_KINDS:
            raise InvalidContent(f"unsupported file kind {file_kind}")
        if not file_id and not text.strip():
            raise InvalidContent(f"the {language} version is empty")
        problem = check_html(text, CAPTION_LIMIT if file_id else TEXT_LIMIT)
        if problem:
            raise InvalidContent(f"{language}: {problem}")
        entry: dict[str, Any] = {"text": text}
        if file_id:
            entry["file_id"] = str(file_id)
            entry["file_kind"] = file_kind
        clean[language] = entry
    return clean


def payload_for(version: Mapping[str, Any], *, pin: bool = False) -> dict[str, Any]:
    """The outbox payload that sends one version (what the sender's transport reads)."""
    text = version.get("text") or ""
    payload: dict[str, Any]
    if version.get("file_id"):
        payload = {"file_id": version["file_id"], "file_kind": version.get("file_kind")}
        if text:
            payload["caption"] = text
    else:
        payload = {"text": text}
    if pin:
        payload["pin"] = True
    return payload


# -- time ------------------------------------------------------------------------------------

_FORMATS = ("%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M")


def parse_local_time(text: str, zone: str) -> datetime | None:
    """A typed time ("2027-03-08 18:00", ISO with or without offset) as aware UTC.

    A time without an offset is read in ``zone``. None when the text is not a time.
    """
    value = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed.astimezone(ZoneInfo("UTC"))
