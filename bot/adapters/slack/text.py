"""Slash-command text as Slack sends it, turned back into what the moderator typed.

Haven's commands have `should_escape` on (config/slack-manifest.yaml), so Slack sends a typed
`&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`, and wraps what it recognised in angle brackets:
links `<https://example.org|example.org>` or `<https://example.org>`, e-mail addresses
`<mailto:a@b.org|a@b.org>`, channels `<#C0123ABCD|general>` (also `<#C0123ABCD>`,
`<#C0123ABCD|>`), users `<@U0123ABCD|alex>`, user groups `<!subteam^S0123ABCD|@helpers>` and
special mentions `<!here>`. `command_text` undoes that before the text grammar reads it:

- a link becomes the address Slack resolved, the part before `|`, never its label (a label can
  show one address and lead to another);
- channel, user and user-group references stay wrapped, in the forms bot/core/mentions.py reads
  (`channel:<#C0123ABCD|general>`, `users:<@U0123ABCD>`, `roles:<!subteam^S0123ABCD|@helpers>`);
- `<!here>`, `<!channel>` and `<!everyone>` become `@here`, `@channel`, `@everyone` as typed
  (plain text pings nobody); any other `<!...>` is kept as it came;
- `&amp;`, `&lt;` and `&gt;` are decoded once.

Wrappers are read first and entities decoded in the same left-to-right pass, so a typed `&lt;`
(sent as `&amp;lt;`) stays `&lt;`, and a typed `<https://x>` (sent as `&lt;https://x&gt;`) is
stored as those characters, never read as a link.
"""

from __future__ import annotations

import re

# Only Slack's own wrappers hold a raw `<` or `>`: typed ones arrive as entities.
_WRAPPER = re.compile(r"<([^<>]+)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL_MENTIONS = frozenset({"here", "channel", "everyone"})


def decode_entities(text: str) -> str:
    """`&amp;` `&lt;` `&gt;` -> `&` `<` `>`, in one pass (`&amp;lt;` -> `&lt;`)."""
    return _ENTITY.sub(lambda match: _ENTITIES[match.group(1)], text)


def _unwrap(inner: str) -> str:
    """One `<...>` as the moderator typed it (see the module docstring)."""
    if inner.startswith(("#", "@", "!subteam^")):
        return f"<{inner}>"
    if inner.startswith("!"):
        name = inner[1:].partition("|")[0]
        return f"@{name}" if name in _SPECIAL_MENTIONS else f"<{inner}>"
    url = decode_entities(inner.partition("|")[0])
    # Slack links a typed e-mail address as <mailto:a@b|a@b>: the address is what was typed.
    return url.removeprefix("mailto:")


def command_text(text: str) -> str:
    """A slash command's `text` field as typed: links unwrapped, entities decoded."""
    pieces: list[str] = []
    last = 0
    for match in _WRAPPER.finditer(text):
        pieces.append(decode_entities(text[last : match.start()]))
        pieces.append(_unwrap(match.group(1)))
        last = match.end()
    pieces.append(decode_entities(text[last:]))
    return "".join(pieces)
