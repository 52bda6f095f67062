"""The `settings` group of `/support-admin`: region, time zone, moderators, log channel."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.cards import Card, CardTone
from bot.core.commands.verbs import Arguments, Completion, Option, OptionKind, Verb, VerbTable
from bot.core.communities import CommunityService
from bot.core.content.regions import normalise_region, region_name
from bot.core.mentions import parse_channel, parse_role_refs, parse_user_refs
from bot.core.models import Community, Platform, RequestContext
from bot.core.scheduling.timezones import resolve_timezone

_CLEARING = ("none", "-", "unset")


def settings_fields(community: Community) -> tuple[tuple[str, str], ...]:
    region = community.default_region
    roles_label = (
        "Moderator user groups" if community.platform is Platform.SLACK else "Moderator roles"
    )
    return (
        ("Default region", f"{region_name(region)} ({region})" if region else "not set"),
        ("Time zone for schedules", community.timezone),
        ("Locale", community.default_locale),
        (roles_label, ", ".join(community.moderator_role_ids) or "none"),
        ("Moderator users", ", ".join(community.moderator_user_ids) or "none"),
        ("Moderator log channel", community.log_channel_id or "none"),
    )


class SettingsCommands:
    """Each setting is a verb with one option, which may also be typed by position."""

    def __init__(self, communities: CommunityService) -> None:
        self._communities = communities

        def setting(
            name: str,
            summary: str,
            option: Option,
            changes: Callable[[RequestContext, str], tuple[dict[str, object], str]],
        ) -> Verb:
            async def handler(ctx: RequestContext, args: Arguments) -> Card:
                return await self._save(ctx, name, *changes(ctx, args.text(option.name)))

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
                    "moderator-roles",
                    "who else may moderate (none clears)",
                    Option(
                        "roles",
                        "@roles, or none",
                        required=True,
                        max_length=1000,
                        aliases=("role",),
                        placeholder="@Mods,@Helpers",
                    ),
                    lambda ctx, value: ({"moderator_role_ids": parse_role_refs(value)}, ""),
                ),
                setting(
                    "moderator-users",
                    "individual moderators (none clears)",
                    Option(
                        "users",
                        "@people, or none",
                        required=True,
                        max_length=1000,
                        aliases=("user",),
                        placeholder="@alex",
                    ),
                    lambda ctx, value: ({"moderator_user_ids": parse_user_refs(value)}, ""),
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
            ),
        )

    async def show(self, ctx: RequestContext, args: Arguments) -> Card:
        community = args.community or await self._communities.moderated(ctx)
        return Card(title="Haven settings", fields=settings_fields(community))

    @staticmethod
    def _region(ctx: RequestContext, value: str) -> tuple[dict[str, object], str]:
        return {
            "default_region": None if value.lower() in _CLEARING else normalise_region(value)
        }, ""

    @staticmethod
    def _timezone(ctx: RequestContext, value: str) -> tuple[dict[str, object], str]:
        resolved = resolve_timezone(value)
        return {"timezone": resolved.name}, resolved.note or ""

    @staticmethod
    def _log_channel(ctx: RequestContext, value: str) -> tuple[dict[str, object], str]:
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
            fields=settings_fields(community),
            footer=note,
        )
