"""parse_mode handling as Telegram does it: plain text + entities, or a 400 for broken markup."""

from __future__ import annotations

import pytest

from emulators.telegram.errors import BotApiError
from emulators.telegram.formatting import bot_command_entities, parse_text


def test_html_becomes_text_and_entities() -> None:
    text, entities = parse_text(
        '<b>Done</b>: 3 rows &lt;ok&gt; <a href="https://t.me/x">open</a> <code>a&amp;b</code>',
        "HTML",
    )

    assert text == "Done: 3 rows <ok> open a&b"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 18, "length": 4, "url": "https://t.me/x"},
        {"type": "code", "offset": 23, "length": 3},
    ]


def test_entity_offsets_count_utf16_code_units() -> None:
    """An emoji outside the BMP is two UTF-16 units, so the following offset moves by two."""
    text, entities = parse_text("📊 <b>Отчёт</b>", "HTML")

    assert text == "📊 Отчёт"
    assert entities == [{"type": "bold", "offset": 3, "length": 5}]


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("rows < 10", "unsupported start tag"),
        ("<b>open", "can't find end tag"),
        ("<br>", 'unsupported start tag "br"'),
        ("a </i>", "unmatched end tag"),
        ("&nbsp;", "unsupported HTML entity"),
    ],
)
def test_broken_html_is_a_bad_request(markup: str, problem: str) -> None:
    with pytest.raises(BotApiError) as caught:
        parse_text(markup, "HTML")

    assert caught.value.error_code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert problem in caught.value.description


def test_markdown_v2_entities_and_escapes() -> None:
    text, entities = parse_text(
        "*Done* _rows_ __u__ ~s~ ||x|| `a\\`b` [here](https://t.me/a\\)b) 1\\.5\\!", "MarkdownV2"
    )

    assert text == "Done rows u s x a`b here 1.5!"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert entities[-1]["url"] == "https://t.me/a)b"


def test_markdown_v2_pre_block_with_language_and_blockquote() -> None:
    text, entities = parse_text(">quoted\n>lines\n```python\nprint(1)\n```", "MarkdownV2")

    assert text == "quoted\nlines\nprint(1)\n"
    assert {"type": "blockquote", "offset": 0, "length": 12} in entities
    assert {"type": "pre", "language": "python", "offset": 13, "length": 9} in entities


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("3.5 rows", "Character '.' is reserved"),
        ("done!", "Character '!' is reserved"),
        ("*open", "Can't find end of Bold entity"),
        ("`code", "Can't find end of Code entity"),
    ],
)
def test_unescaped_markdown_v2_is_a_bad_request(markup: str, problem: str) -> None:
    with pytest.raises(BotApiError, match="can't parse entities") as caught:
        parse_text(markup, "MarkdownV2")

    assert problem in caught.value.description


def test_legacy_markdown_needs_no_escapes() -> None:
    assert parse_text("*Done* in 3.5 s!", "Markdown") == (
        "Done in 3.5 s!",
        [{"type": "bold", "offset": 0, "length": 4}],
    )


def test_no_parse_mode_keeps_markup_literal() -> None:
    assert parse_text("<b>x</b> 1.5", None) == ("<b>x</b> 1.5", [])


def test_bot_commands_are_marked_like_telegram() -> None:
    """Commands at word starts are entities, with an optional @botname; paths are not."""
    entities = bot_command_entities("/job@csvbot 12 then /help, not a/b")

    assert entities == [
        {"type": "bot_command", "offset": 0, "length": 11},
        {"type": "bot_command", "offset": 20, "length": 5},
    ]
