"""Many workspaces at the edges: the emulator keeps teams apart as Slack does (each token is
its team's; an install code works once), and Haven's clients use the right token or say
plainly that a workspace has none (a scheduled post then pauses with that reason)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.publisher import SlackPublisher, make_publisher_client
from bot.adapters.slack.workspaces import InstalledWorkspaces, WorkspaceNotInstalled
from bot.core.cards import Card
from bot.core.scheduling.publishing import PermanentPublishError
from tests.fakes.fake_slack import FakeSlack


async def _token(fake: FakeSlack, team: str) -> str:
    client = AsyncWebClient(base_url=fake.api_url)
    answer = await client.oauth_v2_access(
        client_id=fake.client_id, client_secret=fake.client_secret, code=fake.issue_code(team)
    )
    return str(answer["access_token"])


async def test_each_token_is_its_teams_and_may_not_act_in_another(fake: FakeSlack) -> None:
    token_a, token_b = await _token(fake, "TA"), await _token(fake, "TB")
    fake.add_channel("CA", "alpha", team_id="TA")
    fake.add_user("UB", team_id="TB")
    a = AsyncWebClient(token=token_a, base_url=fake.api_url)
    b = AsyncWebClient(token=token_b, base_url=fake.api_url)
    assert (await a.auth_test())["team_id"] == "TA"
    assert (await b.auth_test())["user_id"] == "UTBBOT"
    assert (await a.chat_postMessage(channel="CA", text="hi"))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await b.chat_postMessage(channel="CA", text="hi")
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as refused:
        await a.users_info(user="UB")
    assert refused.value.response["error"] == "user_not_found"
    fake.uninstall("TA")
    with pytest.raises(SlackApiError) as refused:
        await a.auth_test()
    assert refused.value.response["error"] == "token_revoked"


async def test_an_install_code_works_once_and_only_for_this_app(fake: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake.api_url)
    code = fake.issue_code("TA")
    with pytest.raises(SlackApiError) as refused:
        await client.oauth_v2_access(client_id=fake.client_id, client_secret="wrong", code=code)
    assert refused.value.response["error"] == "invalid_client_id"
    ok = await client.oauth_v2_access(
        client_id=fake.client_id, client_secret=fake.client_secret, code=code
    )
    assert ok["team"]["id"] == "TA" and ok["token_type"] == "bot"
    with pytest.raises(SlackApiError) as refused:
        await client.oauth_v2_access(
            client_id=fake.client_id, client_secret=fake.client_secret, code=code
        )
    assert refused.value.response["error"] == "invalid_code"


class _Store(AsyncInstallationStore):
    """An installation store holding one bot per team (the SQL one is tested in storage)."""

    def __init__(self, bots: dict[str, str]) -> None:
        self.bots = bots

    async def async_find_bot(  # type: ignore[override]
        self, *, enterprise_id: str | None, team_id: str | None, **_: object
    ) -> Bot | None:
        token = self.bots.get(team_id or "")
        if token is None:
            return None
        return Bot(
            app_id="A",
            enterprise_id=None,
            team_id=team_id,
            bot_token=token,
            bot_id="B",
            bot_user_id="U",
            bot_scopes="chat:write",
            installed_at=0.0,
        )


async def test_the_publisher_posts_with_the_workspaces_token_or_pauses(fake: FakeSlack) -> None:
    token_a = await _token(fake, "TA")
    fake.add_channel("CA", "alpha", team_id="TA")
    store = _Store({"TA": token_a})
    clients = InstalledWorkspaces(store, lambda token: make_publisher_client(token, fake.api_url))
    publisher = SlackPublisher(clients, min_interval=0)
    card = Card(title="Support resources", body="You are not alone.")
    await publisher.publish("CA", card, "k1", community_id="slack:TA")
    [post] = fake.calls_to("chat.postMessage")
    assert post.token == token_a
    with pytest.raises(PermanentPublishError) as paused:
        await publisher.publish("CB", card, "k2", community_id="slack:TB")
    assert "no longer installed in this Slack workspace" in paused.value.reason
    with pytest.raises(WorkspaceNotInstalled):
        await clients.for_team("")
