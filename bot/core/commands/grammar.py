"""The one text grammar shared by the console and Slack: `/cmd words name:value name:"a b"`.

- options are `name:value` with the same names as the Discord options;
- a value with spaces is quoted: straight double or single quotes, or the curly quotes phones
  type (“ ” ‘ ’ „); `\\"` inside double quotes is a quote;
- the value of a *rest* option (`text:` by default; the verb table says which) runs to the end
  of the line when it is not quoted, except that a known option typed after it (`text:You are
  loved topics:coming-out`) is read as that option;
- anything else is a positional word (`/support coming-out GB`), kept in order with the
  options around it so the router can tell which option a stray word followed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.core.errors import ValidationFailed

_OPTION = re.compile(r"([a-z][a-z0-9-]*):")
# `name:` inside a rest-of-line value that could be an option typed after it.
_OPTION_INSIDE = re.compile(r"(?<!\S)([a-z][a-z0-9-]*):(?!//)")
# Opening quote -> the quotes that close it.
_QUOTES = {'"': '"”“', "“": '”"“', "„": '“”"', "”": '”"', "'": "'’", "‘": "’'", "’": "’'"}
_SINGLE = frozenset("'‘’")
_ESCAPABLE = frozenset((*_QUOTES, "\\"))
DEFAULT_REST_OPTIONS = frozenset({"text"})


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    name: str | None = None  # None: a positional word
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class ParsedLine:
    command: str
    tokens: tuple[Token, ...] = ()
    # Sentences for the answer, e.g. that `note:` was kept as part of the text.
    notes: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(token.value for token in self.tokens if token.name is None)


def _read_quoted(line: str, start: int) -> tuple[str, int] | None:
    """Read a quoted value starting at its opening quote: (value, end index). None when a single
    quote is never closed (then it was an apostrophe, and is read as a letter)."""
    opening = line[start]
    closing = _QUOTES[opening]
    value: list[str] = []
    index = start + 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] in _ESCAPABLE:
            value.append(line[index + 1])
            index += 2
            continue
        # A single quote closes only before a space or the end: `'Tom's line'` is one value.
        ends_word = index + 1 == len(line) or line[index + 1].isspace()
        if char in closing and (opening not in _SINGLE or ends_word):
            return "".join(value), index + 1
        value.append(char)
        index += 1
    if opening in _SINGLE:
        return None
    raise ValidationFailed(
        ["A quote was opened but not closed."],
        'Close it, e.g. when:"daily 09:00".',
    )


def _bare(rest: str, index: int) -> tuple[str, int]:
    end = index
    while end < len(rest) and not rest[end].isspace():
        end += 1
    return rest[index:end], end


def _value(rest: str, index: int) -> tuple[str, int, bool]:
    """A value or word at `index`: (value, end, quoted)."""
    if index < len(rest) and rest[index] in _QUOTES:
        read = _read_quoted(rest, index)
        if read is not None:
            return read[0], read[1], True
    value, end = _bare(rest, index)
    return value, end, False


def parse_line(
    line: str,
    *,
    rest_options: Collection[str] = DEFAULT_REST_OPTIONS,
    known_options: Collection[str] = (),
) -> ParsedLine:
    """Split a line into its command, words and options. `known_options` are the options of
    the verb being typed: one of them typed after a rest-of-line value ends that value."""
    text = line.strip()
    if not text:
        return ParsedLine(command="")
    command, _, rest = text.partition(" ")
    tokens: list[Token] = []
    options: dict[str, str] = {}
    notes: list[str] = []
    index = 0
    rest = rest.strip()
    while index < len(rest):
        if rest[index].isspace():
            index += 1
            continue
        match = _OPTION.match(rest, index)
        if match is None:
            value, index, quoted = _value(rest, index)
            tokens.append(Token(value, None, quoted))
            continue
        name = match.group(1)
        index = match.end()
        quoted = index < len(rest) and rest[index] in _QUOTES
        if name in rest_options and not quoted:
            value, index, kept = _rest_of_line(rest, index, known_options)
            notes.extend(
                f"'{word}:' was kept as part of {name}: (it is not an option here)."
                for word in kept
            )
        else:
            value, index, quoted = _value(rest, index)
        if name in options:
            raise ValidationFailed([f"The option {name}: was given twice."], "Give it once.")
        options[name] = value
        tokens.append(Token(value, name, quoted))
    return ParsedLine(
        command=command.lower(), tokens=tuple(tokens), notes=tuple(notes), options=options
    )


def _rest_of_line(
    rest: str, index: int, known_options: Collection[str]
) -> tuple[str, int, list[str]]:
    """The unquoted value of a rest option: up to a known option typed after it, or the end."""
    kept: list[str] = []
    for inside in _OPTION_INSIDE.finditer(rest, index):
        if inside.group(1) in known_options:
            return rest[index : inside.start()].strip(), inside.start(), kept
        kept.append(inside.group(1))
    return rest[index:].strip(), len(rest), kept


def split_list(value: str) -> list[str]:
    """`coming-out, family` or `coming-out family` -> ["coming-out", "family"]."""
    return [part for part in re.split(r"[,\s]+", value.strip()) if part]


def quote(value: str) -> str:
    """The grammar's form of a value: quoted when it has spaces or quotes."""
    if value and not any(ch.isspace() or ch in _QUOTES for ch in value):
        return value
    escaped = "".join(f"\\{ch}" if ch in _ESCAPABLE else ch for ch in value)
    return f'"{escaped}"'
