"""Slack for many workspaces: Bolt's own OAuth flow (`/slack/install`, `/slack/oauth_redirect`)
over slack-sdk's installation and state stores, and the pages a person installing Haven sees.

- Each install is saved by Bolt in the installation store (the shared database), and then
  becomes its own community, seeded with the default pack exactly as a new Discord server is
  (`CommunityService.ensure`); a workspace that uninstalled and comes back within the grace
  gets its library and schedules back.
- Bolt authorizes every request from the store (the workspace's newest bot token). Its
  authorize calls auth.test per request unless told to cache; the cache is keyed by token, so
  a revoked token (its installation deleted) is never served from it.
- A refused install (denied, an expired or reused link, a link opened in another browser)
  gets a short page saying what happened and how to start again, never a traceback.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.core.failures import log_failure
from bot.core.models import Platform
from bot.services import Services

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of config/slack-manifest.yaml (a test keeps the two the same).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "files:write",
)

# What Bolt tells a person whose workspace has no installation (it was uninstalled).
NOT_INSTALLED = (
    "Haven is not installed in this workspace any more, so it cannot answer here. A workspace "
    "admin can add it again from Haven's install page."
)
START_AGAIN = f'<a href="{INSTALL_PATH}">Start the installation again</a>'
# What each refusal Bolt reports means for the person installing, and what to do.
_FAILURES: dict[str, str] = {
    "access_denied": (
        "The installation was cancelled in Slack, so Haven was not added. "
        f"{START_AGAIN} whenever you are ready."
    ),
    "invalid_browser": (
        "This install link was opened in a different browser (or cookies are blocked), so "
        f"Slack's answer could not be matched to it. {START_AGAIN} in this browser."
    ),
    "invalid_state": (
        "This install link has expired or was already used. Links are good for ten minutes "
        f"and once. {START_AGAIN}."
    ),
    "missing_code": f"Slack's answer had no authorization code. {START_AGAIN}.",
    "invalid_code": (
        f"Slack did not accept the authorization code (it may have expired). {START_AGAIN}."
    ),
    "storage_error": (
        "Haven could not save the installation just now. Nothing was added; "
        f"{START_AGAIN} in a minute."
    ),
}


@dataclass(frozen=True)
class SlackInstallStores:
    """Where Bolt keeps installations and install links (the shared database: app.py wires
    slack-sdk's SQLAlchemy stores)."""

    installations: AsyncInstallationStore
    states: AsyncOAuthStateStore


def page(title: str, body_html: str, status: int, cookie: str | None) -> BoltResponse:
    headers: dict[str, str | Sequence[str]] = {"Content-Type": "text/html; charset=utf-8"}
    if cookie:
        headers["Set-Cookie"] = [cookie]
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title></head>\n<body><h1>{html.escape(title)}</h1>\n"
        f"<p>{body_html}</p></body></html>\n"
    )
    return BoltResponse(status=status, body=page, headers=headers)


def callbacks(services: Services) -> AsyncCallbackOptions:
    """What happens once Slack sends the installer back: seed the community, say so."""

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = installation.team_id or ""
        name = installation.team_name or team_id
        try:
            await services.communities.ensure(Platform.SLACK, team_id, name)
        except Exception as error:
            # The installation is saved; the community is made on the workspace's first
            # command instead (ensure_for_context), so the install still succeeded.
            log_failure(log, "seeding a newly installed workspace", error)
        log.info("Slack: installed in workspace %s", team_id)
        cookie = args.settings.state_utils.build_set_cookie_for_deletion()
        return page(
            "Haven is installed",
            f"Haven is now part of {html.escape(name)}. Type <code>/support</code> in any "
            "channel for a private answer; moderators curate the library with "
            "<code>/support-admin</code>. You can close this page.",
            200,
            cookie,
        )

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        # `error=` on the redirect is whatever the browser sent: capped in the log, escaped
        # on the page.
        reason = args.reason[:60]
        log.warning("Slack: an installation was refused (%r)", reason)
        explanation = _FAILURES.get(
            reason,
            f"Slack reported {html.escape(reason)!s}, so Haven was not added. {START_AGAIN}.",
        )
        status = args.suggested_status_code
        cookie = args.settings.state_utils.build_set_cookie_for_deletion()
        return page("Haven was not installed", explanation, status, cookie)

    return AsyncCallbackOptions(success=success, failure=failure)


def oauth_settings(services: Services, stores: SlackInstallStores) -> AsyncOAuthSettings:
    """Bolt's OAuth settings from Haven's: the manifest's bot scopes, the two paths, the
    shared stores, and authorization that caches auth.test per token (see the docstring)."""
    settings = services.settings
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.reveal(),
        scopes=list(BOT_SCOPES),
        # Given explicitly: Bolt would otherwise read SLACK_USER_SCOPES from the environment
        # itself (only bot/settings.py reads it). Haven asks for no user token.
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=callbacks(services),
        installation_store=stores.installations,
        installation_store_bot_only=True,
        state_store=stores.states,
    )
    oauth.authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        token_rotation_expiration_minutes=oauth.token_rotation_expiration_minutes,
        installation_store=oauth.installation_store,
        bot_only=True,
        cache_enabled=True,
    )
    return oauth
