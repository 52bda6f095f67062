"""The Slack adapter's factory and runner: an AsyncApp built from Services, served over Socket
Mode (default) or HTTP.

Choices, each for a reason:
- `process_before_response=True`: Bolt's default async runner starts the listener in a task and
  polls for `ack()` every 10 ms, so every acknowledgement costs ~10 ms (a bare app measured
  87 req/s, p50 11.5 ms). With this documented option the listener runs inline and the answer
  leaves as soon as it returns. Our listeners therefore only compute the answer (from memory
  for /support) and ack; anything slower runs afterwards in tasks the listeners hold.
- authorization without `auth.test` per request: with SLACK_BOT_TOKEN (one workspace, one
  bot token) the authorize function returns the token straight away. A fresh Bolt app
  otherwise calls auth.test once per concurrent first request, none of them shared.
  `run_slack` calls auth.test once at start-up to fail loudly on a bad token.
- Bolt's loggers are configured from one base logger under `slack_bolt` (so Haven's logging
  levels apply to them) carrying a filter that removes request bodies from the few Bolt lines
  that print them (bad signature, unhandled request): they hold user ids and text.
- HTTP mode verifies the signature and 5-minute window with Bolt's own middleware.
- Many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, bot/adapters/slack/oauth.py):
  Bolt's OAuth settings instead of the authorize function, so Bolt finds each request's
  workspace token in the installation store; every call Haven makes on its own asks
  `WorkspaceClients` for that workspace's token. There is no token to check at start-up.
- HTTP mode reads each body with `HavenBoltRequest`, not Bolt's `to_bolt_request`: Bolt 1.30
  (`slack_bolt/request/internals.py`, `parse_body`) treats any form body in which the letters
  `payload` appear anywhere (`"payload" in body`: a command's text, a channel or user name) as
  an interactive `payload=` body, finds no such field and answers 404 "unhandled request".
  Socket Mode hands Bolt the parsed envelope, so it never had the problem.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.contact import SlackContact
from bot.adapters.slack.context import SlackDirectory, slack_error
from bot.adapters.slack.listeners import Revocation, SlackListeners
from bot.adapters.slack.oauth import (
    INSTALL_PATH,
    NOT_INSTALLED,
    REDIRECT_PATH,
    START_AGAIN,
    SlackInstallStores,
    oauth_settings,
    page,
)
from bot.adapters.slack.publisher import PERMANENT_ERRORS, SlackPublisher, make_publisher_client
from bot.adapters.slack.workspaces import InstalledWorkspaces, OneWorkspace, WorkspaceClients
from bot.core.errors import HavenError
from bot.core.models import Platform
from bot.metrics import PlatformStatus
from bot.services import Services

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
BOLT_BASE_LOGGER = "slack_bolt.haven"
# Slack's Web API answers in well under a second; past this, give up and let the caller say so.
WEB_API_TIMEOUT_SECONDS = 10
STARTUP_CHECK_SECONDS = 10.0
# While Slack cannot be reached at start-up: wait this long, doubling up to the maximum, with
# one log line per wait (the SDK's own loop logged a 60-line traceback every 10 s).
BACKOFF_START = 2.0
BACKOFF_MAX = 300.0


class SlackStartupError(HavenError):
    """Slack cannot be used with this configuration; the message says what to change."""


class _BodyScrubber(logging.Filter):
    """Removes request bodies from the Bolt log lines that include them, and drops Bolt's
    start-up note that SLACK_BOT_TOKEN from the environment is unused (Haven passes the
    token itself, through the client and the authorize function)."""

    _PATTERNS = (
        (re.compile(r"^(Invalid request signature detected).*", re.DOTALL), r"\1 (body withheld)"),
        (
            re.compile(r"^Unhandled request \(.*", re.DOTALL),
            "Unhandled Slack request (body withheld)",
        ),
        (re.compile(r"^(Unsuccessful Bolt execution result \(status: \d+).*", re.DOTALL), r"\1)"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("As you gave `client` as well, `token` will be unused"):
            return False
        if message.startswith("Although the app should be installed into this workspace"):
            # Bolt's line for a request from a workspace with no installation: an uninstalled
            # workspace's stragglers, expected with many workspaces. Bolt answers the person.
            record.msg, record.args = (
                "Slack: refused a request from a workspace where Haven is not installed",
                None,
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        if message.startswith("Failed to connect (error:") and record.exc_info:
            # The Socket Mode client retries on its own every few seconds when a connection
            # drops; each try was a full traceback. One line says the same.
            error = record.exc_info[1]
            record.msg, record.args = (
                "Slack Socket Mode: reconnecting failed (%s: %s); the client retries in a "
                "few seconds",
                (type(error).__name__, _short(error)),
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        for pattern, replacement in self._PATTERNS:
            if pattern.match(message):
                record.msg, record.args = pattern.sub(replacement, message), None
                break
        return True


def bolt_logger() -> logging.Logger:
    """The base logger every Bolt logger of Haven's app is configured from."""
    logger = logging.getLogger(BOLT_BASE_LOGGER)
    if not any(isinstance(f, _BodyScrubber) for f in logger.filters):
        logger.addFilter(_BodyScrubber())
    # Bolt also copies this logger's filters onto its own loggers when they have none; the
    # verification logger may have been created earlier (another app), so attach it there too.
    for name in (
        "slack_bolt.RequestVerification",
        "slack_bolt.AsyncApp",
        "slack_bolt.AsyncMultiTeamsAuthorization",
    ):
        other = logging.getLogger(name)
        if not any(isinstance(f, _BodyScrubber) for f in other.filters):
            other.addFilter(_BodyScrubber())
    return logger


def _api_url(services: Services) -> str:
    url = services.settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def _bot_token(services: Services) -> str:
    token = services.settings.slack_bot_token
    if token is None:
        raise SlackStartupError("SLACK_BOT_TOKEN is not set, so the Slack adapter cannot start.")
    return token.reveal()


def _single_workspace_authorize(token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    return authorize


@dataclass(frozen=True)
class SlackRuntime:
    app: AsyncApp
    listeners: SlackListeners
    publisher: SlackPublisher
    # The one bot token's client (SLACK_BOT_TOKEN); None when installed in many workspaces.
    client: AsyncWebClient | None
    # Roles (user groups) and members for the moderator settings; registered by `run_slack`.
    directory: SlackDirectory
    # Each workspace's own client (the one client, with SLACK_BOT_TOKEN).
    clients: WorkspaceClients
    # The moderator contact line's inbox and DMs; registered by `run_slack`.
    contact: SlackContact


def assemble(services: Services, stores: SlackInstallStores | None = None) -> SlackRuntime:
    """Build the app, its listeners and the publisher (nothing starts or connects here).
    `stores`: where installations live, when Haven is installed in many workspaces."""
    settings = services.settings
    api_url = _api_url(services)
    http_mode = settings.slack_mode == "http"
    signing_secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    if http_mode and not signing_secret:
        raise SlackStartupError("SLACK_SIGNING_SECRET is required in HTTP mode (SLACK_MODE=http).")
    if settings.slack_multi_workspace and stores is None:
        raise SlackStartupError("Slack for many workspaces needs the installation store.")
    # The app's own client has no token: authorization hands each request its workspace's
    # token, and Bolt builds a per-request client from this one's base URL.
    app_client = AsyncWebClient(base_url=api_url, timeout=WEB_API_TIMEOUT_SECONDS)
    common: dict[str, Any] = {
        "name": f"{BOLT_BASE_LOGGER}.app",
        "logger": bolt_logger(),
        "client": app_client,
        "signing_secret": signing_secret,
        # Socket Mode is authenticated by the app token; Bolt skips signatures there anyway.
        "request_verification_enabled": http_mode,
        "process_before_response": True,
        # Haven subscribes to no message events, so there are no self events to drop.
        "ignoring_self_events_enabled": False,
    }
    client: AsyncWebClient | None = None
    clients: WorkspaceClients
    revocation: Revocation | None = None
    if stores is not None:
        app = AsyncApp(
            **common,
            oauth_settings=oauth_settings(services, stores),
            user_facing_authorize_error_message=NOT_INSTALLED,
        )
        clients = InstalledWorkspaces(
            stores.installations,
            lambda token: AsyncWebClient(
                token=token, base_url=api_url, timeout=WEB_API_TIMEOUT_SECONDS
            ),
        )
        publishing: WorkspaceClients = InstalledWorkspaces(
            stores.installations, lambda token: make_publisher_client(token, api_url)
        )
        # Bolt's own token revocation handlers (what enable_token_revocation_listeners
        # registers), called from Haven's lifecycle listeners: Bolt runs only the first
        # listener that matches an event, so registering both would silence one of them.
        revocation = Revocation(
            app_uninstalled=app.default_app_uninstalled_event_listener(),
            tokens_revoked=app.default_tokens_revoked_event_listener(),
        )
    else:
        token = _bot_token(services)
        app = AsyncApp(**common, authorize=_single_workspace_authorize(token))
        client = AsyncWebClient(token=token, base_url=api_url, timeout=WEB_API_TIMEOUT_SECONDS)
        clients = OneWorkspace(client)
        publishing = OneWorkspace(make_publisher_client(token, api_url))
    directory = SlackDirectory(clients)
    contact = SlackContact(clients)
    listeners = SlackListeners(services, directory, clients, revocation=revocation, contact=contact)
    listeners.register(app)
    publisher = SlackPublisher(publishing)
    return SlackRuntime(
        app=app,
        listeners=listeners,
        publisher=publisher,
        client=client,
        directory=directory,
        clients=clients,
        contact=contact,
    )


def build_slack_app(services: Services) -> AsyncApp:
    """The AsyncApp with Haven's listeners (for tests and embedding; `run_slack` runs it)."""
    return assemble(services).app


def parse_body(raw_body: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request body as Bolt means to read it: JSON (events), a form whose only field
    is `payload=<JSON>` (interactions), or any other form (slash commands), decided by the
    form's fields rather than by whether the word `payload` occurs somewhere in the body."""
    if not raw_body:
        return {}
    try:
        if content_type == "application/json" or raw_body.startswith("{"):
            parsed = json.loads(raw_body)
        else:
            parsed = dict(parse_qsl(raw_body, keep_blank_values=True))
            if "payload" in parsed:
                parsed = json.loads(parsed["payload"])
    except ValueError:
        # Not Slack's (its signature check refuses it next): nothing to read, nothing to log.
        return {}
    return parsed if isinstance(parsed, dict) else {}


class HavenBoltRequest(AsyncBoltRequest):
    """Bolt's request with the body read by `parse_body` (see the module docstring)."""

    def __init__(
        self,
        *,
        body: str | dict[str, Any],
        query: str | dict[str, str] | dict[str, Sequence[str]] | None = None,
        headers: dict[str, str | Sequence[str]] | None = None,
        context: dict[str, Any] | None = None,
        mode: str = "http",
    ) -> None:
        if not isinstance(body, str):
            super().__init__(body=body, query=query, headers=headers, context=context, mode=mode)
            return
        # Bolt's own parse never sees the text (it misreads it, and raises on broken JSON).
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = parse_body(body, self.content_type)
        # The ids Bolt reads from the body (team, user, channel, response_url).
        self.context = build_async_context(AsyncBoltContext(context or {}), self.body)

    def to_copyable(self) -> HavenBoltRequest:
        body: str | dict[str, Any] = self.raw_body if self.mode == "http" else self.body
        return HavenBoltRequest(
            body=body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


def events_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The /slack/events handler: Bolt's dispatch (signature and 5-minute checks included)
    over bodies read by `HavenBoltRequest`, with rejected requests noted. Served by Slack's
    own server (`http_app`) or by Haven's one HTTP server (bot/web.py)."""

    async def handle(request: web.Request) -> web.Response:
        bolt_request = HavenBoltRequest(
            body=await request.text(),
            query=request.query_string,
            headers=dict(request.headers),
        )
        response = await to_aiohttp_response(await app.async_dispatch(bolt_request))
        if response.status == 401:
            # Only the fact: the body holds user ids and text.
            log.warning("Rejected a Slack request with a bad signature or a stale timestamp")
        return response

    return handle


def oauth_handlers(
    app: AsyncApp,
) -> tuple[
    Callable[[web.Request], Awaitable[web.StreamResponse]],
    Callable[[web.Request], Awaitable[web.StreamResponse]],
]:
    """The GET handlers of /slack/install (Bolt's install page and state cookie) and
    /slack/oauth_redirect (Bolt's callback: state checked, oauth.v2.access, saved)."""
    flow = app.oauth_flow
    if flow is None:
        raise SlackStartupError("The Slack app was built without OAuth settings.")

    def bolt_request(request: web.Request) -> HavenBoltRequest:
        return HavenBoltRequest(body="", query=request.query_string, headers=dict(request.headers))

    async def install(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_installation(bolt_request(request)))

    async def redirect(request: web.Request) -> web.StreamResponse:
        try:
            response = await flow.handle_callback(bolt_request(request))
        except Exception as error:
            # Bolt reports the failures it knows through our failure page; anything else
            # (the database gone mid-install) still gets a page, not a traceback.
            log.error("A Slack installation failed (%s)", type(error).__name__)
            response = page(
                "Haven was not installed",
                f"Something went wrong on Haven's side. {START_AGAIN}.",
                500,
                None,
            )
        return await to_aiohttp_response(response)

    return install, redirect


def http_app(app: AsyncApp) -> web.Application:
    """The aiohttp application for /slack/events alone (what `app.web_app` builds, with
    Haven's body parsing): Slack's own server when HAVEN_HTTP_PORT is not set."""
    web_app = web.Application()
    web_app.add_routes([web.post(EVENTS_PATH, events_handler(app))])
    if app.oauth_flow is not None:
        install, redirect = oauth_handlers(app)
        web_app.add_routes([web.get(INSTALL_PATH, install), web.get(REDIRECT_PATH, redirect)])
    return web_app


class SharedServer(Protocol):
    """Haven's one HTTP server, as the Slack adapter sees it (bot/web.py HavenWeb)."""

    def serve_slack(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> None: ...

    def serve_slack_oauth(
        self,
        install: Callable[[web.Request], Awaitable[web.StreamResponse]],
        redirect: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> None: ...


def _short(error: BaseException | None) -> str:
    """An exception's first line, capped: enough for a log line, never a payload."""
    text = str(error or "").strip().splitlines()
    return text[0][:200] if text else ""


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot token is (auth.test): for the "connected" line at start-up."""

    user: str
    team: str


class SlackUnreachable(Exception):
    """Slack could not be asked right now (network, timeout, a 5xx): worth trying again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def check_token(client: AsyncWebClient) -> SlackIdentity:
    """auth.test once: a revoked or wrong token stops start-up with a sentence saying so;
    SlackUnreachable when Slack could not answer."""
    try:
        response = await asyncio.wait_for(client.auth_test(), STARTUP_CHECK_SECONDS)
    except SlackApiError as error:
        code = slack_error(error)
        if code in PERMANENT_ERRORS:
            raise SlackStartupError(
                f"Slack rejected SLACK_BOT_TOKEN ({code}). Copy the Bot User OAuth Token "
                "(xoxb-...) from your app's OAuth & Permissions page, or reinstall the app."
            ) from None
        raise SlackUnreachable(f"auth.test: {code}") from None
    except (SlackClientError, OSError, TimeoutError) as error:
        raise SlackUnreachable(_unreachable_reason(error)) from None
    return SlackIdentity(
        user=str(response.get("user") or response.get("user_id") or "?"),
        team=str(response.get("team") or response.get("team_id") or "?"),
    )


async def open_socket_url(client: AsyncWebClient, app_token: str) -> str:
    """apps.connections.open once, so a wrong app-level token stops start-up with a sentence
    (the SDK's own connect loop would log and retry it forever); SlackUnreachable when Slack
    could not answer."""
    try:
        response = await asyncio.wait_for(
            client.apps_connections_open(app_token=app_token), STARTUP_CHECK_SECONDS
        )
    except SlackApiError as error:
        code = slack_error(error)
        if code in PERMANENT_ERRORS or code in ("not_allowed_token_type", "invalid_token"):
            raise SlackStartupError(
                f"Slack rejected SLACK_APP_TOKEN ({code}). Create an app-level token with the "
                "connections:write scope (Basic Information -> App-Level Tokens; it starts with "
                "xapp-), and turn on Socket Mode for the app."
            ) from None
        raise SlackUnreachable(f"apps.connections.open: {code}") from None
    except (SlackClientError, OSError, TimeoutError) as error:
        raise SlackUnreachable(_unreachable_reason(error)) from None
    url = str(response.get("url") or "")
    if not url:
        raise SlackUnreachable("apps.connections.open gave no URL")
    return url


def _unreachable_reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {STARTUP_CHECK_SECONDS:.0f} s"
    if isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error
        # asyncio words a refused connection as "Connect call failed ('host', port)"; the
        # errno's own text ("Connection refused") is what an operator searches for.
        plain = os.strerror(cause.errno) if cause.errno and cause.errno > 0 else None
        return plain or cause.strerror or type(cause).__name__
    reason = _short(error)
    return f"{type(error).__name__}: {reason}" if reason else type(error).__name__


async def _connect_with_backoff(
    client: AsyncWebClient, app: AsyncApp, app_token: str | None
) -> tuple[SlackIdentity, str]:
    """The identity (and, for Socket Mode, a connection URL), waiting out an unreachable
    Slack with a growing delay and one warning per wait. A rejected token still stops at once."""
    delay = BACKOFF_START
    identity: SlackIdentity | None = None
    while True:
        try:
            if identity is None:
                identity = await check_token(client)
            url = await open_socket_url(app.client, app_token) if app_token else ""
            return identity, url
        except SlackUnreachable as unreachable:
            log.warning(
                "Slack is unreachable at %s (%s); retrying in %g s",
                client.base_url,
                unreachable.reason,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)


async def run_slack(
    services: Services,
    *,
    shared: SharedServer | None = None,
    stores: SlackInstallStores | None = None,
) -> None:
    """Serve Slack until cancelled: Socket Mode by default, HTTP with SLACK_MODE=http (on
    Haven's own server when `shared` is given, else on SLACK_HTTP_PORT). With `stores`
    (installed in many workspaces) also the OAuth install pages, on the same server."""
    runtime = assemble(services, stores)
    settings = services.settings
    http_mode = settings.slack_mode == "http"
    identity: SlackIdentity | None = None
    if runtime.client is None:
        log.info("Slack: installed through OAuth; each workspace uses its own token")
    elif http_mode:
        # Requests come to us and are answered from memory: serve even while auth.test fails.
        try:
            identity = await check_token(runtime.client)
        except SlackUnreachable as unreachable:
            log.warning("Slack token check failed (%s); serving anyway", unreachable.reason)
    services.register_publisher(runtime.publisher)
    services.register_directory(runtime.directory)
    services.register_contact(runtime.contact)
    runner: web.AppRunner | None = None
    handler: AsyncSocketModeHandler | None = None
    try:
        if http_mode and shared is not None:
            shared.serve_slack(events_handler(runtime.app))
            if runtime.app.oauth_flow is not None:
                shared.serve_slack_oauth(*oauth_handlers(runtime.app))
                log.info("Slack: serving %s and %s", INSTALL_PATH, REDIRECT_PATH)
            services.health.register(Platform.SLACK, _serving_status("on Haven's HTTP server"))
            if identity is not None:
                log.info(
                    "Connected to Slack as %s, in workspace %s (HTTP mode)",
                    identity.user,
                    identity.team,
                )
            log.info("Slack: serving %s on Haven's HTTP server (HTTP mode)", EVENTS_PATH)
        elif http_mode:
            runner = web.AppRunner(http_app(runtime.app), access_log=None)
            await runner.setup()
            # All interfaces: Slack (or the reverse proxy in front) must reach it.
            site = web.TCPSite(runner, "0.0.0.0", settings.slack_http_port)
            await site.start()
            if identity is not None:
                log.info(
                    "Connected to Slack as %s, in workspace %s (HTTP mode)",
                    identity.user,
                    identity.team,
                )
            services.health.register(
                Platform.SLACK, _serving_status(f"on port {settings.slack_http_port}")
            )
            log.info(
                "Slack: serving %s on port %d (HTTP mode)", EVENTS_PATH, settings.slack_http_port
            )
        else:
            if settings.slack_app_token is None:
                raise SlackStartupError(
                    "SLACK_APP_TOKEN (xapp-...) is required for Socket Mode; "
                    "or set SLACK_MODE=http with SLACK_SIGNING_SECRET."
                )
            app_token = settings.slack_app_token.reveal()
            assert runtime.client is not None  # settings refuse Socket Mode for many workspaces
            identity, url = await _connect_with_backoff(runtime.client, runtime.app, app_token)
            handler = AsyncSocketModeHandler(runtime.app, app_token=app_token)
            handler.client.wss_uri = url  # use the URL just issued; no second request
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info(
                "Connected to Slack as %s, in workspace %s (Socket Mode)",
                identity.user,
                identity.team,
            )
            services.health.register(Platform.SLACK, _socket_status(handler))
        await asyncio.Event().wait()
    finally:
        services.health.register(Platform.SLACK, _stopped_status)
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await runtime.listeners.aclose()
        log.info("Slack: stopped")


async def _stopped_status() -> PlatformStatus:
    return PlatformStatus(False, "the Slack adapter has stopped")


def _serving_status(where: str) -> Callable[[], Awaitable[PlatformStatus]]:
    async def status() -> PlatformStatus:
        return PlatformStatus(True, f"serving {EVENTS_PATH} {where}")

    return status


def _socket_status(handler: AsyncSocketModeHandler) -> Callable[[], Awaitable[PlatformStatus]]:
    socket = handler.client

    async def status() -> PlatformStatus:
        if await socket.is_connected():
            return PlatformStatus(True, "connected over Socket Mode")
        return PlatformStatus(False, "the Socket Mode connection is down (reconnecting)")

    return status
