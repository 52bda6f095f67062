"""Which Web API client speaks for a workspace: the one bot token (SLACK_BOT_TOKEN), or, when
Haven is installed in many workspaces, that workspace's own bot token from the installation
store. Every Web API call Haven makes on its own (scheduled posts, moderator look-ups, the
private fallback of a spent response_url) asks here; calls inside a Bolt listener use Bolt's
per-request client, which Bolt authorized the same way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

# Clients kept, one per token: each holds no connection of its own, so this bounds memory only.
CLIENTS_KEPT = 1000


class WorkspaceNotInstalled(Exception):
    """Haven has no bot token for this workspace (never installed, or uninstalled)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"Haven is not installed in the Slack workspace {team_id or '?'}")
        self.team_id = team_id


def team_of_community(community_id: str) -> str:
    """`slack:T123` -> `T123` ("" for anything else)."""
    platform, _, team = community_id.partition(":")
    return team if platform == "slack" else ""


class WorkspaceClients(Protocol):
    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client with this workspace's bot token; WorkspaceNotInstalled when none."""
        ...


class OneWorkspace:
    """SLACK_BOT_TOKEN: one client for every call, whatever the workspace."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def for_team(self, team_id: str) -> AsyncWebClient:
        return self._client


class InstalledWorkspaces:
    """Slack's OAuth installs: the newest bot of the workspace in the installation store,
    read on every call (a reinstall or an uninstall in another process counts at once)."""

    def __init__(
        self, store: AsyncInstallationStore, make_client: Callable[[str], AsyncWebClient]
    ) -> None:
        self._store = store
        self._make_client = make_client
        self._clients: OrderedDict[str, AsyncWebClient] = OrderedDict()

    async def for_team(self, team_id: str) -> AsyncWebClient:
        bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id or None)
        token = bot.bot_token if bot is not None else None
        if not team_id or not token:
            raise WorkspaceNotInstalled(team_id)
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = self._make_client(token)
            while len(self._clients) > CLIENTS_KEPT:
                self._clients.popitem(last=False)
        self._clients.move_to_end(token)
        return client
