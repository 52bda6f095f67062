"""CommandRouter: one entry point for `/support` and `/support-admin` on every platform.

Adapters call `support`, `admin` or `run_text` and render the Card they get back. The router never
raises: a HavenError becomes a clear error card (with the valid choices when there are some), and
anything unexpected becomes an apology card while the details go to the log without personal data.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.core.cards import Card, CardTone, Choice
from bot.core.commands.grammar import parse_line
from bot.core.commands.settings import SETTING_OPTIONS
from bot.core.communities import DIRECT_MESSAGE_COMMUNITY, CommunityService
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import Conflict, HavenError, PermissionDenied, UnknownChoice
from bot.core.failures import log_failure
from bot.core.models import RequestContext
from bot.core.permissions import require_moderator
from bot.core.ports import CommandGroup
from bot.core.support import SupportService

log = logging.getLogger(__name__)

SUPPORT_HELP = (
    "/support [topic] [region] — a private message of support and resources for your topic "
    "and country. Only you see the answer.",
    "Examples: /support   /support coming-out   /support crisis GB   "
    "/support topic:harassment region:IE",
)
# The option a lone positional word stands for, per group (`message show <key>`).
_POSITIONAL = {"message": "key", "resource": "key", "schedule": "id"}


def error_card(error: HavenError) -> Card:
    if isinstance(error, PermissionDenied):
        title = "Not permitted"
    elif isinstance(error, Conflict):
        title = "Changed since you opened it"
    else:
        title = "That didn't work"
    choices: tuple[Choice, ...] = ()
    if isinstance(error, UnknownChoice):
        # The list is carried once, as choices (closest first), which every platform shows;
        # the hint only names the closest ("Did you mean coming-out?") and never repeats it.
        choices = tuple(
            Choice(label=error.label(value), value=value) for value in error.choices[:25]
        )
    return Card(
        title=title,
        body=make_mentions_inert(error.message),
        footer=make_mentions_inert(error.hint),
        tone=CardTone.ERROR,
        choices=choices,
    )


SOMETHING_WENT_WRONG = Card(
    title="Something went wrong on our side",
    body="Sorry, Haven could not finish that. Nothing was half-changed; please try again.",
    tone=CardTone.ERROR,
)


class CommandRouter:
    def __init__(
        self,
        support: SupportService,
        communities: CommunityService,
        groups: Sequence[CommandGroup],
    ) -> None:
        self._support = support
        self._communities = communities
        self._groups: dict[str, CommandGroup] = {group.name: group for group in groups}

    def add_group(self, group: CommandGroup) -> None:
        self._groups[group.name] = group

    @property
    def groups(self) -> Mapping[str, CommandGroup]:
        return self._groups

    async def support(
        self,
        ctx: RequestContext,
        topic: str | None = None,
        region: str | None = None,
        message_key: str | None = None,
    ) -> Card:
        try:
            await self._communities.ensure_for_context(ctx)
            return await self._support.reply(ctx, topic, region, message_key)
        except UnknownChoice as error:
            card = error_card(error)
            return replace(card, footer=card.footer or "Or just type /support for general support.")
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            # No request details in the log: they could say who asked for what.
            log_failure(log, "Answering /support (serving the built-in answer)", error)
            return await self._support.fallback_card(topic)

    async def admin(
        self, ctx: RequestContext, group: str, verb: str, options: Mapping[str, str]
    ) -> Card:
        try:
            return await self._admin(ctx, group.strip().lower(), verb.strip().lower(), options)
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            log_failure(log, f"/support-admin {group} {verb}", error)
            return SOMETHING_WENT_WRONG

    async def refusal(self, ctx: RequestContext, group: str, verb: str) -> Card | None:
        """The card `admin` would answer before running `group verb` (wrong place, unknown
        command, not a moderator), or None when the caller may go on. Adapters ask this before
        opening a form, so nobody types a long text only to be refused."""
        try:
            await self._authorise(ctx, group.strip().lower(), verb.strip().lower())
        except HavenError as error:
            return error_card(error)
        except Exception as error:
            log_failure(log, f"Checking /support-admin {group} {verb}", error)
            return SOMETHING_WENT_WRONG
        return None

    async def _admin(
        self, ctx: RequestContext, group_name: str, verb: str, options: Mapping[str, str]
    ) -> Card:
        group = await self._authorise(ctx, group_name, verb)
        if group is None:
            return self.help_card()
        return await group.handle(ctx, verb, options)

    async def _authorise(
        self, ctx: RequestContext, group_name: str, verb: str
    ) -> CommandGroup | None:
        """The group that runs `group_name verb` for this caller (None: the help), or raise.

        The one moderator rule for every platform and every entry (command, form, button).
        """
        # A Discord DM belongs to no server. A Slack DM with Haven still belongs to the
        # workspace, and is the most private place for a moderator to work: allowed.
        if ctx.community_id == DIRECT_MESSAGE_COMMUNITY:
            raise PermissionDenied(
                "Moderator commands work inside a server, not in direct messages.",
                "Run /support-admin in a channel of the server you moderate.",
            )
        if group_name in ("", "help"):
            return None
        group = self._groups.get(group_name)
        if group is None:
            raise UnknownChoice(
                "Command group",
                group_name,
                difflib.get_close_matches(group_name, list(self._groups), n=5, cutoff=0.0),
                hint="Type /support-admin help for every command.",
            )
        if verb not in group.verbs:
            raise UnknownChoice(
                f"{group_name} command",
                verb or "(none)",
                difflib.get_close_matches(verb, list(group.verbs), n=9, cutoff=0.0),
                hint="Usage:\n" + "\n".join(group.help_lines()),
            )
        await self._communities.ensure_for_context(ctx)
        # Checked on every call, whatever the platform's own command permissions say.
        community = await self._communities.get(ctx.community_id)
        if community is None:
            raise PermissionDenied("Haven is not set up here yet.")
        require_moderator(community, ctx.actor)
        return group

    async def run_text(self, ctx: RequestContext, line: str) -> Card:
        """Run one line of the text grammar (console, Slack, and button values)."""
        try:
            parsed = parse_line(line)
        except HavenError as error:
            return error_card(error)
        command = parsed.command.lstrip("/")
        if command in ("", "help"):
            return self.help_card(include_admin=not ctx.in_direct_message)
        if command == "support":
            words = list(parsed.words)
            if words[:1] == ["help"]:
                return Card(title="How /support works", lines=SUPPORT_HELP)
            unknown = [name for name in parsed.options if name not in ("topic", "region")]
            if unknown or len(words) > 2:
                return error_card(
                    HavenError(
                        "/support takes a topic and a region, nothing else.",
                        "Example: /support coming-out GB",
                    )
                )
            topic = parsed.options.get("topic") or (words[0] if words else None)
            region = parsed.options.get("region") or (words[1] if len(words) > 1 else None)
            return await self.support(ctx, topic, region)
        if command == "support-admin":
            words = list(parsed.words)
            group = words[0] if words else "help"
            verb = words[1] if len(words) > 1 else ""
            options = dict(parsed.options)
            extra = words[2:]
            if extra:
                positional = _POSITIONAL.get(group) or (
                    SETTING_OPTIONS.get(verb) if group == "settings" else None
                )
                if positional is None or len(extra) > 1 or positional in options:
                    return error_card(
                        HavenError(
                            f"I did not understand '{' '.join(extra)}'.",
                            "Write options as name:value, e.g. key:coming-out-own-pace.",
                        )
                    )
                options[positional] = extra[0]
            return await self.admin(ctx, group, verb, options)
        suggestions = difflib.get_close_matches(command, ["support", "support-admin", "help"], 2)
        return error_card(
            UnknownChoice(
                "Command",
                parsed.command,
                [f"/{s}" for s in suggestions] or ["/support", "/support-admin", "help"],
            )
        )

    def help_card(self, include_admin: bool = True) -> Card:
        lines = list(SUPPORT_HELP)
        if include_admin:
            lines.append("")
            lines.append("Moderators: /support-admin <group> <command> name:value ...")
            for group in self._groups.values():
                lines.extend(f"  /support-admin {line}" for line in group.help_lines())
            lines.append(
                'Values with spaces go in double quotes (when:"daily 09:00"); '
                "a final text: runs to the end of the line."
            )
        return Card(title="Haven help", lines=tuple(lines))
