"""The `haven` command line: run, console, status, db, pack, communities, privacy, discord sync,
invite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import stat
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from bot import __version__
from bot.core.errors import HavenError
from bot.files import is_database_file, write_replacing
from bot.privacy import privacy
from bot.settings import Settings, SettingsError, database_notice, load_settings

if TYPE_CHECKING:
    from bot.core.models import Community
    from bot.core.ports import LeaseHolder

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _settings(
    *, quiet: bool = False, announce: bool = True, overrides: dict[str, str] | None = None
) -> Settings:
    """Load settings or exit with every problem listed. `quiet`: an interactive command, where
    Haven's INFO lines would clutter the terminal unless HAVEN_LOG_LEVEL asks for them.
    `announce`: log which database file this run opens (off for commands that refuse to
    create one). `overrides`: command-line values by variable name (they win)."""
    try:
        settings = load_settings(overrides=overrides)
    except SettingsError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        _fail(f"Haven cannot start; fix these settings (see .env.example):\n{lines}", 2)
        raise  # unreachable: _fail exits
    from bot.logging import configure_logging

    if quiet and not settings.log_level_explicit:
        settings = replace(settings, log_level="WARNING")
    configure_logging(settings)
    if announce:
        level, text = database_notice(settings)
        # The warning is for a service started in the wrong folder; an interactive session
        # (the console) keeps its terminal clean unless HAVEN_LOG_LEVEL asks for more.
        logging.getLogger(__name__).log(logging.INFO if quiet else level, "%s", text)
    return settings


def _existing_database(settings: Settings) -> str:
    """The database file, which must exist: reading commands never create an empty one. A
    database on a server is named by its URL, without a password."""
    from bot.storage.engine import database_file, database_label

    file = database_file(settings)
    if file is None:
        return database_label(settings)
    path = file.expanduser().absolute()
    if not path.is_file():
        _fail(
            f"There is no database at {path}; check HAVEN_DATABASE_URL (a relative path is "
            f"read from the folder Haven starts in, here {Path.cwd()})."
        )
    return str(path)


def _run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning Haven's own errors into a readable message and exit code."""

    async def main() -> T:
        return await coro_factory()

    try:
        return asyncio.run(main())
    except HavenError as error:
        _fail(f"{error.message}\n{error.hint}".strip())
    except KeyboardInterrupt:
        _fail("Stopped.", 130)
    raise AssertionError("unreachable")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="haven")
def main() -> None:
    """Haven: a private, calm support-community bot for Discord and Slack."""


@main.command(
    epilog=(
        "\b\n"
        "Shards: Discord splits a bot's servers into shards; a process may run a slice.\n"
        "  haven run --shards 0-3 --shard-count 8    (shards 0-3 of 8; 4-7 run elsewhere)\n"
        "Without --shards one process runs every shard, as many as Discord recommends.\n"
        "Running Haven on several processes: docs/scale.md"
    )
)
@click.option(
    "--shards",
    metavar="IDS",
    help="This process's Discord shards: 0-3, 0,2,5 or 0-3,8 (DISCORD_SHARDS).",
)
@click.option(
    "--shard-count",
    metavar="N",
    help="How many shards in all, the same in every process (DISCORD_SHARD_COUNT).",
)
def run(shards: str | None, shard_count: str | None) -> None:
    """Serve every configured platform (Discord and/or Slack) and the scheduler."""
    from bot.app import NoPlatformConfigured
    from bot.app import run as run_app

    given = {"DISCORD_SHARDS": shards, "DISCORD_SHARD_COUNT": shard_count}
    settings = _settings(overrides={k: v for k, v in given.items() if v is not None})
    try:
        _run(lambda: run_app(settings))
    except NoPlatformConfigured:
        _fail(
            "No platform is configured, so there is nothing to serve.\n"
            "  - Discord: set DISCORD_TOKEN.\n"
            "  - Slack: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or SLACK_MODE=http "
            "with SLACK_SIGNING_SECRET.\n"
            "Put them in .env (see .env.example). To try Haven without any token: haven console",
            2,
        )


def _console_locale(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from bot.core.locales import SHIPPED_LOCALES, best_locale

    if value is None:
        return None
    found = best_locale(value, SHIPPED_LOCALES)
    if found is None:
        raise click.BadParameter(
            f"Haven has no words in '{value}' yet. Choose one of: {', '.join(SHIPPED_LOCALES)}."
        )
    return found


@main.command()
@click.option(
    "--locale",
    default=None,
    callback=_console_locale,
    help="Answer /support in this language (en, es, fr, de, pt-BR); default: the community's.",
)
def console(locale: str | None) -> None:
    """A local session over the same core, as the local community's moderator (no tokens)."""
    from bot.adapters.console_publisher import ConsolePublisher
    from bot.app import open_services

    settings = _settings(quiet=True)

    async def session() -> None:
        from bot.adapters.console import run_console
        from bot.app import local_dashboard

        async with open_services(settings) as services, local_dashboard(services):

            def emit(text: str) -> None:
                sys.stdout.write(text)
                sys.stdout.flush()

            services.register_publisher(ConsolePublisher(emit))
            scheduler = asyncio.create_task(services.scheduler.run(), name="scheduler")
            try:
                await run_console(services, write=emit, locale=locale)
            finally:
                scheduler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduler

    _run(session)


@main.command()
@click.option("--hours", default=24, show_default=True, help="How far back to count slots.")
def status(hours: int) -> None:
    """What the database says about Haven now: who runs the scheduler, communities, recent
    scheduled posts. Reads only; works whether or not Haven is running."""
    import time

    from bot.core.errors import StorageError
    from bot.storage.engine import database_file, database_label, open_database
    from bot.storage.status import SqlStatusReader

    settings = _settings(quiet=True)
    label = database_label(settings)
    file = database_file(settings)
    if file is not None and not file.expanduser().is_file():
        _fail(f"There is no database at {file} (set HAVEN_DATABASE_URL).", 2)

    async def work() -> list[str]:
        database = await open_database(settings)
        try:
            reader = SqlStatusReader(database)
            await reader.ping()
            leases = await reader.scheduler_leases()
            communities = await reader.community_counts()
            now = time.time()
            slots = await reader.slot_outcomes_since(int(now - hours * 3600))
        except StorageError as error:
            # An old or foreign file: say so; `haven db migrate` brings an old one up to date.
            _fail(
                f"{label} cannot be read as Haven's database "
                f"({type(error).__name__}); run `haven db migrate` if it is an older Haven's.",
            )
            raise
        finally:
            await database.close()
        lines = [f"Database: {label} (readable)"]
        lines.extend(_lease_lines(leases, now))
        active, removed = communities.get("active", 0), communities.get("removed", 0)
        lines.append(f"Communities: {active} active, {removed} removed (awaiting purge)")
        counted = ", ".join(
            f"{slots.get(name, 0)} {name}" for name in ("sent", "missed", "failed", "claimed")
        )
        lines.append(f"Scheduled posts in the last {hours} h: {counted}")
        return lines

    for line in _run(work):
        click.echo(line)


def _lease_lines(leases: Mapping[str, LeaseHolder], now: float) -> list[str]:
    """One line per platform's scheduler lease (`haven status`)."""
    if not leases:
        return ["Scheduler: no process holds a lease (Haven is not running)"]
    lines = []
    for name, lease in leases.items():
        # "post-scheduler:discord" -> "Discord"; the old single lease is named as such.
        _, _, platform = name.partition(":")
        scope = (
            f"Scheduler ({platform.capitalize()})" if platform else "Scheduler (old single lease)"
        )
        if lease.expires_at <= now:
            lines.append(
                f"{scope}: lease of {lease.owner} expired {now - lease.expires_at:.0f} s ago "
                "(that process stopped; the next Haven to start takes over)"
            )
        else:
            lines.append(
                f"{scope}: held by {lease.owner}, last heartbeat {now - lease.heartbeat:.0f} s "
                f"ago, lease ends in {lease.expires_at - now:.0f} s"
            )
    return lines


@main.group()
def db() -> None:
    """Database operations."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (Haven also does this at start-up)."""
    from bot.app import migrate_and_ship
    from bot.storage.engine import database_label, open_database

    settings = _settings()
    label = database_label(settings)

    async def work() -> str:
        database = await open_database(settings)
        try:
            report = await migrate_and_ship(database)
        finally:
            await database.close()
        if not report.applied:
            return f"{label} is up to date (schema version {report.to_version})."
        backed_up = f"Backed up first to {report.backup}.\n" if report.backup else ""
        return (
            f"{backed_up}{label}: applied {', '.join(report.applied)}; "
            f"schema version {report.to_version}."
        )

    click.echo(_run(work))


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--force", is_flag=True, help="Replace FILE if it already exists.")
def db_backup(file: Path | None, force: bool) -> None:
    """Copy the database to FILE, consistently, even while Haven runs.

    Without FILE the copy is written beside the database, named with the time (UTC); for
    PostgreSQL it is a pg_dump archive (restore with pg_restore) in this folder. An existing
    FILE is never replaced without --force."""
    from bot.storage.backup import backup_problem, default_target, write_backup
    from bot.storage.engine import database_file, open_database

    settings = _settings(announce=False)
    source = _existing_database(settings)

    async def work() -> str:
        database = await open_database(settings, local_only=False)
        try:
            target = (file or default_target(database)).expanduser().absolute()
            live = None if database_file(settings) is None else Path(source)
            problem = backup_problem(live, target, force)
            if problem:
                _fail(problem)
            await write_backup(database, target, force)
        finally:
            await database.close()
        return f"Backed up {source} to {target}."

    click.echo(_run(work))


@db.command("copy")
@click.option(
    "--to",
    "to_url",
    required=True,
    metavar="URL",
    help="The empty database to fill, e.g. postgresql://haven@db.example.org/haven.",
)
def db_copy(to_url: str) -> None:
    """Copy every row of this database (HAVEN_DATABASE_URL) into another, empty one.

    For moving a SQLite Haven to PostgreSQL: stop Haven, copy, check the counts printed, then
    set HAVEN_DATABASE_URL to the new database and start Haven again. The source is migrated
    (and on SQLite backed up) first; the target is migrated and must hold no Haven data."""
    from bot.storage.copy import copy_database
    from bot.storage.engine import open_database, open_url

    settings = _settings()
    source_label = _existing_database(settings)

    async def work() -> list[str]:
        source = await open_database(settings)
        try:
            target = await open_url(to_url)
            try:
                report = await copy_database(source, target)
                target_label = target.label
            finally:
                await target.close()
        finally:
            await source.close()
        lines = [f"Copied {source_label} to {target_label}: {report.total} rows."]
        lines += [f"  {name}: {count}" for name, count in report.counts.items()]
        lines.append(
            "Every table has the same number of rows in both. To run Haven on the copy, set "
            "HAVEN_DATABASE_URL to that URL."
        )
        return lines

    for line in _run(work):
        click.echo(line)


@main.group()
def pack() -> None:
    """Content packs: check, import, export."""


def _print_problems(problems: Sequence[object]) -> None:
    for problem in problems:
        severity = getattr(problem, "severity", "error")
        click.echo(
            f"{severity}: {getattr(problem, 'place', '')}: {getattr(problem, 'message', '')}"
        )


def _refuse_unreadable_pack(file: Path) -> None:
    """Refuse what must not be read at all: a device (/dev/zero never ends), a pipe or socket
    (reading waits forever), or a file past the size cap (it would be read whole first)."""
    from bot.core.content.packs import MAX_PACK_BYTES

    try:
        info = file.stat()
    except OSError:
        return  # a missing or unreadable file: the pack loader says so with its reason
    if not stat.S_ISREG(info.st_mode):
        _fail(f"{file} is not a regular file (a device, pipe or socket); give the pack file.")
    if info.st_size > MAX_PACK_BYTES:
        _fail(
            f"{file} is {info.st_size / 1_000_000:.1f} MB; a pack is at most "
            f"{MAX_PACK_BYTES // 1_000_000} MB, so it was not read. Split it up."
        )


@pack.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def pack_check(file: Path) -> None:
    """Report every problem in a pack FILE with its place, and stale resources."""
    from bot.core.content.packs import load_pack_file
    from bot.core.content.staleness import STALE_AFTER_MONTHS, stale_resources

    _refuse_unreadable_pack(file)
    parsed, problems = load_pack_file(file)
    _print_problems(list(problems))
    errors = [p for p in problems if p.severity == "error"]
    if parsed is None or errors:
        _fail(f"{file}: {len(errors)} error(s); the pack cannot be imported as it is.")
        return
    stale = stale_resources(parsed.resources, date.today())
    if stale:
        # The same rule and order as `/support-admin resource stale`.
        click.echo(f"Not verified in {STALE_AFTER_MONTHS} months, oldest first:")
        for entry in stale:
            click.echo(f"  {entry.line()}")
    click.echo(
        f"{file}: OK — {len(parsed.messages)} messages, {len(parsed.resources)} resources"
        + (f", {len(problems)} warning(s)." if problems else ".")
    )


@pack.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--community", default="console:local", show_default=True, help="Community id.")
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
def pack_import(file: Path, community: str, dry_run: bool) -> None:
    """Import a pack into a community's library (idempotent by key, one transaction).

    Each added or changed item is recorded in its history as imported by `haven pack import`,
    exactly as an import by a moderator is, so it can be undone item by item."""
    from bot.app import open_services
    from bot.core.content.packs import diff_pack, load_pack_file
    from bot.core.models import Actor, Platform, RequestContext

    settings = _settings()
    _refuse_unreadable_pack(file)
    parsed, problems = load_pack_file(file)
    _print_problems(list(problems))
    if parsed is None or any(p.severity == "error" for p in problems):
        _fail(f"{file}: fix the errors above; nothing was imported.")
    assert parsed is not None
    platform_name = community.partition(":")[0]
    if platform_name not in {p.value for p in Platform}:
        _fail(f"{community} is not a community id (like console:local or discord:<server id>).")

    async def work() -> None:
        async with open_services(settings) as services:
            if community == "console:local":
                await services.communities.ensure(Platform.CONSOLE, "local", "Local console")
            elif await services.communities.get(community) is None:
                _fail(f"There is no community {community} in {_existing_database(settings)}.")
            diff = diff_pack(await services.support.library(community), parsed)
            for line in diff.summary_lines():
                click.echo(line)
            if not diff.has_changes:
                # Importing anyway would add a "pack imported" entry to the audit trail for
                # an import that changed nothing.
                click.echo(f"Nothing changed: {community} already has everything in {file}.")
                return
            if dry_run:
                click.echo("Dry run: nothing was changed.")
                return
            # The operator who runs the CLI has the database: an admin of every community.
            operator = Actor(id="cli", display_name="haven pack import", has_admin_permission=True)
            ctx = RequestContext(community, Platform(platform_name), operator)
            summary = await services.curation.import_pack(ctx, parsed)
            click.echo(f"Imported {file} into {community}: {summary.sentence()}")

    _run(work)


@pack.command("export")
@click.option("--community", default="console:local", show_default=True, help="Community id.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option(
    "--own",
    is_flag=True,
    help="Only the community's own layer (its additions and edits), not Haven's shipped items.",
)
def pack_export(community: str, fmt: str, output: Path | None, force: bool, own: bool) -> None:
    """Write a community's library out as a pack (stdout unless -o FILE): the library it
    sees, or with --own only what its moderators added or changed."""
    from bot.app import migrate_and_ship
    from bot.core.content.packs import export_pack
    from bot.storage.engine import open_database, uses_postgres
    from bot.storage.repositories import SqlCommunityRepository, SqlContentRepository

    settings = _settings(announce=False)
    _existing_database(settings)  # never creates an empty database to export
    if output is not None:
        if not uses_postgres(settings) and is_database_file(output, settings.database_path):
            _fail(f"{output} is Haven's database itself; write the pack to another file.")
        if output.exists() and not force:
            _fail(f"{output} already exists; choose another name, or add --force to replace it.")

    async def work() -> str:
        database = await open_database(settings)
        try:
            await migrate_and_ship(database)
            if await SqlCommunityRepository(database).get(community) is None:
                _fail(f"There is no community {community} in {_existing_database(settings)}.")
            content = SqlContentRepository(database)
            read = content.own_library if own else content.load_library
            library = await read(community)
        finally:
            await database.close()
        return export_pack(library, pack_id=community.replace(":", "-"), fmt=fmt)  # type: ignore[arg-type]

    text = _run(work)
    if output is None:
        click.echo(text)
    else:
        try:
            write_replacing(output, text.encode("utf-8"))
        except OSError as error:
            _fail(f"Haven cannot write {output} ({error.strerror or error}); nothing was written.")
        click.echo(f"Wrote {output}.")


@main.command()
def communities() -> None:
    """List the communities in the database: the ids --community takes, names and status."""
    from bot.storage.engine import open_database
    from bot.storage.repositories import SqlCommunityRepository

    settings = _settings(announce=False)
    path = _existing_database(settings)

    async def work() -> list[tuple[str, str, str, str]]:
        database = await open_database(settings)
        try:
            found = await SqlCommunityRepository(database).list_all()
        finally:
            await database.close()
        return [
            (c.id, c.platform.value, _one_line(c.name) or "-", _community_status(c)) for c in found
        ]

    rows = _run(work)
    if not rows:
        click.echo(
            f"No communities in {path} yet: Haven adds one when it joins a Discord server or "
            "a Slack workspace (haven console adds console:local)."
        )
        return
    header = ("ID", "PLATFORM", "NAME", "STATUS")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        click.echo("  ".join([*cells, row[3]]))
    click.echo(
        f"\n{len(rows)} in {path}. Use an ID with --community, e.g. haven pack export "
        f"--community {rows[0][0]}"
    )


def _one_line(text: str) -> str:
    """A platform's name as one printable line (names are chosen by server owners)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _community_status(community: Community) -> str:
    status = str(community.status)
    reason = community.removed_reason
    return f"{status} ({_one_line(reason)})" if reason else status


@main.group()
def discord() -> None:
    """Discord operations."""


@discord.command("sync")
@click.option("--guild", type=int, default=None, help="Sync to one server only (instant).")
def discord_sync(guild: int | None) -> None:
    """Sync the slash-command tree with Discord now."""
    from bot.adapters.discord.cli_support import sync_command_tree
    from bot.app import open_services

    settings = _settings()
    if not settings.discord_enabled:
        _fail("DISCORD_TOKEN is not set; see .env.example.", 2)

    async def work() -> str:
        async with open_services(settings) as services:
            return await sync_command_tree(services, guild)

    click.echo(_run(work))


# A Discord id (a snowflake) is a number of 17 to 20 digits.
_SNOWFLAKE = re.compile(r"[0-9]{17,20}")


@main.command()
@click.option("--application-id", default=None, help="Your Discord application id.")
def invite(application_id: str | None) -> None:
    """Print the Discord invite URL with the minimal permissions, each explained."""
    from bot.adapters.discord.cli_support import invite_text

    if application_id is not None and not _SNOWFLAKE.fullmatch(application_id.strip()):
        _fail(
            f"--application-id: '{application_id}' is not a Discord application id, which is "
            "a number of 17 to 20 digits (Developer Portal → General Information → "
            "Application ID).",
            2,
        )
    click.echo(invite_text(application_id.strip() if application_id else None))


main.add_command(privacy)

if __name__ == "__main__":  # pragma: no cover
    main()
