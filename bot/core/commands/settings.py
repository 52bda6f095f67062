"""The `settings` group of `/support-admin`: region, time zone, moderators, log channel."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.cards import Card, CardTone
from bot.core.communities import CommunityService
from bot.core.content.regions import normalise_region, region_name
from bot.core.errors import NotFound, ValidationFailed
from bot.core.mentions import parse_channel, parse_role_refs, parse_user_refs
from bot.core.models import Community, Platform, RequestContext
from bot.core.permissions import require_moderator
from bot.core.scheduling.recurrence import parse_timezone

# verb -> the option that carries its value (also the positional word in the text grammar).
SETTING_OPTIONS = {
    "region": "region",
    "timezone": "timezone",
    "moderator-roles": "roles",
    "moderator-users": "users",
    "log-channel": "channel",
}


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
    name = "settings"
    verbs = ("show", *SETTING_OPTIONS)

    def __init__(self, communities: CommunityService) -> None:
        self._communities = communities

    def help_lines(self) -> tuple[str, ...]:
        return (
            "settings show  — this community's settings",
            "settings region region:GB  — default country for /support (none to unset)",
            "settings timezone timezone:Europe/London  — default zone for schedules",
            "settings moderator-roles roles:@Mods,@Helpers  — who else may moderate (none clears)",
            "settings moderator-users users:@alex  — individual moderators (none clears)",
            "settings log-channel channel:#mod-log  — where Haven tells moderators about "
            "problems (none to unset)",
        )

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card:
        if verb == "show":
            community = await self._communities.get(ctx.community_id)
            if community is None:
                raise NotFound("Haven has no settings for this place yet.")
            require_moderator(community, ctx.actor)
            return Card(title="Haven settings", fields=settings_fields(community))
        option = SETTING_OPTIONS.get(verb)
        if option is None:
            raise ValidationFailed([f"settings {verb}: not a settings command."])
        unknown = [name for name in options if name != option]
        if unknown or option not in options or not options[option].strip():
            raise ValidationFailed(
                [f"settings {verb} needs {option}:<value>."],
                f"Usage: {self.help_lines()[list(SETTING_OPTIONS).index(verb) + 1]}",
            )
        value = options[option].strip()
        clearing = value.lower() in ("none", "-", "unset")
        changes: dict[str, object]
        if verb == "region":
            changes = {"default_region": None if clearing else normalise_region(value)}
        elif verb == "timezone":
            changes = {"timezone": parse_timezone(value)}
        elif verb == "moderator-roles":
            changes = {"moderator_role_ids": parse_role_refs(value)}
        elif verb == "moderator-users":
            changes = {"moderator_user_ids": parse_user_refs(value)}
        else:
            changes = {
                "log_channel_id": None if clearing else parse_channel(value, ctx.platform)[0]
            }
        community = await self._communities.update_settings(ctx, verb, **changes)
        return Card(
            title="Settings saved", tone=CardTone.SUCCESS, fields=settings_fields(community)
        )
