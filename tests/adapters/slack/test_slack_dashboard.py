"""`/support-admin dashboard` through the real Bolt app over signed HTTP against the emulator,
and the dashboard's check of a moderator through Slack itself (users.info, the moderator user
groups), asked fresh: an admin demoted or a helper taken out of the group is refused at once,
whatever the 60-second cache of the chat commands holds."""

from __future__ import annotations

import re

import pytest

from bot.adapters.slack.render import iter_texts
from bot.core.errors import PermissionDenied
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, MEMBER, SignedSender, community_id
from tests.fakes.fake_slack import FakeSlack

LINK = re.compile(r"https://haven\.example\.org/dashboard/login\?token=([\w-]+)")
HELPER = "U0HELPER"


async def link(slack: SignedSender, user: str = ADMIN) -> str | None:
    reply = await slack.command("/support-admin", "dashboard", user_id=user)
    assert reply.status == 200
    assert reply.json.get("response_type", "ephemeral") == "ephemeral"
    text = "\n".join(t for _, t in iter_texts(reply.json.get("blocks") or []))
    found = LINK.search(text)
    return found[1] if found else None


async def test_an_admin_gets_a_link_that_stops_working_when_demoted(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    services.dashboard.serve_locally_at("https://haven.example.org")
    assert await link(slack, MEMBER) is None
    first, second = await link(slack), await link(slack)
    assert first and second
    signed_in = await services.dashboard.sign_in(first)
    assert signed_in.ctx.actor.id == ADMIN and signed_in.ctx.community_id == community_id()
    fake.users[ADMIN]["is_admin"] = False
    with pytest.raises(PermissionDenied, match="Only moderators"):
        await services.dashboard.sign_in(second)


async def test_a_helper_taken_out_of_the_moderator_group_is_refused(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    services.dashboard.serve_locally_at("https://haven.example.org")
    fake.add_user(HELPER, name="Hel Per")
    fake.add_usergroup("S0MODS", [HELPER], handle="mods", name="Moderators")
    reply = await slack.command("/support-admin", "settings moderator-roles @mods", user_id=ADMIN)
    assert reply.status == 200
    first, second = await link(slack, HELPER), await link(slack, HELPER)
    assert first and second
    assert (await services.dashboard.sign_in(first)).ctx.actor.role_ids == ("S0MODS",)
    fake.usergroups["S0MODS"] = []
    with pytest.raises(PermissionDenied, match="Only moderators"):
        await services.dashboard.sign_in(second)
