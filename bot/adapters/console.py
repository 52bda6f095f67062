"""The console adapter: a terminal session over the same core, as the local community.

Interactive on a terminal (history and tab completion through readline), line by line from a
pipe (`printf '/support coming-out GB\\n' | haven console`). The local user is a moderator.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

from bot.core.cards import Card, CardTone
from bot.core.models import LOCAL_COMMUNITY_ID, Actor, Platform, RequestContext
from bot.services import Services

log = logging.getLogger(__name__)

PROMPT = "haven> "
WIDTH = 88
_TONE_MARK = {
    CardTone.SUPPORT: "💙",
    CardTone.INFO: "ℹ",
    CardTone.SUCCESS: "✔",
    CardTone.ERROR: "✖",
}


def render_card(card: Card) -> str:
    """A card as readable terminal text."""
    out: list[str] = [
        f"{_TONE_MARK[card.tone]} {card.title}",
        "─" * min(WIDTH, len(card.title) + 2),
    ]

    def wrap(text: str, indent: str = "") -> None:
        for paragraph in text.split("\n"):
            out.extend(
                textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent)
                or [""]
            )

    if card.body:
        wrap(card.body)
    for name, value in card.fields:
        wrap(f"{name}: {value}")
    out.extend(card.lines)
    for resource in card.resources:
        out.append("")
        badges = f"  [{', '.join(resource.badges)}]" if resource.badges else ""
        out.append(f"• {resource.title} — {resource.domain}{badges}")
        if resource.description:
            wrap(resource.description, "    ")
        for contact in resource.contacts:
            out.append(f"    {contact.label + ': ' if contact.label else ''}{contact.display}")
        if resource.hours:
            wrap(f"Hours: {resource.hours}", "    ")
        out.append(f"    {resource.url}")
    if card.region_choices:
        out.append("")
        wrap(
            "Choose your country for local services, e.g. /support "
            f"{card.topic or 'general'} GB. Covered: "
            + ", ".join(choice.value for choice in card.region_choices)
        )
    if card.choices:
        out.append("")
        wrap("Topics: " + ", ".join(choice.value for choice in card.choices))
    if card.page and card.page.page_count > 1:
        out.append(
            f"Page {card.page.page} of {card.page.page_count} — next: "
            f"{card.page.command} page:{min(card.page.page + 1, card.page.page_count)}"
        )
    for action in card.actions:
        out.append(f"[{action.label}] run: {action.value}")
    if card.attachment:
        out.append(f"(file {card.attachment.filename}, {len(card.attachment.content)} bytes)")
        out.append(card.attachment.content.decode("utf-8", errors="replace"))
    if card.footer:
        out.append("")
        wrap(card.footer)
    return "\n".join(out) + "\n"


def console_context() -> RequestContext:
    try:
        name = getpass.getuser()
    except Exception:
        name = "local operator"
    return RequestContext(
        community_id=LOCAL_COMMUNITY_ID,
        platform=Platform.CONSOLE,
        actor=Actor(id="console", display_name=name, has_admin_permission=True),
    )


class _Completer:
    """Tab completion for commands, groups, verbs and topics (readline)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def candidates(self, line: str) -> list[str]:
        words = line.split(" ")
        if len(words) == 1:
            return [c for c in ("/support", "/support-admin", "help", "quit") if c.startswith(line)]
        head, current = words[:-1], words[-1]
        if head[0] == "/support" and len(head) == 1:
            topics = self._services.support.topic_choices(LOCAL_COMMUNITY_ID)
            return [t.value for t in topics if t.value.startswith(current)]
        if head[0] == "/support-admin":
            groups = self._services.router.groups
            if len(head) == 1:
                return [g for g in (*groups, "help") if g.startswith(current)]
            if len(head) == 2 and head[1] in groups:
                return [v for v in groups[head[1]].verbs if v.startswith(current)]
        return []

    def complete(self, text: str, state: int) -> str | None:
        import readline

        line = readline.get_line_buffer()
        prefix = line[: readline.get_endidx()]
        options = [c[len(prefix) - len(text) :] for c in self._complete_line(prefix)]
        return options[state] if state < len(options) else None

    def _complete_line(self, prefix: str) -> list[str]:
        words = prefix.split(" ")
        stem = " ".join(words[:-1])
        return [f"{stem} {c}".lstrip() for c in self.candidates(prefix)]


def _setup_readline(services: Services) -> None:
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input still works
        return
    completer = _Completer(services)
    readline.set_completer(completer.complete)
    readline.set_completer_delims("")
    readline.parse_and_bind("tab: complete")


async def run_console(
    services: Services,
    *,
    stdin: TextIO | None = None,
    write: Callable[[str], None] | None = None,
    interactive: bool | None = None,
) -> None:
    """Read commands until EOF or `quit`; print each answer. Scheduled posts print too."""
    stdin = stdin or sys.stdin
    emit = write or (lambda text: (sys.stdout.write(text), sys.stdout.flush()) and None)
    interactive = stdin.isatty() if interactive is None else interactive
    await services.communities.ensure(Platform.CONSOLE, "local", "Local console")
    ctx = console_context()
    if interactive:
        _setup_readline(services)
        emit(
            "Haven console — you are the local moderator. Try: /support coming-out GB, "
            "/support-admin help, or quit.\n"
        )
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, PROMPT)
            except EOFError:
                emit("\n")
                break
        else:
            line = await asyncio.to_thread(stdin.readline)
            if line == "":
                break
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("quit", "exit", "/quit"):
            break
        card = await services.router.run_text(ctx, line)
        emit(render_card(card))
