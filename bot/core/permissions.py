"""Who may moderate: the one moderator gate, decided in the core from facts the adapter supplies.

Every moderator entry (a typed command, a form, a button, autocomplete of item keys) and every
service that writes goes through `moderator_community`, so the rule and its wording are the same
on Discord, Slack and the console.
"""

from __future__ import annotations

from bot.core.errors import PermissionDenied
from bot.core.models import DIRECT_MESSAGE_COMMUNITY, Actor, Community, Platform, RequestContext
from bot.core.ports import CommunityLookup


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
    raise PermissionDenied(
        "Only moderators can change Haven's library, schedules and settings.",
        f"This is open to {who}. Nothing was changed.",
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
