"""Who may moderate: the one moderator gate, decided in the core from facts the adapter supplies.

Every moderator entry (a typed command, a form, a button, autocomplete of item keys) and every
service that writes goes through `moderator_community`, so the rule and its wording are the same
on Discord, Slack and the console. A refusal of someone who may not moderate is audited
(`RefusalAudit`): who tried which command, and when, never what they typed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.errors import PermissionDenied
from bot.core.models import DIRECT_MESSAGE_COMMUNITY, Actor, Community, Platform, RequestContext
from bot.core.ports import Clock, CommunityLookup, Refusal, RefusalLog

# One audit entry per person, command and community per window: someone retrying (or a
# forged client looping) leaves one line a minute, not one per call, and only the first of
# a burst waits for the database.
REFUSAL_WINDOW = timedelta(minutes=1)
# The newest refusal entries kept per community. A flood by many accounts then replaces old
# refusal entries instead of growing the audit log; moderators' own entries are never touched.
REFUSALS_KEPT = 1000


class NotAModerator(PermissionDenied):
    """The refusal of someone in a community they do not moderate (the one that is audited;
    "not in a server" and "not set up here" have no community to audit in)."""


def is_moderator(community: Community, actor: Actor) -> bool:
    """Admin permission on the platform (Discord Manage Server, Slack admin/owner, the console
    operator), or one of the community's moderator roles/user groups, or a listed moderator."""
    if actor.has_admin_permission:
        return True
    if actor.id and actor.id in community.moderator_user_ids:
        return True
    return any(role in community.moderator_role_ids for role in actor.role_ids)


def require_moderator(community: Community, actor: Actor) -> None:
    if is_moderator(community, actor):
        return
    if community.platform is Platform.SLACK:
        who = "workspace admins, owners and the moderators this workspace configured"
    else:
        who = "people with Manage Server or one of this server's moderator roles"
    raise NotAModerator(
        "Only moderators can change Haven's library, schedules and settings.",
        f"This is open to {who}. Nothing was changed. Looking for support? Type /support: "
        "only you see the answer.",
    )


async def moderator_community(communities: CommunityLookup, ctx: RequestContext) -> Community:
    """The caller's community, once the caller is known to moderate it; otherwise the one
    refusal for "not here" or "only moderators"."""
    # A Discord DM belongs to no server. A Slack DM with Haven still belongs to the workspace,
    # and is the most private place for a moderator to work: allowed.
    if ctx.community_id == DIRECT_MESSAGE_COMMUNITY:
        raise PermissionDenied(
            "Moderator commands work inside a server, not in direct messages.",
            "Run /support-admin in a channel of the server you moderate.",
        )
    community = await communities.get(ctx.community_id)
    if community is None:
        raise PermissionDenied(
            "Haven is not set up here yet.",
            "Moderator commands work inside a server or workspace where Haven is installed.",
        )
    require_moderator(community, ctx.actor)
    return community


class RefusalAudit:
    """Writes an audit entry when the gate refuses a would-be moderator: the accountability
    rule of moderators applies to those who try to act as one.

    Remembers, in memory, when each (community, person, command) was last recorded, to keep
    one entry per REFUSAL_WINDOW; entries older than the window are forgotten as it fills.
    """

    PRUNE_AT = 1024

    def __init__(self, log: RefusalLog, clock: Clock) -> None:
        self._log = log
        self._clock = clock
        self._recorded: dict[tuple[str, str, str], datetime] = {}

    async def record(self, ctx: RequestContext, command: str) -> bool:
        """Audit that `ctx.actor` was refused `command` (a declared name, never typed text).
        False when the same refusal was recorded within the window (nothing written)."""
        now = self._clock.now()
        key = (ctx.community_id, ctx.actor.id, command)
        last = self._recorded.get(key)
        if last is not None and now - last < REFUSAL_WINDOW:
            return False
        # Marked before the write: concurrent refusals in a flood do not all reach storage.
        self._recorded[key] = now
        if len(self._recorded) > self.PRUNE_AT:
            self._recorded = {
                k: at for k, at in self._recorded.items() if now - at < REFUSAL_WINDOW
            }
        # The id is what accountability needs; a display name would only add personal data.
        refusal = Refusal(ctx.actor.id, "", command, now)
        await self._log.record_refusal(ctx.community_id, refusal, REFUSALS_KEPT)
        return True
