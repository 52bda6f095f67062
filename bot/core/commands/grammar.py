"""The one text grammar shared by the console and Slack: `/cmd words name:value name:"a b"`.

- options are `name:value` with the same names as the Discord options;
- a value with spaces is double-quoted (`when:"daily 09:00"`), `\\"` inside quotes is a quote;
- a final unquoted `text:` runs to the end of the line (`text:Coming out is yours to pace`);
- anything else is a positional word (`/support coming-out GB`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.errors import ValidationFailed

_OPTION = re.compile(r"([a-z][a-z0-9-]*):")
# Options whose unquoted value runs to the end of the line.
REST_OF_LINE_OPTIONS = frozenset({"text"})


@dataclass(frozen=True, slots=True)
class ParsedLine:
    command: str
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


def _read_quoted(line: str, start: int) -> tuple[str, int]:
    """Read a double-quoted value starting at the opening quote; return (value, end index)."""
    value: list[str] = []
    index = start + 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] in '"\\':
            value.append(line[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(value), index + 1
        value.append(char)
        index += 1
    raise ValidationFailed(
        ["A double quote was opened but not closed."],
        'Close it, e.g. when:"daily 09:00".',
    )


def parse_line(line: str) -> ParsedLine:
    text = line.strip()
    if not text:
        return ParsedLine(command="")
    command, _, rest = text.partition(" ")
    words: list[str] = []
    options: dict[str, str] = {}
    index = 0
    rest = rest.strip()
    while index < len(rest):
        if rest[index].isspace():
            index += 1
            continue
        match = _OPTION.match(rest, index)
        if match:
            name = match.group(1)
            index = match.end()
            if index < len(rest) and rest[index] == '"':
                value, index = _read_quoted(rest, index)
            elif name in REST_OF_LINE_OPTIONS:
                value, index = rest[index:].strip(), len(rest)
            else:
                end = index
                while end < len(rest) and not rest[end].isspace():
                    end += 1
                value, index = rest[index:end], end
            if name in options:
                raise ValidationFailed([f"The option {name}: was given twice."], "Give it once.")
            options[name] = value
            continue
        if rest[index] == '"':
            value, index = _read_quoted(rest, index)
            words.append(value)
            continue
        end = index
        while end < len(rest) and not rest[end].isspace():
            end += 1
        words.append(rest[index:end])
        index = end
    return ParsedLine(command=command.lower(), words=tuple(words), options=options)


def split_list(value: str) -> list[str]:
    """`coming-out, family` or `coming-out family` -> ["coming-out", "family"]."""
    return [part for part in re.split(r"[,\s]+", value.strip()) if part]


def quote(value: str) -> str:
    """The grammar's form of a value: quoted when it has spaces or quotes."""
    if value and not any(ch.isspace() or ch == '"' for ch in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
