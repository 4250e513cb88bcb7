"""Text formatting as Telegram applies it: ``parse_mode`` markup becomes plain text + entities.

A user never sees ``<b>`` or ``*``: Telegram strips the markup and returns entities, and it
rejects malformed markup with ``Bad Request: can't parse entities: ...``. Reproducing both is what
lets a test catch the classic bot bug of sending unescaped user text (a ``<`` in HTML mode, a
``.`` in MarkdownV2) before Telegram does. Entity offsets and lengths count UTF-16 code units,
as the Bot API specifies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from emulators.telegram.errors import BotApiError, bad_request

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "span": "spoiler",  # only as <span class="tg-spoiler">, checked below
}

# Characters MarkdownV2 reserves everywhere outside code and link URLs (Bot API docs).
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_LEGACY_MD_TOGGLES = {"*": "bold", "_": "italic"}

_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of every Bot API entity offset."""
    return len(text.encode("utf-16-le")) // 2


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entities Telegram marks in a user's text (``/start``, ``/job@bot``)."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` to ``text``: the plain text a user sees and its entities."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlToEntities().parse(text)
    if mode == "markdownv2":
        return _MarkdownParser(text, v2=True).parse()
    if mode == "markdown":
        return _MarkdownParser(text, v2=False).parse()
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def _cant_parse(problem: str) -> BotApiError:
    return bad_request(f"can't parse entities: {problem}")


@dataclass
class _Open:
    kind: str
    offset: int  # UTF-16 offset in the output where the entity starts
    source_at: int  # position in the source, for error messages
    extra: dict[str, Any] = field(default_factory=dict)


class _HtmlToEntities(HTMLParser):
    def __init__(self) -> None:
        # Character references are handled by hand so a raw "<" in text can be told apart from
        # an escaped "&lt;": Telegram rejects the former.
        super().__init__(convert_charrefs=False)
        self._out: list[str] = []
        self._offset = 0
        self._stack: list[tuple[str, _Open]] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        self.feed(text)
        self.close()
        if self.rawdata:
            raise _cant_parse(f"unexpected end of name token at byte offset {len(text)}")
        if self._stack:
            tag, _ = self._stack[-1]
            raise _cant_parse(f'can\'t find end tag corresponding to start tag "{tag}"')
        return "".join(self._out), sorted(self._entities, key=lambda e: e["offset"])

    def _emit(self, data: str) -> None:
        self._out.append(data)
        self._offset += utf16_len(data)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            at = len("".join(self._out).encode())
            raise _cant_parse(f"unsupported start tag at byte offset {at}")
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in named:
            raise _cant_parse(f'unsupported HTML entity "&{name};"')
        self._emit(named[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            self._emit(chr(code))
        except (ValueError, OverflowError) as exc:
            raise _cant_parse(f'bad character reference "&#{name};"') from exc

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        attributes = dict(attrs)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _cant_parse(f'unsupported start tag "{tag}"')
        opened = _Open(kind, self._offset, 0)
        if tag == "a":
            href = attributes.get("href")
            if not href:
                raise _cant_parse('can\'t find "href" attribute of "a" tag')
            opened.extra["url"] = href
        self._stack.append((tag, opened))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1][0] != tag:
            raise _cant_parse(f'unmatched end tag "{tag}"')
        _, opened = self._stack.pop()
        length = self._offset - opened.offset
        if length > 0:
            self._entities.append(
                {"type": opened.kind, "offset": opened.offset, "length": length, **opened.extra}
            )


class _MarkdownParser:
    """MarkdownV2 (strict, escapes required) and legacy Markdown (bold/italic/code/pre/link)."""

    def __init__(self, text: str, *, v2: bool) -> None:
        self._src = text
        self._v2 = v2
        self._pos = 0
        self._out: list[str] = []
        self._offset = 0
        self._stack: list[_Open] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        src = self._src
        while self._pos < len(src):
            char = src[self._pos]
            if char == "\\" and self._v2 and self._pos + 1 < len(src):
                self._emit(src[self._pos + 1])
                self._pos += 2
            elif char == "`":
                self._code()
            elif char == "[":
                self._stack.append(_Open("text_link", self._offset, self._pos))
                self._pos += 1
            elif char == "]" and self._stack and self._stack[-1].kind == "text_link":
                self._link_end()
            elif char == ">" and self._v2 and self._at_line_start():
                self._blockquote_line()
            elif (toggle := self._toggle_at()) is not None:
                self._toggle(*toggle)
            elif self._v2 and char in _MDV2_RESERVED:
                raise _cant_parse(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self._emit(char)
                self._pos += 1
        if self._stack:
            opened = self._stack[-1]
            name = opened.kind.replace("_", " ").title().replace(" ", "")
            raise _cant_parse(
                f"Can't find end of {name} entity at byte offset "
                f"{len(self._src[: opened.source_at].encode())}"
            )
        return "".join(self._out), sorted(self._entities, key=lambda e: e["offset"])

    def _emit(self, data: str) -> None:
        self._out.append(data)
        self._offset += utf16_len(data)

    def _at_line_start(self) -> bool:
        return self._pos == 0 or self._src[self._pos - 1] == "\n"

    def _blockquote_line(self) -> None:
        """``>`` at a line start quotes that line; consecutive quoted lines form one quote."""
        self._pos += 1
        begin = self._offset
        previous = self._entities[-1] if self._entities else None
        end = self._src.find("\n", self._pos)
        line_end = len(self._src) if end < 0 else end
        text, entities = _MarkdownParser(self._src[self._pos : line_end], v2=True).parse()
        self._emit(text)
        self._pos = line_end
        if (
            previous is not None
            and previous["type"] == "blockquote"
            and previous["offset"] + previous["length"] == begin - 1
        ):
            previous["length"] = self._offset - previous["offset"]
        elif self._offset > begin:
            self._entities.append({"type": "blockquote", "offset": begin, "length": self._offset - begin})
        self._entities.extend({**e, "offset": e["offset"] + begin} for e in entities)

    def _toggle_at(self) -> tuple[str, int] | None:
        toggles = _MDV2_TOGGLES if self._v2 else _LEGACY_MD_TOGGLES
        for marker in sorted(toggles, key=len, reverse=True):
            if self._src.startswith(marker, self._pos):
                return toggles[marker], len(marker)
        return None

    def _toggle(self, kind: str, width: int) -> None:
        if self._stack and self._stack[-1].kind == kind:
            self._close(self._stack.pop())
        else:
            self._stack.append(_Open(kind, self._offset, self._pos))
        self._pos += width

    def _close(self, opened: _Open) -> None:
        length = self._offset - opened.offset
        if length > 0:
            self._entities.append(
                {"type": opened.kind, "offset": opened.offset, "length": length, **opened.extra}
            )

    def _code(self) -> None:
        src, start = self._src, self._pos
        fence = "```" if src.startswith("```", start) else "`"
        end = self._find_unescaped(fence, start + len(fence))
        if end < 0:
            name = "Pre" if fence == "```" else "Code"
            raise _cant_parse(f"Can't find end of {name} entity at byte offset {len(src[:start].encode())}")
        body = self._unescape(src[start + len(fence) : end])
        entity: dict[str, Any] = {"type": "pre" if fence == "```" else "code"}
        if fence == "```" and "\n" in body:
            language, _, rest = body.partition("\n")
            if language and " " not in language:
                entity["language"] = language
                body = rest
        begin = self._offset
        self._emit(body)
        if body:
            self._entities.append({**entity, "offset": begin, "length": self._offset - begin})
        self._pos = end + len(fence)

    def _link_end(self) -> None:
        opened = self._stack.pop()
        src = self._src
        if not src.startswith("(", self._pos + 1):
            if self._v2:
                raise _cant_parse("Character ']' is reserved and must be escaped with the preceding '\\'")
            self._emit("]")
            self._pos += 1
            return
        close = self._find_unescaped(")", self._pos + 2)
        if close < 0:
            raise _cant_parse("Can't find end of a url at byte offset " + str(self._pos))
        opened.extra["url"] = self._unescape(src[self._pos + 2 : close])
        self._close(opened)
        self._pos = close + 1

    def _find_unescaped(self, needle: str, start: int) -> int:
        at = start
        while at < len(self._src):
            if self._v2 and self._src[at] == "\\":
                at += 2
                continue
            if self._src.startswith(needle, at):
                return at
            at += 1
        return -1

    def _unescape(self, text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL) if self._v2 else text
