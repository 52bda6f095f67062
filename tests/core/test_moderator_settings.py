"""`settings moderator-roles` / `moderator-users`: what the core accepts, refuses and says, for
every platform's directory, and the moderator gate from both sides on the console.

The Discord and Slack directories are exercised against the emulators in tests/adapters; here a
directory that answers from a table stands in for them, so each rule of the core is seen alone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.adapters.console import run_console
from bot.app import open_services
from bot.core.cards import Card, CardTone
from bot.core.commands.content import message_commands
from bot.core.commands.router import CommandRouter
from bot.core.commands.settings import SettingsCommands
from bot.core.content.curation import CurationService
from bot.core.mentions import split_refs
from bot.core.models import LOCAL_COMMUNITY_ID, Actor, Platform, community_id_for
from bot.core.ports import DirectoryUnavailable, Found, MemberDirectory, MemberRef
from bot.settings import Settings
from bot.storage.repositories import SqlCommunityRepository
from tests.core.conftest import DISCORD_GUILD, MODERATOR, Stack

SLACK_TEAM = community_id_for(Platform.SLACK, "T0TEST")
HELPERS = "1300000000000000042"
MEMBERS = "1300000000000000043"
ALEX = "1300000000000000099"


class TableDirectory:
    """A directory answering from tables, as an adapter would from its platform."""

    verifies = True
    finds_users_by_name = False

    def __init__(
        self,
        platform: Platform,
        roles: dict[str, str],
        users: dict[str, str] | None = None,
        *,
        down: bool = False,
    ) -> None:
        self.platform = platform
        self._roles = roles
        self._users = users or {}
        self.down = down
        self.asked: list[MemberRef] = []

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return self._look_up(self._roles, refs)

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return self._look_up(self._users, refs)

    def _look_up(self, table: dict[str, str], refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        if self.down:
            raise DirectoryUnavailable("test outage")
        self.asked.extend(refs)
        found: list[tuple[Found, ...]] = []
        for ref in refs:
            if ref.id and ref.id in table:
                found.append((Found(ref.id, table[ref.id]),))
            else:
                wanted = (ref.name or "").casefold()
                found.append(tuple(Found(i, n) for i, n in table.items() if n.casefold() == wanted))
        return found


def discord_directory(**kwargs: bool) -> TableDirectory:
    return TableDirectory(
        Platform.DISCORD, {HELPERS: "Helpers", MEMBERS: "Members"}, {ALEX: "Alex"}, **kwargs
    )


def router_with(stack: Stack, *directories: MemberDirectory) -> CommandRouter:
    by_platform: dict[Platform, MemberDirectory] = {d.platform: d for d in directories}
    curation: CurationService = stack.curation
    return CommandRouter(
        stack.support,
        stack.communities,
        [message_commands(curation).table, SettingsCommands(stack.communities, by_platform).table],
        clock=stack.clock,
        refusals=SqlCommunityRepository(stack.db),
    )


async def setting(
    router: CommandRouter, stack: Stack, community_id: str, verb: str, value: str
) -> Card:
    option = "roles" if verb == "moderator-roles" else "users"
    return await router.admin(stack.ctx(MODERATOR, community_id), "settings", verb, {option: value})


async def stored(stack: Stack, community_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    community = await stack.communities.get(community_id)
    assert community is not None
    return community.moderator_role_ids, community.moderator_user_ids


# ---- the console ---------------------------------------------------------------------------


async def test_console_takes_a_role_name_as_typed_and_says_so(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(), "/support-admin settings moderator-roles roles:@Helpers"
    )
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert dict(card.fields)["Moderator roles"] == "helpers"
    assert "no member list" in card.footer and "helpers" in card.footer
    assert await stored(stack, LOCAL_COMMUNITY_ID) == (("helpers",), ())

    users = await stack.router.run_text(stack.ctx(), "/support-admin settings moderator-users alex")
    assert users.tone is CardTone.SUCCESS, users.plain_text()
    assert await stored(stack, LOCAL_COMMUNITY_ID) == (("helpers",), ("alex",))

    several = await stack.router.run_text(
        stack.ctx(), '/support-admin settings moderator-roles roles:"@Helpers, Mods"'
    )
    assert dict(several.fields)["Moderator roles"] == "helpers, mods"


async def test_console_refuses_a_platform_mention(stack: Stack) -> None:
    card = await stack.router.run_text(
        stack.ctx(), "/support-admin settings moderator-roles roles:<@&555>"
    )
    assert card.tone is CardTone.ERROR
    # (As in every error, the mention is made inert.)
    assert card.body.startswith("roles: '<") and "555>' is not a name" in card.body
    assert await stored(stack, LOCAL_COMMUNITY_ID) == ((), ())


async def test_console_gate_from_both_sides(stack: Stack) -> None:
    await stack.router.run_text(stack.ctx(), "/support-admin settings moderator-roles helpers")
    await stack.router.run_text(stack.ctx(), "/support-admin settings moderator-users alex")

    outsider = Actor(id="sam", display_name="Sam", role_ids=("members",))
    refused = await stack.router.admin(stack.ctx(outsider), "message", "list", {})
    assert refused.title == "Not permitted"
    assert refused.body.startswith("Only moderators")

    helper = Actor(id="kim", display_name="Kim", role_ids=("members", "helpers"))
    assert (await stack.router.admin(stack.ctx(helper), "message", "list", {})).tone is (
        CardTone.INFO
    )
    listed = Actor(id="alex", display_name="Alex", role_ids=("members",))
    assert (await stack.router.admin(stack.ctx(listed), "message", "list", {})).tone is (
        CardTone.INFO
    )


async def test_the_console_session_registers_its_directory(tmp_path: Path) -> None:
    """Through `run_console` itself, as `haven console` runs it."""
    written: list[str] = []
    script = (
        "/support-admin settings moderator-roles roles:@Helpers\n/support-admin settings show\n"
    )
    async with open_services(Settings(database_path=tmp_path / "haven.db")) as services:
        await run_console(
            services, stdin=io.StringIO(script), write=written.append, interactive=False
        )
        community = await services.communities.get(LOCAL_COMMUNITY_ID)
    saved, shown = written
    assert saved.startswith("✔ Settings saved"), saved
    assert "Moderator roles: helpers" in shown
    assert community is not None and community.moderator_role_ids == ("helpers",)


# ---- the rules, with a platform's directory ------------------------------------------------


@pytest.mark.parametrize("typed", ["@Helpers", "@helpers", "Helpers", HELPERS, f"<@&{HELPERS}>"])
async def test_a_discord_role_by_name_id_or_mention(stack: Stack, typed: str) -> None:
    router = router_with(stack, discord_directory())
    card = await setting(router, stack, DISCORD_GUILD, "moderator-roles", typed)
    assert card.tone is CardTone.SUCCESS, card.plain_text()
    assert dict(card.fields)["Moderator roles"] == f"@Helpers ({HELPERS})"
    assert await stored(stack, DISCORD_GUILD) == ((HELPERS,), ())
    # Discord hides /support-admin from members without Manage Server until it is allowed.
    assert "Server Settings → Integrations → Haven" in card.footer
    assert "Manage Server" in card.footer


async def test_an_unknown_role_is_refused_naming_what_was_typed(stack: Stack) -> None:
    router = router_with(stack, discord_directory())
    card = await setting(router, stack, DISCORD_GUILD, "moderator-roles", "@Helpers, @Nobody")
    assert card.tone is CardTone.ERROR
    assert card.body == "roles: '@Nobody' is not a role in this server."
    assert "give its name, or paste its id" in card.footer
    assert await stored(stack, DISCORD_GUILD) == ((), ()), "nothing is saved when one is wrong"


async def test_a_slack_group_that_does_not_exist_is_refused_in_slack_words(stack: Stack) -> None:
    slack = TableDirectory(Platform.SLACK, {"S0MODS": "@mods"})
    router = router_with(stack, slack)
    card = await setting(router, stack, SLACK_TEAM, "moderator-roles", "@nobody")
    assert card.body == "roles: '@nobody' is not a user group in this workspace."
    ok = await setting(router, stack, SLACK_TEAM, "moderator-roles", "<!subteam^S0MODS|@mods>")
    assert dict(ok.fields)["Moderator user groups"] == "@mods (S0MODS)"
    assert ok.footer == "", "Slack shows slash commands to everyone: nothing more to do"


async def test_a_shared_role_name_asks_for_the_id(stack: Stack) -> None:
    twins = TableDirectory(
        Platform.DISCORD, {"1300000000000000001": "Mods", "1300000000000000002": "mods"}
    )
    card = await setting(
        router_with(stack, twins), stack, DISCORD_GUILD, "moderator-roles", "@Mods"
    )
    assert card.tone is CardTone.ERROR
    assert "is the name of 2 roles" in card.body and "1300000000000000002" in card.body


@pytest.mark.parametrize("typed", ["@everyone", "@here", "<!channel>"])
async def test_everybody_is_not_a_moderator_role(stack: Stack, typed: str) -> None:
    directory = discord_directory()
    card = await setting(
        router_with(stack, directory), stack, DISCORD_GUILD, "moderator-roles", typed
    )
    assert card.tone is CardTone.ERROR
    assert "means everybody here" in card.body
    assert directory.asked == []


async def test_a_person_is_found_by_mention_or_id_never_by_name(stack: Stack) -> None:
    directory = discord_directory()
    router = router_with(stack, directory)
    by_name = await setting(router, stack, DISCORD_GUILD, "moderator-users", "alex")
    assert by_name.tone is CardTone.ERROR
    assert "users: 'alex' is a name: mention them (@name) or paste their id" in by_name.body
    assert directory.asked == [], "a name is not sent to a directory that cannot search names"

    stranger = await setting(router, stack, DISCORD_GUILD, "moderator-users", "1300000000000000777")
    assert stranger.body == "users: '1300000000000000777' is not a member of this server."

    mentioned = await setting(router, stack, DISCORD_GUILD, "moderator-users", f"<@!{ALEX}>")
    assert mentioned.tone is CardTone.SUCCESS, mentioned.plain_text()
    assert dict(mentioned.fields)["Moderator users"] == f"Alex ({ALEX})"
    assert await stored(stack, DISCORD_GUILD) == ((), (ALEX,))


async def test_when_the_platform_cannot_be_asked_nothing_is_saved(stack: Stack) -> None:
    await setting(
        router_with(stack, discord_directory()), stack, DISCORD_GUILD, "moderator-roles", HELPERS
    )
    for router in (router_with(stack, discord_directory(down=True)), router_with(stack)):
        card = await setting(router, stack, DISCORD_GUILD, "moderator-roles", "@Members")
        assert card.tone is CardTone.ERROR
        assert card.body == "Haven could not check roles with Discord just now."
        assert "Nothing was changed" in card.footer
    assert await stored(stack, DISCORD_GUILD) == ((HELPERS,), ())
    # `none` clears without asking anyone.
    cleared = await setting(router_with(stack), stack, DISCORD_GUILD, "moderator-roles", "none")
    assert cleared.tone is CardTone.SUCCESS
    assert await stored(stack, DISCORD_GUILD) == ((), ())


async def test_show_names_what_the_directory_can_name(stack: Stack) -> None:
    router = router_with(stack, discord_directory())
    await setting(router, stack, DISCORD_GUILD, "moderator-roles", f"{HELPERS}, {MEMBERS}")
    shown = await router.admin(stack.ctx(MODERATOR, DISCORD_GUILD), "settings", "show", {})
    assert dict(shown.fields)["Moderator roles"] == f"@Helpers ({HELPERS}), @Members ({MEMBERS})"
    # Without a directory the ids are still shown.
    bare = await router_with(stack).admin(
        stack.ctx(MODERATOR, DISCORD_GUILD), "settings", "show", {}
    )
    assert dict(bare.fields)["Moderator roles"] == f"{HELPERS}, {MEMBERS}"


@pytest.mark.parametrize(
    ("typed", "platform", "parts"),
    [
        ("@Peer Helpers, @Mods", Platform.DISCORD, ["@Peer Helpers", "@Mods"]),
        ("@Peer Helpers @Mods", Platform.DISCORD, ["@Peer Helpers", "@Mods"]),
        (
            f"<@&{HELPERS}> {MEMBERS} Night Shift",
            Platform.DISCORD,
            [f"<@&{HELPERS}>", MEMBERS, "Night Shift"],
        ),
        ("<@U0A|a> U0B @sam", Platform.SLACK, ["<@U0A|a>", "U0B", "@sam"]),
        ("helpers mods", Platform.CONSOLE, ["helpers", "mods"]),
    ],
)
def test_several_roles_or_people_in_one_option(
    typed: str, platform: Platform, parts: list[str]
) -> None:
    assert split_refs(typed, platform) == parts
