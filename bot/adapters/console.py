"""The console adapter: a terminal session over the same core, as the local community.

Interactive on a terminal (history and tab completion through readline), line by line from a
pipe (`printf '/support coming-out GB\\n' | haven console`). The local user is a moderator.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import stat
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.adapters.console_contact import ConsoleContact
from bot.core.cards import Card, CardTone
from bot.core.contact.rules import CONTACT_COMMAND
from bot.core.errors import HavenError
from bot.core.i18n import translator
from bot.core.models import LOCAL_COMMUNITY_ID, Actor, Community, Platform, RequestContext
from bot.core.ports import Found, MemberRef
from bot.files import is_database_file, write_replacing
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
    words = translator(card.locale)
    out: list[str] = [
        f"{_TONE_MARK[card.tone]} {card.title}",
        "─" * min(WIDTH, len(card.title) + 2),
    ]

    def wrap(text: str, indent: str = "") -> None:
        for paragraph in text.split("\n"):
            if paragraph.startswith("/"):
                out.append(indent + paragraph)  # a command to copy: kept on one line
                continue
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
            wrap(words.gettext("Hours: {hours}").format(hours=resource.hours), "    ")
        out.append(f"    {resource.url}")
        if resource.reports:
            out.append(f"    {resource.report_hint(card.locale)}")
    if card.region_choices:
        out.append("")
        wrap(
            words.gettext(
                "Choose your country for local services, e.g. {example}. Covered: {codes}"
            ).format(
                example=f"/support {card.topic or 'general'} GB",
                codes=", ".join(choice.value for choice in card.region_choices),
            )
        )
    if card.choices:
        out.append("")
        label = card.choices_label or words.gettext("Topics")
        wrap(f"{label}: " + ", ".join(choice.value for choice in card.choices))
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


class ConsoleFiles:
    """The console's files: `pack import file:PATH` reads one, `pack export file:PATH` writes
    one. Relative paths are from the folder the console was started in."""

    def __init__(self, folder: Path, database: Path | None = None) -> None:
        self._folder = folder
        # Never written over: an export named like the database would destroy it.
        self._database = database

    def _path(self, path: str) -> Path:
        return (self._folder / Path(path).expanduser()).resolve()

    def read_text(self, path: str, max_bytes: int) -> tuple[str, str]:
        target = self._path(path)
        try:
            info = target.stat()
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(info.st_mode):
                # A device (/dev/zero never ends) or a pipe (it waits forever): never read.
                raise HavenError(f"{target} is not a regular file; give the pack file.")
            if info.st_size > max_bytes:
                raise HavenError(
                    f"{target} is larger than a pack can be ({max_bytes // 1_000_000} MB)."
                )
            with target.open("rb") as handle:
                # Bounded even if the file grew after stat.
                content = handle.read(max_bytes + 1)
            if len(content) > max_bytes:
                raise HavenError(f"{target} is larger than a pack can be.")
            return target.name, content.decode("utf-8")
        except FileNotFoundError:
            raise HavenError(
                f"There is no file {target}.", "Check the path and try again."
            ) from None
        except IsADirectoryError:
            raise HavenError(f"{target} is a folder, not a file.") from None
        except UnicodeDecodeError:
            raise HavenError(
                f"{target} is not valid UTF-8 text.", "Give the .yaml or .json file a pack is."
            ) from None
        except OSError as error:
            raise HavenError(f"Haven cannot read {target} ({error.strerror}).") from None

    def write_bytes(self, path: str, content: bytes) -> str:
        target = self._path(path)
        if self._database is not None and is_database_file(target, self._database):
            raise HavenError(
                f"{target} is Haven's database itself; nothing was written.",
                "Name another file, e.g. file:library.yaml.",
            )
        if target.is_dir() or (target.exists() and not target.is_file()):
            raise HavenError(f"{target} is not a file Haven can write; nothing was written.")
        try:
            write_replacing(target, content)
        except OSError as error:
            raise HavenError(
                f"Haven cannot write {target} ({error.strerror or error}); nothing was written."
            ) from None
        return str(target)


class ConsoleDirectory:
    """The console's one local community has no member list: a role or a person is just the
    name typed (the core has already lowercased it and dropped the '@'), and is never refused."""

    platform = Platform.CONSOLE
    verifies = False
    finds_users_by_name = True

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return [(Found(ref.name, ref.name),) if ref.name else () for ref in refs]

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return await self.roles(community_id, refs)

    async def member_actor(self, community: Community, user_id: str) -> Actor | None:
        """The console's one moderator is its operator (the dashboard link it prints)."""
        operator = console_context().actor
        return operator if user_id == operator.id else None


def console_context(locale: str | None = None) -> RequestContext:
    """The local operator; `locale` is the session's language (`haven console --locale es`),
    else the local community's default."""
    try:
        name = getpass.getuser()
    except Exception:
        name = "local operator"
    return RequestContext(
        community_id=LOCAL_COMMUNITY_ID,
        platform=Platform.CONSOLE,
        actor=Actor(id="console", display_name=name, has_admin_permission=True),
        locale=locale,
    )


class _Completer:
    """Tab completion for commands, groups, verbs and topics (readline)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def candidates(self, line: str) -> list[str]:
        words = line.split(" ")
        if len(words) == 1:
            commands = ("/support", "/support-admin", f"/{CONTACT_COMMAND}", "help", "quit")
            return [c for c in commands if c.startswith(line)]
        head, current = words[:-1], words[-1]
        if head[0] == "/support" and len(head) == 1:
            topics = self._services.support.topic_choices(LOCAL_COMMUNITY_ID)
            return [t.value for t in topics if t.value.startswith(current)]
        if head[0] == "/support-admin":
            tables = self._services.router.tables
            if len(head) == 1:
                return [g for g in (*tables, "help") if g.startswith(current)]
            if len(head) == 2 and head[1] in tables:
                return [v for v in tables[head[1]].verb_names if v.startswith(current)]
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


async def _other_platforms(services: Services) -> list[str]:
    """The platforms other than the console that this database serves, by name."""
    try:
        found = await services.scheduler.community_platforms()
    except Exception as error:  # a warning only: never stop the session for it
        log.warning("Could not read which platforms this database serves (%s)", error)
        return []
    return sorted(p.value.capitalize() for p in found if p is not Platform.CONSOLE)


async def run_console(
    services: Services,
    *,
    stdin: TextIO | None = None,
    write: Callable[[str], None] | None = None,
    interactive: bool | None = None,
    locale: str | None = None,
) -> None:
    """Read commands until EOF or `quit`; print each answer. Scheduled posts print too.
    `locale` answers /support in that language for this session only."""
    # Before the first await, so the scheduler task started beside this session never takes
    # the lease of the process that posts for Discord and Slack: the console posts only its
    # own community's schedules, under a lease of its own (released when the session ends).
    services.scheduler.serve(frozenset({Platform.CONSOLE}))
    stdin = stdin or sys.stdin
    emit = write or (lambda text: (sys.stdout.write(text), sys.stdout.flush()) and None)
    interactive = stdin.isatty() if interactive is None else interactive
    await services.communities.ensure(Platform.CONSOLE, "local", "Local console")
    others = await _other_platforms(services)
    if others:
        emit(
            f"Note: this database also serves {' and '.join(others)} communities. This console "
            "posts only the local community's scheduled posts; theirs are posted by "
            "`haven run`.\n"
        )
    services.register_directory(ConsoleDirectory())
    services.register_contact(ConsoleContact(emit, render_card))
    ctx = console_context(locale)
    files = ConsoleFiles(Path.cwd(), services.settings.database_path)
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
        if line.split(maxsplit=1)[0].lstrip("/").lower() == CONTACT_COMMAND:
            # The answer, then the card with the person's key: the terminal is theirs alone.
            answer = await services.router.contact(ctx, line)
            emit(render_card(answer.shown))
            if answer.keep is not None:
                emit("── Only you see this: keep the key " + "─" * 24 + "\n")
                emit(render_card(answer.keep))
            continue
        card = await services.router.run_text(ctx, line, files)
        emit(render_card(card))
