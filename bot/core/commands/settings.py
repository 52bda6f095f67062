"""`/support-admin settings`: region, time zone, language, moderators, log channel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.core.cards import Card, CardTone
from bot.core.commands.verbs import Arguments, Completion, Option, OptionKind, Verb, VerbTable
from bot.core.communities import CommunityService
from bot.core.content.regions import normalise_region, region_name
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import HavenError, UnknownChoice, ValidationFailed
from bot.core.locales import SHIPPED_LOCALES, best_locale
from bot.core.mentions import parse_channel, read_refs
from bot.core.models import Community, Platform, RequestContext
from bot.core.ports import DirectoryUnavailable, Found, MemberDirectory, MemberRef
from bot.core.scheduling.timezones import resolve_timezone

log = logging.getLogger(__name__)

_CLEARING = ("none", "-", "unset")
# `settings show` names at most this many roles and people (each may cost the platform a call).
NAMES_SHOWN_MAX = 25

Changes = tuple[dict[str, object], str]


def settings_fields(
    community: Community, names: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """The settings as card fields; `names` (id -> name, from the directory) shows the roles
    and people by name where the platform could name them."""
    region = community.default_region
    roles_label = (
        "Moderator user groups" if community.platform is Platform.SLACK else "Moderator roles"
    )
    named = names or {}

    def shown(ids: Sequence[str], prefix: str) -> str:
        parts = []
        for ref in ids:
            name = named.get(ref)
            if community.platform is Platform.CONSOLE or not name or name == ref:
                parts.append(ref)
            else:
                parts.append(make_mentions_inert(f"{prefix}{name.lstrip('@')} ({ref})"))
        return ", ".join(parts) or "none"

    return (
        ("Default region", f"{region_name(region)} ({region})" if region else "not set"),
        ("Time zone for schedules", community.timezone),
        ("Locale", community.default_locale),
        (roles_label, shown(community.moderator_role_ids, "@")),
        ("Moderator users", shown(community.moderator_user_ids, "")),
        ("Moderator log channel", community.log_channel_id or "none"),
    )


class SettingsCommands:
    """Each setting is a verb with one option, which may also be typed by position."""

    def __init__(
        self,
        communities: CommunityService,
        directories: Mapping[Platform, MemberDirectory] | None = None,
        extra: Sequence[Verb] = (),
        extra_fields: Callable[[str], Awaitable[Sequence[tuple[str, str]]]] | None = None,
    ) -> None:
        """`directories` is read on every call: adapters register theirs as they start
        (Services.register_directory). `extra`: settings another feature owns and declares
        (the contact line's `contact-inbox`), listed after these; `extra_fields` gives their
        current values for `settings show`."""
        self._communities = communities
        self._directories = directories if directories is not None else {}
        self._extra_fields = extra_fields

        def setting(
            name: str,
            summary: str,
            option: Option,
            changes: Callable[[RequestContext, str], Awaitable[Changes]],
        ) -> Verb:
            async def handler(ctx: RequestContext, args: Arguments) -> Card:
                return await self._save(ctx, name, *await changes(ctx, args.text(option.name)))

            return Verb(
                name,
                summary,
                handler,
                options=(option,),
                positional=(option.name,),
                example=f"settings {name} {option.name}:{option.placeholder}",
            )

        self.table = VerbTable(
            "settings",
            "This community's settings",
            (
                Verb("show", "this community's settings", self.show),
                setting(
                    "region",
                    "default country for /support (none to unset)",
                    Option(
                        "region",
                        "A country, e.g. GB, or none",
                        required=True,
                        max_length=64,
                        completion=Completion.REGION,
                        placeholder="GB",
                    ),
                    self._region,
                ),
                setting(
                    "timezone",
                    "default time zone for schedules",
                    Option(
                        "timezone",
                        "e.g. Europe/London",
                        required=True,
                        max_length=64,
                        completion=Completion.TIMEZONE,
                        placeholder="Europe/London",
                    ),
                    self._timezone,
                ),
                setting(
                    "language",
                    "the language /support answers in when a person's own is not one Haven has",
                    Option(
                        "locale",
                        "One of " + ", ".join(SHIPPED_LOCALES),
                        required=True,
                        max_length=16,
                        placeholder="es",
                    ),
                    self._language,
                ),
                setting(
                    "moderator-roles",
                    "who else may moderate (none clears)",
                    Option(
                        "roles",
                        "@roles, role names or ids (commas between), or none",
                        required=True,
                        max_length=1000,
                        aliases=("role",),
                        placeholder="@Mods,@Helpers",
                    ),
                    self._moderator_roles,
                ),
                setting(
                    "moderator-users",
                    "individual moderators (none clears)",
                    Option(
                        "users",
                        "@people or their ids (commas between), or none",
                        required=True,
                        max_length=1000,
                        aliases=("user",),
                        placeholder="@alex",
                    ),
                    self._moderator_users,
                ),
                setting(
                    "log-channel",
                    "where Haven tells moderators about problems (none to unset)",
                    Option(
                        "channel",
                        "#channel, or none",
                        OptionKind.CHANNEL,
                        required=True,
                        max_length=100,
                        placeholder="#mod-log",
                    ),
                    self._log_channel,
                ),
                *extra,
            ),
        )

    async def show(self, ctx: RequestContext, args: Arguments) -> Card:
        community = args.community or await self._communities.moderated(ctx)
        names = await self._names(community)
        fields = list(settings_fields(community, names))
        if self._extra_fields is not None:
            fields += await self._extra_fields(community.id)
        return Card(title="Haven settings", fields=tuple(fields))

    @staticmethod
    async def _region(ctx: RequestContext, value: str) -> Changes:
        return {
            "default_region": None if value.lower() in _CLEARING else normalise_region(value)
        }, ""

    @staticmethod
    async def _timezone(ctx: RequestContext, value: str) -> Changes:
        resolved = resolve_timezone(value)
        return {"timezone": resolved.name}, resolved.note or ""

    @staticmethod
    async def _language(ctx: RequestContext, value: str) -> Changes:
        found = best_locale(value, SHIPPED_LOCALES)
        if found is None:
            raise UnknownChoice(
                "Language",
                value.strip()[:16],
                SHIPPED_LOCALES,
                "Haven's words are written in these; a person whose own language is one of "
                "them is answered in it whatever this setting says.",
                suggest=False,
            )
        return {"default_locale": found}, ""

    @staticmethod
    async def _log_channel(ctx: RequestContext, value: str) -> Changes:
        if value.lower() in _CLEARING:
            return {"log_channel_id": None}, ""
        return {"log_channel_id": parse_channel(value, ctx.platform)[0]}, ""

    async def _save(
        self, ctx: RequestContext, what: str, changes: dict[str, object], note: str
    ) -> Card:
        community = await self._communities.update_settings(ctx, what, **changes)
        return Card(
            title="Settings saved",
            tone=CardTone.SUCCESS,
            fields=settings_fields(community, await self._names(community)),
            footer=note,
        )

    # ---- moderator roles and people ------------------------------------------------------

    async def _moderator_roles(self, ctx: RequestContext, value: str) -> Changes:
        found = await self._resolve(ctx, value, "roles")
        return {"moderator_role_ids": tuple(f.id for f in found)}, _access_note(ctx, found, "roles")

    async def _moderator_users(self, ctx: RequestContext, value: str) -> Changes:
        found = await self._resolve(ctx, value, "users")
        return {"moderator_user_ids": tuple(f.id for f in found)}, _access_note(ctx, found, "users")

    def _directory(self, platform: Platform, what: str) -> MemberDirectory:
        directory = self._directories.get(platform)
        if directory is None:
            # Its adapter has not started (or is not connected yet): nothing can be checked.
            raise _unavailable(platform, what)
        return directory

    async def _resolve(self, ctx: RequestContext, value: str, what: str) -> list[Found]:
        """Every role (what="roles") or person ("users") in `value`, each one this community
        has, or ValidationFailed naming each that is not, as typed. The rule and its words
        are here; the platform's directory only looks them up."""
        if value.lower() in _CLEARING:
            return []
        refs, problems = read_refs(value, ctx.platform, what)
        directory = self._directory(ctx.platform, what)
        if what == "users" and directory.verifies and not directory.finds_users_by_name:
            by_name = [ref for ref in refs if ref.id is None]
            problems.extend(
                f"users: '{_shown(ref)}' is a name: mention them (@name) or paste their id; "
                "Haven cannot look people up by name."
                for ref in by_name
            )
            refs = [ref for ref in refs if ref.id is not None]
        look_up = directory.roles if what == "roles" else directory.users
        try:
            matches = await look_up(ctx.community_id, refs) if refs else []
        except DirectoryUnavailable as error:
            log.warning("Could not look up %s on %s (%s)", what, ctx.platform, error.reason)
            raise _unavailable(ctx.platform, what) from None
        found: dict[str, Found] = {}
        for ref, candidates in zip(refs, matches, strict=True):
            if len(candidates) == 1:
                found.setdefault(candidates[0].id, candidates[0])
            else:
                problems.append(_not_found(ctx.platform, what, ref, candidates))
        if problems:
            raise ValidationFailed(problems, _how_to_name(ctx.platform, what))
        return list(found.values())

    async def _names(self, community: Community) -> dict[str, str]:
        """id -> name of the configured roles and people, where the directory can name them
        (best effort: ids are shown when it cannot)."""
        directory = self._directories.get(community.platform)
        if directory is None or not directory.verifies:
            return {}
        names: dict[str, str] = {}
        for ids, look_up in (
            (community.moderator_role_ids, directory.roles),
            (community.moderator_user_ids, directory.users),
        ):
            refs = [MemberRef(ref, id=ref) for ref in ids[:NAMES_SHOWN_MAX]]
            if not refs:
                continue
            try:
                matches = await look_up(community.id, refs)
            except DirectoryUnavailable as error:
                log.info("Showing moderator ids without names (%s)", error.reason)
                continue
            for ref, candidates in zip(refs, matches, strict=True):
                if len(candidates) == 1 and candidates[0].id == ref.id:
                    names[ref.typed] = candidates[0].name
        return names


def _place(platform: Platform) -> str:
    return "this workspace" if platform is Platform.SLACK else "this server"


def _role_noun(platform: Platform) -> str:
    return "user group" if platform is Platform.SLACK else "role"


def _shown(ref: MemberRef) -> str:
    return ref.typed if len(ref.typed) <= 80 else ref.typed[:80] + "…"


def _not_found(platform: Platform, what: str, ref: MemberRef, candidates: Sequence[Found]) -> str:
    typed = _shown(ref)
    if what == "roles":
        noun = _role_noun(platform)
        if candidates:
            names = ", ".join(f"{c.name} ({c.id})" for c in candidates[:5])
            return (
                f"roles: '{typed}' is the name of {len(candidates)} {noun}s ({names}); "
                "give the id of the one you mean."
            )
        return f"roles: '{typed}' is not a {noun} in {_place(platform)}."
    return f"users: '{typed}' is not a member of {_place(platform)}."


def _how_to_name(platform: Platform, what: str) -> str:
    if platform is Platform.CONSOLE:
        return "On the console a role or person is a plain name; none clears the list."
    if what == "roles" and platform is Platform.SLACK:
        how = "Mention the user group (@helpers), give its handle, or paste its id (S0123ABCD)"
    elif what == "roles":
        how = "Mention the role (@Helpers), give its name, or paste its id"
    elif platform is Platform.SLACK:
        how = "Mention each person (@name) or paste their member id (U0123ABCD)"
    else:
        how = "Mention each person (@name) or paste their id (right-click → Copy User ID)"
    return f"{how}; separate several with commas; none clears the list. Nothing was changed."


def _unavailable(platform: Platform, what: str) -> HavenError:
    noun = f"{_role_noun(platform)}s" if what == "roles" else "members"
    return HavenError(
        f"Haven could not check {noun} with {platform.value.title()} just now.",
        "Nothing was changed; please try again in a moment.",
    )


def _access_note(ctx: RequestContext, found: Sequence[Found], what: str) -> str:
    """What else the moderator must do (Discord), or what was saved (the console)."""
    if not found:
        return ""
    if ctx.platform is Platform.CONSOLE:
        kind = "roles" if what == "roles" else "people"
        names = ", ".join(f.name for f in found)
        return (
            f"The console has no member list, so these {kind} are saved as the names you "
            f"typed: {names}."
        )
    if ctx.platform is Platform.DISCORD:
        who = "Members with these roles" if what == "roles" else "These people"
        whom = "the roles" if what == "roles" else "them"
        return (
            f"{who} also need the command allowed: Server Settings → Integrations → Haven → "
            f"/support-admin, then add {whom}. Until then Discord shows /support-admin only "
            "to people with Manage Server."
        )
    return ""
