"""Slack for many workspaces, end to end on SQLite and on PostgreSQL: the real Bolt AsyncApp
on Haven's one HTTP server, Bolt's OAuth flow against the emulator's oauth.v2.access,
slack-sdk's SQLAlchemy stores on the migrated schema, real signed requests.

Two workspaces install Haven; each is its own community with its own library and its own bot
token (for /support-admin look-ups and scheduled posts); one uninstalls and is paused while
the other still answers; retried uninstall events are handled exactly once, and the retry
of a lost first delivery still pauses. Refused installs get a page that says what to do."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.adapters.slack.app import run_slack
from bot.adapters.slack.oauth import NOT_INSTALLED
from bot.app import open_services, slack_install_stores
from bot.core.models import CommunityStatus
from bot.services import Services
from bot.settings import Secret, Settings
from bot.storage.database import SqlDatabase
from bot.web import HavenWeb
from tests.adapters.slack.conftest import SIGNING_SECRET, Reply, SignedSender, texts_of
from tests.conftest import FixedClock, new_postgres_database, stored_bytes
from tests.fakes.fake_slack import FakeSlack

TEAM_A, TEAM_B = "TALPHA", "TBRAVO"
ADMIN_A, ADMIN_B = "UADMINA", "UADMINB"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def database_url(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'haven.db'}"
        return
    async with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@dataclass
class Hosted:
    """A Haven installed through OAuth, served on 127.0.0.1, and a browser for it."""

    base: str
    fake: FakeSlack
    services: Services
    session: aiohttp.ClientSession
    slack: SignedSender

    async def start_install(self) -> tuple[str, str]:
        """GET /slack/install: (the page, the state its cookie holds)."""
        async with self.session.get(f"{self.base}/slack/install") as response:
            assert response.status == 200
            page = await response.text()
            cookie = SimpleCookie(response.headers["Set-Cookie"])
        return page, cookie[STATE_COOKIE].value

    async def redirect(self, query: str, cookie_state: str | None) -> Reply:
        headers = {"Cookie": f"{STATE_COOKIE}={cookie_state}"} if cookie_state else {}
        url = f"{self.base}/slack/oauth_redirect?{query}"
        async with self.session.get(url, headers=headers) as response:
            return Reply(response.status, await response.text(), dict(response.headers))

    async def install(self, team_id: str, name: str) -> Reply:
        _, state = await self.start_install()
        code = self.fake.issue_code(team_id, name)
        return await self.redirect(f"code={code}&state={state}", state)

    async def support(self, team_id: str, text: str = "") -> Reply:
        return await self.slack.command("/support", text, team_id=team_id, user_id="UASKER")

    async def admin(self, team_id: str, user_id: str, text: str) -> Reply:
        return await self.slack.command(
            "/support-admin", text, team_id=team_id, user_id=user_id, channel_id=f"C{team_id}"
        )

    async def status(self, team_id: str) -> CommunityStatus | None:
        community = await self.services.communities.get(f"slack:{team_id}")
        return community.status if community else None

    async def uninstalled(self, team_id: str, event_id: str, retry_num: int = 0) -> int:
        return await self.fake.deliver_event(
            self.slack.url,
            SIGNING_SECRET,
            {"type": "app_uninstalled"},
            team_id=team_id,
            event_id=event_id,
            retry_num=retry_num,
        )


@pytest.fixture
async def hosted(database_url: str, tmp_path: Path) -> AsyncIterator[Hosted]:
    async with FakeSlack() as fake:
        for team, admin in ((TEAM_A, ADMIN_A), (TEAM_B, ADMIN_B)):
            fake.add_user(admin, is_admin=True, name=f"Admin {team}", team_id=team)
            fake.add_channel(f"C{team}", "general", team_id=team)
        settings = Settings(
            database_path=tmp_path / "haven.db",
            database_url=database_url,
            slack_client_id=fake.client_id,
            slack_client_secret=Secret(fake.client_secret),
            slack_signing_secret=Secret(SIGNING_SECRET),
            slack_api_url=fake.api_url,
            slack_mode="http",
            http_port=0,
        )
        async with (
            open_services(settings, clock=FixedClock()) as services,
            slack_install_stores(settings) as stores,
            aiohttp.ClientSession() as session,
        ):
            server = HavenWeb(services.health, None, port=0, slack_events=True, slack_oauth=True)
            await server.start()
            task = asyncio.create_task(run_slack(services, shared=server, stores=stores))
            try:
                events = SignedSender(f"{server.url}/slack/events", SIGNING_SECRET, fake, session)
                hosted = Hosted(server.url, fake, services, session, events)
                for _ in range(100):  # until the adapter has attached its handlers
                    if task.done():
                        task.result()  # the adapter did not start: say why
                    async with session.get(f"{server.url}/slack/install") as probe:
                        if probe.status != 503:
                            break
                    await asyncio.sleep(0.01)
                yield hosted
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await server.stop()


async def _shows(hosted: Hosted, team_id: str, words: str, tries: int = 30) -> bool:
    """Whether /support family in the workspace shows `words` within a round of rotation."""
    for _ in range(tries):
        answer = (await hosted.support(team_id, "family GB")).json
        if words in texts_of(answer):
            return True
    return False


async def test_two_workspaces_install_each_its_own_community(
    hosted: Hosted,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    page, state = await hosted.start_install()
    [href] = re.findall(r'<a href="([^"]+)"', page)
    link = parse_qs(urlsplit(html.unescape(href)).query)
    assert link["state"] == [state] and link["client_id"] == [hosted.fake.client_id]
    assert link["scope"] == [
        "commands,chat:write,im:write,users:read,usergroups:read,"
        "channels:read,groups:read,files:write"
    ]

    for team, name in ((TEAM_A, "Alpha"), (TEAM_B, "Bravo")):
        done = await hosted.install(team, name)
        assert done.status == 200, done.text
        assert "Haven is installed" in done.text and name in done.text
        # Seeded like a new Discord server: the default pack answers at once.
        assert await hosted.status(team) is CommunityStatus.ACTIVE

    for team in (TEAM_A, TEAM_B):
        answer = await hosted.support(team, "coming-out GB")
        assert answer.status == 200
        assert answer.json["response_type"] == "ephemeral"
        assert answer.json["blocks"][0]["text"]["text"] == "Coming out"

    # A moderator of Alpha adds a message; Alpha's library has it, Bravo's does not.
    added = await hosted.admin(
        TEAM_A, ADMIN_A, "message add topics:family text:Alpha's own words for you"
    )
    assert "Added" in added.json["text"] or "added" in added.json["text"], added.text
    assert await _shows(hosted, TEAM_A, "Alpha's own words for you")
    assert not await _shows(hosted, TEAM_B, "Alpha's own words for you")

    # Alpha's look-ups (users.info for the moderator) went out with Alpha's own token; each
    # person's language was asked with their own workspace's token.
    calls = hosted.fake.calls_to("users.info")
    lookups = [c for c in calls if "include_locale" not in c.args]
    assert lookups and {hosted.fake.team_of_token(c.token) for c in lookups} == {TEAM_A}
    for team in (TEAM_A, TEAM_B):
        asked = [c for c in calls if "include_locale" in c.args and c.args["user"] == "UASKER"]
        assert team in {hosted.fake.team_of_token(c.token) for c in asked}

    # The person who asked is in no table of either engine (installations included), nor
    # in any log line.
    await hosted.services.support.flush()
    database = hosted.services.db
    assert isinstance(database, SqlDatabase)
    stored = await stored_bytes(database, request, tmp_path)
    assert b"UASKER" not in stored
    assert "UASKER" not in caplog.text
    # Nor is whoever installed Haven: the workspace and its bot token are all Haven keeps.
    for team in (TEAM_A, TEAM_B):
        assert f"U{team}INSTALLER".encode() not in stored


async def test_scheduled_posts_go_out_with_each_workspaces_token(hosted: Hosted) -> None:
    for team, name in ((TEAM_A, "Alpha"), (TEAM_B, "Bravo")):
        assert (await hosted.install(team, name)).status == 200
    clock = hosted.services.clock
    assert isinstance(clock, FixedClock)
    due = (clock.current + timedelta(minutes=1)).strftime("%H:%M")
    for team, admin in ((TEAM_A, ADMIN_A), (TEAM_B, ADMIN_B)):
        added = await hosted.admin(
            team,
            admin,
            f'schedule add channel:<#C{team}|general> when:"daily {due}" topic:family timezone:UTC',
        )
        assert "\nChannel: #general\n" in added.json["text"], added.text
    clock.current += timedelta(minutes=1, seconds=1)
    scheduler = asyncio.create_task(hosted.services.scheduler.run())
    try:
        hosted.services.scheduler.wake()
        posts = await hosted.fake.wait_for_calls("chat.postMessage", count=2, within=10)
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)
    by_team = {hosted.fake.team_of_token(p.token): p.args["channel"] for p in posts}
    assert by_team == {TEAM_A: f"C{TEAM_A}", TEAM_B: f"C{TEAM_B}"}


async def test_an_uninstall_pauses_that_workspace_only_once_per_event(hosted: Hosted) -> None:
    for team, name in ((TEAM_A, "Alpha"), (TEAM_B, "Bravo")):
        assert (await hosted.install(team, name)).status == 200
    hosted.fake.uninstall(TEAM_B)
    assert await hosted.uninstalled(TEAM_B, "EvB1") == 200
    assert await hosted.status(TEAM_B) is CommunityStatus.REMOVED
    assert await hosted.status(TEAM_A) is CommunityStatus.ACTIVE
    # Bolt's revocation handler deleted Bravo's installation: its requests are refused.
    url = hosted.fake.new_response_url()
    refused = await hosted.slack.command("/support", "", team_id=TEAM_B, response_url=url)
    assert refused.status == 200 and refused.text == ""
    [told] = hosted.fake.posts_to(url)
    assert told["text"] == NOT_INSTALLED
    assert (await hosted.support(TEAM_A, "coming-out GB")).json["response_type"] == "ephemeral"

    # Bravo reinstalls: the same community comes back.
    assert (await hosted.install(TEAM_B, "Bravo")).status == 200
    assert await hosted.status(TEAM_B) is CommunityStatus.ACTIVE
    # A late retry of the handled uninstall is acknowledged and changes nothing.
    assert await hosted.uninstalled(TEAM_B, "EvB1", retry_num=1) == 200
    assert await hosted.status(TEAM_B) is CommunityStatus.ACTIVE
    assert (await hosted.support(TEAM_B, "coming-out GB")).json["response_type"] == "ephemeral"

    # Alpha's first uninstall delivery was lost; Slack's retry still pauses it.
    hosted.fake.uninstall(TEAM_A)
    assert await hosted.uninstalled(TEAM_A, "EvA1", retry_num=1) == 200
    assert await hosted.status(TEAM_A) is CommunityStatus.REMOVED
    assert await hosted.status(TEAM_B) is CommunityStatus.ACTIVE


@pytest.mark.parametrize(
    ("query", "cookie", "status", "says"),
    [
        ("error=access_denied&state={state}", True, 200, "cancelled in Slack"),
        ("code={code}&state=not-a-state", False, 400, "different browser"),
        ("code={code}&state={state}", True, 401, "expired or was already used"),
        ("state={state}", True, 401, "no authorization code"),
        ("code=forged&state={state}", True, 401, "did not accept"),
    ],
)
async def test_a_refused_install_gets_a_page_saying_what_to_do(
    hosted: Hosted, query: str, cookie: bool, status: int, says: str
) -> None:
    _, state = await hosted.start_install()
    code = hosted.fake.issue_code(TEAM_A, "Alpha")
    if "already used" in says:
        assert (await hosted.redirect(f"code={code}&state={state}", state)).status == 200
    reply = await hosted.redirect(query.format(state=state, code=code), state if cookie else None)
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "Haven was not installed" in reply.text and says in reply.text
    assert 'href="/slack/install"' in reply.text
    assert "Traceback" not in reply.text


async def test_a_revoked_bot_token_pauses_and_forgets_that_workspaces_bot(
    hosted: Hosted,
) -> None:
    for team, name in ((TEAM_A, "Alpha"), (TEAM_B, "Bravo")):
        assert (await hosted.install(team, name)).status == 200

    async def revoked(tokens: dict[str, list[str]], event_id: str) -> int:
        return await hosted.fake.deliver_event(
            hosted.slack.url,
            SIGNING_SECRET,
            {"type": "tokens_revoked", "tokens": tokens},
            team_id=TEAM_A,
            event_id=event_id,
        )

    # Only a person's token: Haven holds none, nothing changes.
    assert await revoked({"oauth": ["USOMEONE"]}, "EvR1") == 200
    assert await hosted.status(TEAM_A) is CommunityStatus.ACTIVE
    hosted.fake.uninstall(TEAM_A)
    assert await revoked({"bot": [f"U{TEAM_A}BOT"]}, "EvR2") == 200
    assert await hosted.status(TEAM_A) is CommunityStatus.REMOVED
    assert await hosted.status(TEAM_B) is CommunityStatus.ACTIVE
    rows = await hosted.services.db.fetch_all(  # type: ignore[attr-defined]
        "SELECT team_id FROM slack_bots ORDER BY team_id"
    )
    assert [r[0] for r in rows] == [TEAM_B]
