"""Who may moderate: decided here, in the core, from facts the adapter supplies."""

from __future__ import annotations

from bot.core.errors import PermissionDenied
from bot.core.models import Actor, Community, Platform


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
