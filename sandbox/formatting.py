"""Turning formatted text into plain text plus entities, the way Telegram does.

HTML follows the Bot API server's parser closely (same accepted tags, same error wording,
byte offsets in errors, UTF-16 offsets in entities). MarkdownV2 and Markdown are parsed more
loosely: formatting is stripped and reserved characters are enforced, but no entities are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}

_SPACE = frozenset(" \t\r\n\0\v")
_TRIM = " \t\r\n\v\f"
_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


class ParseError(Exception):
    """Malformed markup; the message is Telegram's text after ``can't parse entities: ``."""


@dataclass
class FormattedText:
    """Plain text and its entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def normalize_parse_mode(value: str | None) -> str | None:
    """Telegram accepts parse modes case-insensitively; ``None`` for an unknown one."""
    if value is None or value == "":
        return ""
    return PARSE_MODES.get(value.lower())


def format_text(
    text: str, parse_mode: str, entities: list[dict[str, Any]] | None = None
) -> FormattedText:
    """Parse ``text`` per ``parse_mode`` (canonical name or "") and trim it like Telegram."""
    if parse_mode == "HTML":
        result = parse_html(text)
    elif parse_mode == "MarkdownV2":
        result = FormattedText(parse_markdown_v2(text), [])
    elif parse_mode == "Markdown":
        result = FormattedText(parse_markdown(text), [])
    else:
        result = FormattedText(text, list(entities or []))
    return trim(result)


def trim(value: FormattedText) -> FormattedText:
    """Drop leading and trailing whitespace, moving and clipping entities to match."""
    stripped_left = value.text.lstrip(_TRIM)
    shift = utf16_len(value.text) - utf16_len(stripped_left)
    text = stripped_left.rstrip(_TRIM)
    if shift == 0 and len(text) == len(value.text):
        return value
    limit = utf16_len(text)
    entities: list[dict[str, Any]] = []
    for entity in value.entities:
        start = max(int(entity["offset"]) - shift, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - shift, limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(text, entities)


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity of a message that starts with ``/command``."""
    match = _BOT_COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


# -- HTML --------------------------------------------------------------------------------


@dataclass
class _OpenTag:
    name: str
    offset: int
    argument: str
    expandable: bool


def parse_html(source: str) -> FormattedText:
    """Parse Telegram's HTML subset; raise :class:`ParseError` on malformed markup."""
    text = source + "\0"
    end = len(source)
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < end:
        char = text[i]
        if char == "&":
            decoded, after = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                offset += utf16_len(decoded)
                i = after
                continue
        if char != "<":
            out.append(char)
            offset += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        i += 1
        if text[i] != "/":
            i, tag = _parse_start_tag(text, source, begin, i)
            stack.append(_OpenTag(tag.name, offset, tag.argument, tag.expandable))
            continue
        if not stack:
            raise ParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
        while text[i] not in _SPACE and text[i] != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while text[i] in _SPACE and i < end:
            i += 1
        if text[i] != ">":
            raise ParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        opened = stack.pop()
        if end_name and end_name != opened.name:
            raise ParseError(
                f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                f'expected "</{opened.name}>", found "</{end_name}>"'
            )
        if offset > opened.offset:
            _close_entity(opened, offset, "".join(out), entities, stack)
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return FormattedText("".join(out), entities)


def _parse_start_tag(text: str, source: str, begin: int, i: int) -> tuple[int, _OpenTag]:
    while text[i] not in _SPACE and text[i] != ">":
        i += 1
    if text[i] == "\0" and i >= len(source):
        raise ParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    name = text[begin + 1 : i].lower()
    if name not in _HTML_TAGS:
        raise ParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}'
        )
    argument = ""
    expandable = False
    at = _byte_offset(source, begin)
    while text[i] != ">":
        while i < len(source) and text[i] in _SPACE:
            i += 1
        if text[i] == ">":
            break
        if i >= len(source):
            raise ParseError(f'Unclosed start tag "{name}" at byte offset {at}')
        attr_begin = i
        while text[i] not in _SPACE and text[i] not in "=>":
            i += 1
        attr = text[attr_begin:i].lower()
        if not attr:
            raise ParseError(f'Empty attribute name in the tag "{name}" at byte offset {at}')
        while i < len(source) and text[i] in _SPACE:
            i += 1
        if text[i] != "=":
            if name == "blockquote" and attr == "expandable":
                expandable = True
                continue
            raise ParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {at}'
            )
        i += 1
        while i < len(source) and text[i] in _SPACE:
            i += 1
        if i >= len(source):
            raise ParseError(f'Unclosed start tag "{name}" at byte offset {at}')
        if text[i] not in "'\"":
            token_begin = i
            while (text[i].isalnum() and text[i].isascii()) or text[i] in ".-":
                i += 1
            value = text[token_begin:i].lower()
            if text[i] not in _SPACE and text[i] != ">":
                at_token = _byte_offset(source, token_begin)
                raise ParseError(f"Unexpected end of name token at byte offset {at_token}")
        else:
            quote = text[i]
            i += 1
            value_begin = i
            chars: list[str] = []
            while i < len(source) and text[i] != quote:
                if text[i] == "&":
                    decoded, after = _decode_entity(text, i)
                    if decoded is not None:
                        chars.append(decoded)
                        i = after
                        continue
                chars.append(text[i])
                i += 1
            if i >= len(source):
                raise ParseError(
                    "Unclosed end of attribute value at byte offset "
                    f"{_byte_offset(source, value_begin)}"
                )
            i += 1
            value = "".join(chars)
        if name == "a" and attr == "href":
            argument = value
        elif name == "code" and attr == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif name == "span" and attr == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif name == "tg-emoji" and attr == "emoji-id":
            argument = value
        elif name == "blockquote" and attr == "expandable":
            expandable = True
    if name == "span" and argument != "spoiler":
        raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    return i + 1, _OpenTag(name, 0, argument, expandable)


def _close_entity(
    tag: _OpenTag,
    offset: int,
    plain: str,
    entities: list[dict[str, Any]],
    stack: list[_OpenTag],
) -> None:
    length = offset - tag.offset
    base = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_ENTITY:
        entities.append({"type": _SIMPLE_ENTITY[tag.name], **base})
    elif tag.name == "a":
        url = tag.argument or _utf16_slice(plain, tag.offset, offset)
        if url:
            entities.append({"type": "text_link", **base, "url": url})
    elif tag.name == "tg-emoji":
        if not tag.argument.isdigit():
            raise ParseError("Custom emoji entity must have a valid emoji-id")
        entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.argument})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.expandable else "blockquote"
        entities.append({"type": kind, **base})
    elif tag.name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == tag.offset
            and last["length"] == length
            and "language" in last
        ):
            entities[-1] = {"type": "pre", **base, "language": last["language"]}
        else:
            entities.append({"type": "pre", **base})
    elif tag.name == "code":
        inside_pre = bool(stack) and stack[-1].name == "pre" and stack[-1].offset == tag.offset
        if inside_pre and tag.argument:
            entities.append({"type": "code", **base, "language": tag.argument})
        else:
            entities.append({"type": "code", **base})


def _decode_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&...;`` at ``pos`` like Telegram (the ``;`` is optional)."""
    end = pos + 1
    if text[end] == "#":
        end += 1
        value = 0
        if text[end] == "x":
            end += 1
            while text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None, pos
        else:
            while text[end] in "0123456789":
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None, pos
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None, pos
        decoded = chr(value)
    else:
        while text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None, pos
        decoded = _NAMED_ENTITIES[name]
    if text[end] == ";":
        end += 1
    return decoded, end


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _utf16_slice(text: str, start: int, stop: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[start * 2 : stop * 2].decode("utf-16-le")


# -- Markdown ----------------------------------------------------------------------------

_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_TOGGLES = ("||", "__", "*", "_", "~")


def parse_markdown_v2(source: str) -> str:
    """Strip MarkdownV2 formatting; raise :class:`ParseError` where Telegram would."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    i = 0
    n = len(source)
    at_line_start = True
    while i < n:
        char = source[i]
        if char == "\\":
            if i + 1 < n and ord(source[i + 1]) <= 126:
                out.append(source[i + 1])
                i += 2
                at_line_start = False
                continue
            out.append(char)
            i += 1
            continue
        if char == "`":
            fence = "```" if source.startswith("```", i) else "`"
            close = _find_unescaped(source, fence, i + len(fence))
            if close < 0:
                raise ParseError(
                    f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte "
                    f"offset {_byte_offset(source, i)}"
                )
            body = source[i + len(fence) : close]
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                body = rest if first and " " not in first else body
            out.append(re.sub(r"\\([`\\])", r"\1", body))
            i = close + len(fence)
            at_line_start = False
            continue
        if char == ">" and at_line_start:
            i += 1
            continue
        if char == "!" and source.startswith("![", i):
            # A custom emoji: ![👍](tg://emoji?id=...) shows as its fallback emoji.
            i += 1
            continue
        if char == "[":
            close = _find_unescaped(source, "](", i + 1)
            paren = _find_unescaped(source, ")", close + 2) if close >= 0 else -1
            if close < 0 or paren < 0:
                raise ParseError(_reserved(char))
            out.append(parse_markdown_v2(source[i + 1 : close]))
            i = paren + 1
            at_line_start = False
            continue
        toggle = next((t for t in _V2_TOGGLES if source.startswith(t, i)), None)
        if toggle is not None:
            if open_marks and open_marks[-1][0] == toggle:
                open_marks.pop()
            elif any(mark == toggle for mark, _ in open_marks):
                raise ParseError(f"Can't find end of entity starting at byte offset {i}")
            else:
                open_marks.append((toggle, _byte_offset(source, i)))
            i += len(toggle)
            continue
        if char in _V2_RESERVED:
            raise ParseError(_reserved(char))
        out.append(char)
        at_line_start = char == "\n"
        i += 1
    if open_marks:
        names = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough"}
        mark, at = open_marks[-1]
        raise ParseError(
            f"Can't find end of {names.get(mark, 'Spoiler')} entity at byte offset {at}"
        )
    return "".join(out)


def parse_markdown(source: str) -> str:
    """Strip legacy Markdown formatting; raise :class:`ParseError` on an unclosed entity."""
    out: list[str] = []
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            i += 2
            continue
        if char in "*_`":
            fence = "```" if source.startswith("```", i) else char
            close = source.find(fence, i + len(fence))
            if close < 0:
                raise ParseError(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(source, i)}"
                )
            out.append(source[i + len(fence) : close])
            i = close + len(fence)
            continue
        if char == "[":
            close = source.find("](", i + 1)
            paren = source.find(")", close + 2) if close >= 0 else -1
            if close >= 0 and paren >= 0:
                out.append(source[i + 1 : close])
                i = paren + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _find_unescaped(source: str, needle: str, start: int) -> int:
    i = start
    while True:
        found = source.find(needle, i)
        if found < 0:
            return -1
        backslashes = 0
        j = found - 1
        while j >= start and source[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            return found
        i = found + 1


def _reserved(char: str) -> str:
    return f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
