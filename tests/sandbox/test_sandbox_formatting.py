"""Telegram's HTML parsing: plain text, UTF-16 entity offsets and error wording."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.formatting import (
    ParseError,
    command_entities,
    format_text,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)


def test_simple_tags_become_entities():
    result = parse_html("<b>Hi</b> <i>there</i> <u>you</u> <s>x</s>")
    assert result.text == "Hi there you x"
    assert [(e["type"], e["offset"], e["length"]) for e in result.entities] == [
        ("bold", 0, 2),
        ("italic", 3, 5),
        ("underline", 9, 3),
        ("strikethrough", 13, 1),
    ]


def test_synonyms_and_nesting_sorted_by_offset_then_length():
    result = parse_html("<strong>a<em>b</em></strong><ins>c</ins><del>d</del><strike>e</strike>")
    assert result.text == "abcde"
    assert [(e["type"], e["offset"], e["length"]) for e in result.entities] == [
        ("bold", 0, 2),
        ("italic", 1, 1),
        ("underline", 2, 1),
        ("strikethrough", 3, 1),
        ("strikethrough", 4, 1),
    ]


def test_offsets_are_utf16_code_units():
    result = parse_html("😀 <b>é😀</b>")
    assert result.text == "😀 é😀"
    assert result.entities == [{"type": "bold", "offset": 3, "length": 3}]


def test_links_spoilers_code_pre_blockquote_and_emoji():
    source = (
        '<a href="https://example.org/?a=1&amp;b=2">site</a> '
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> '
        '<code>c</code> <pre><code class="language-python">p</code></pre> '
        "<blockquote expandable>q</blockquote> "
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    result = parse_html(source)
    assert result.text == "site s t c p q 👍"
    by_type = {e["type"]: e for e in result.entities}
    assert by_type["text_link"]["url"] == "https://example.org/?a=1&b=2"
    assert [e["offset"] for e in result.entities if e["type"] == "spoiler"] == [5, 7]
    assert by_type["code"] == {"type": "code", "offset": 9, "length": 1}
    assert by_type["pre"] == {"type": "pre", "offset": 11, "length": 1, "language": "python"}
    assert by_type["expandable_blockquote"]["offset"] == 13
    assert by_type["custom_emoji"]["custom_emoji_id"] == "5368324170671202286"


def test_character_references():
    assert parse_html("&lt;&gt;&amp;&quot;&#65;&#x42;&lt").text == '<>&"AB<'
    assert parse_html("AT&T &nbsp; &#0;").text == "AT&T &nbsp; &#0;"


def test_empty_elements_make_no_entity():
    assert parse_html("a<b></b>c").entities == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<b>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("é<x>", 'Unsupported start tag "x" at byte offset 2'),
        ("<b>a</b", "Unclosed end tag at byte offset 4"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ("<a href=x/y>z</a>", "Unexpected end of name token at byte offset 8"),
    ],
)
def test_errors_use_telegram_wording(source, message):
    with pytest.raises(ParseError) as caught:
        parse_html(source)
    assert str(caught.value) == message


def test_trimming_moves_entities():
    result = format_text("  <b> hi</b>  ", "HTML")
    assert result.text == "hi"
    assert result.entities == [{"type": "bold", "offset": 0, "length": 2}]


def test_plain_text_keeps_given_entities():
    entities = [{"type": "bold", "offset": 0, "length": 2}]
    assert format_text("hi", "", entities).entities == entities


def test_markdown_parsers_strip_formatting():
    assert (
        parse_markdown_v2("*bold* _it_ [link](https://x\\.org) `a.b` \\!") == "bold it link a.b !"
    )
    assert parse_markdown("*bold* _it_ [link](https://x.org) `code`") == "bold it link code"
    with pytest.raises(ParseError):
        parse_markdown_v2("*unclosed")
    with pytest.raises(ParseError):
        parse_markdown("_unclosed")


def test_bot_command_entity():
    assert command_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("/start@trainee_assistant_bot x")[0]["length"] == 28
    assert command_entities("hello /start") == []


@given(st.text())
def test_escaped_text_parses_back_to_itself(text):
    result = parse_html(html.escape(text, quote=False))
    assert result.text == text
    assert result.entities == []


@given(st.lists(st.tuples(st.sampled_from(["b", "i", "u", "s", "code"]), st.text(min_size=1))))
def test_entities_cover_exactly_their_text(parts):
    source = "".join(f"<{tag}>{html.escape(body)}</{tag}>" for tag, body in parts)
    result = parse_html(source)
    assert result.text == "".join(body for _, body in parts)
    encoded = result.text.encode("utf-16-le")
    bodies = iter(body for _, body in parts)
    for entity in result.entities:
        covered = encoded[entity["offset"] * 2 : (entity["offset"] + entity["length"]) * 2]
        assert covered.decode("utf-16-le") == next(bodies)
    assert sum(e["length"] for e in result.entities) == utf16_len(result.text)
