"""Moderator user groups and people on Slack, through the real Bolt app over signed HTTP against
the emulator: what the settings accept and refuse, and the gate from both sides."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.slack.render import iter_texts
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, MEMBER, SignedSender, community_id
from tests.fakes.fake_slack import FakeSlack

HELPER = "U0HELPER"


@pytest.fixture(autouse=True)
def workspace(fake: FakeSlack) -> None:
    fake.add_user(HELPER, name="Hel Per")
    fake.add_usergroup("S0MODS", [HELPER], handle="mods", name="Moderators")
    # A user group the member belongs to that is no moderator group.
    fake.add_usergroup("S0FANS", [MEMBER, HELPER], handle="fans", name="Fans")


def texts(payload: dict[str, Any]) -> str:
    return "\n".join(text for _, text in iter_texts(payload.get("blocks") or []))


def title(payload: dict[str, Any]) -> str:
    return str(payload["blocks"][0]["text"]["text"])


async def stored(services: Services) -> tuple[tuple[str, ...], tuple[str, ...]]:
    community = await services.communities.get(community_id())
    assert community is not None
    return community.moderator_role_ids, community.moderator_user_ids


async def admin(slack: SignedSender, line: str, user: str = ADMIN) -> dict[str, Any]:
    reply = await slack.command("/support-admin", line, user_id=user)
    assert reply.status == 200
    return reply.json


@pytest.mark.parametrize(
    "typed", ["@mods", "mods", "Moderators", "S0MODS", "<!subteam^S0MODS|@mods>"]
)
async def test_a_user_group_by_handle_name_id_or_mention(
    slack: SignedSender, fake: FakeSlack, services: Services, typed: str
) -> None:
    answer = await admin(slack, f'settings moderator-roles roles:"{typed}"')
    assert title(answer).endswith("Settings saved"), texts(answer)
    assert "@mods (S0MODS)" in texts(answer)
    assert await stored(services) == (("S0MODS",), ())
    assert fake.calls_to("usergroups.list")


async def test_a_group_or_person_not_in_this_workspace_is_refused(
    slack: SignedSender, services: Services
) -> None:
    group = await admin(slack, "settings moderator-roles roles:@nobody")
    assert "roles: '@nobody' is not a user group in this workspace." in texts(group)
    ghost = await admin(slack, "settings moderator-users users:<@U0GHOST|ghost>")
    assert "is not a member of this workspace" in texts(ghost)
    by_name = await admin(slack, "settings moderator-users users:alex")
    assert "users: 'alex' is a name: mention them (@name) or paste their id" in texts(by_name)
    assert await stored(services) == ((), ())


async def test_people_by_mention_or_member_id(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    answer = await admin(slack, f"settings moderator-users users:<@{HELPER}|helper>,{MEMBER}")
    assert title(answer).endswith("Settings saved"), texts(answer)
    assert "Hel Per (U0HELPER), Mo Member (U0MEMBER)" in texts(answer)
    assert await stored(services) == ((), (HELPER, MEMBER))


async def test_when_slack_cannot_be_asked_nothing_is_saved(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    fake.fail("usergroups.list", "ratelimited", status=429, retry_after=30)
    answer = await admin(slack, "settings moderator-roles roles:@mods")
    assert "Haven could not check user groups with Slack just now." in texts(answer)
    assert await stored(services) == ((), ())


async def test_the_gate_from_both_sides(slack: SignedSender, services: Services) -> None:
    await admin(slack, "settings moderator-roles roles:@mods")
    # The member is in a user group (fans), just not a moderator group.
    refused = await admin(slack, "message list", user=MEMBER)
    assert "Not permitted" in refused["text"]
    assert "Only moderators" in texts(refused)
    assert title(await admin(slack, "message list", user=HELPER)).startswith("Messages (")

    await admin(slack, f"settings moderator-users users:<@{MEMBER}|mo>")
    assert title(await admin(slack, "message list", user=MEMBER)).startswith("Messages (")
