"""The Slack adapter's factory and runner: an AsyncApp built from Services, served over Socket
Mode (default) or HTTP.

Choices, each for a reason:
- `process_before_response=True`: Bolt's default async runner starts the listener in a task and
  polls for `ack()` every 10 ms, so every acknowledgement costs ~10 ms (a bare app measured
  87 req/s, p50 11.5 ms). With this documented option the listener runs inline and the answer
  leaves as soon as it returns. Our listeners therefore only compute the answer (from memory
  for /support) and ack; anything slower runs afterwards in tasks the listeners hold.
- authorization without `auth.test` per request: one workspace, one bot token, so the
  authorize function returns the token straight away. A fresh Bolt app otherwise calls
  auth.test once per concurrent first request, none of them shared. `run_slack` calls auth.test
  once at start-up to fail loudly on a bad token.
- Bolt's loggers are configured from one base logger under `slack_bolt` (so Haven's logging
  levels apply to them) carrying a filter that removes request bodies from the few Bolt lines
  that print them (bad signature, unhandled request): they hold user ids and text.
- HTTP mode verifies the signature and 5-minute window with Bolt's own middleware.
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
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

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

from bot.adapters.slack.context import SlackDirectory, slack_error
from bot.adapters.slack.listeners import SlackListeners
from bot.adapters.slack.publisher import PERMANENT_ERRORS, SlackPublisher, make_publisher_client
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
    for name in ("slack_bolt.RequestVerification", "slack_bolt.AsyncApp"):
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
    client: AsyncWebClient
    # Roles (user groups) and members for the moderator settings; registered by `run_slack`.
    directory: SlackDirectory


def assemble(services: Services) -> SlackRuntime:
    """Build the app, its listeners and the publisher (nothing starts or connects here)."""
    settings = services.settings
    token = _bot_token(services)
    api_url = _api_url(services)
    http_mode = settings.slack_mode == "http"
    signing_secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    if http_mode and not signing_secret:
        raise SlackStartupError("SLACK_SIGNING_SECRET is required in HTTP mode (SLACK_MODE=http).")
    # The app's own client has no token: the authorize function hands each request the token,
    # and Bolt builds a per-request client from this one's base URL.
    app = AsyncApp(
        name=f"{BOLT_BASE_LOGGER}.app",
        logger=bolt_logger(),
        client=AsyncWebClient(base_url=api_url, timeout=WEB_API_TIMEOUT_SECONDS),
        signing_secret=signing_secret,
        # Socket Mode is authenticated by the app token; Bolt skips signatures there anyway.
        request_verification_enabled=http_mode,
        process_before_response=True,
        authorize=_single_workspace_authorize(token),
        # Haven subscribes to no message events, so there are no self events to drop.
        ignoring_self_events_enabled=False,
    )
    client = AsyncWebClient(token=token, base_url=api_url, timeout=WEB_API_TIMEOUT_SECONDS)
    directory = SlackDirectory(client)
    listeners = SlackListeners(services, directory, client)
    listeners.register(app)
    publisher = SlackPublisher(make_publisher_client(token, api_url))
    return SlackRuntime(
        app=app, listeners=listeners, publisher=publisher, client=client, directory=directory
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


def http_app(app: AsyncApp) -> web.Application:
    """The aiohttp application for /slack/events alone (what `app.web_app` builds, with
    Haven's body parsing): Slack's own server when HAVEN_HTTP_PORT is not set."""
    web_app = web.Application()
    web_app.add_routes([web.post(EVENTS_PATH, events_handler(app))])
    return web_app


class SharedServer(Protocol):
    """Haven's one HTTP server, as the Slack adapter sees it (bot/web.py HavenWeb)."""

    def serve_slack(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> None: ...


async def check_token(client: AsyncWebClient) -> str:
    """auth.test once: a revoked or wrong token stops start-up with a sentence saying so."""
    try:
        response = await asyncio.wait_for(client.auth_test(), STARTUP_CHECK_SECONDS)
    except SlackApiError as error:
        code = slack_error(error)
        if code in PERMANENT_ERRORS:
            raise SlackStartupError(
                f"Slack rejected SLACK_BOT_TOKEN ({code}). Copy the Bot User OAuth Token "
                "(xoxb-...) from your app's OAuth & Permissions page, or reinstall the app."
            ) from None
        log.warning("Slack token check failed (%s); continuing, Slack may be having trouble", code)
        return ""
    except (SlackClientError, OSError, TimeoutError) as error:
        log.warning(
            "Slack token check could not reach Slack (%s); continuing", type(error).__name__
        )
        return ""
    return str(response.get("team") or response.get("team_id") or "")


async def open_socket_url(client: AsyncWebClient, app_token: str) -> str:
    """apps.connections.open once, so a wrong app-level token stops start-up with a sentence
    (the SDK's own connect loop would log and retry it forever)."""
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
        log.warning("Socket Mode URL request failed (%s); the client will retry", code)
        return ""
    except (SlackClientError, OSError, TimeoutError) as error:
        log.warning(
            "Socket Mode URL request failed (%s); the client will retry", type(error).__name__
        )
        return ""
    return str(response.get("url") or "")


async def run_slack(services: Services, *, shared: SharedServer | None = None) -> None:
    """Serve Slack until cancelled: Socket Mode by default, HTTP with SLACK_MODE=http (on
    Haven's own server when `shared` is given, else on SLACK_HTTP_PORT)."""
    runtime = assemble(services)
    settings = services.settings
    team = await check_token(runtime.client)
    services.register_publisher(runtime.publisher)
    services.register_directory(runtime.directory)
    runner: web.AppRunner | None = None
    handler: AsyncSocketModeHandler | None = None
    try:
        if settings.slack_mode == "http" and shared is not None:
            shared.serve_slack(events_handler(runtime.app))
            services.health.register(Platform.SLACK, _serving_status("on Haven's HTTP server"))
            log.info(
                "Slack: serving %s on Haven's HTTP server (HTTP mode)%s",
                EVENTS_PATH,
                f" for {team}" if team else "",
            )
        elif settings.slack_mode == "http":
            runner = web.AppRunner(http_app(runtime.app), access_log=None)
            await runner.setup()
            # All interfaces: Slack (or the reverse proxy in front) must reach it.
            site = web.TCPSite(runner, "0.0.0.0", settings.slack_http_port)
            await site.start()
            services.health.register(
                Platform.SLACK, _serving_status(f"on port {settings.slack_http_port}")
            )
            log.info(
                "Slack: serving %s on port %d (HTTP mode)%s",
                EVENTS_PATH,
                settings.slack_http_port,
                f" for {team}" if team else "",
            )
        else:
            if settings.slack_app_token is None:
                raise SlackStartupError(
                    "SLACK_APP_TOKEN (xapp-...) is required for Socket Mode; "
                    "or set SLACK_MODE=http with SLACK_SIGNING_SECRET."
                )
            app_token = settings.slack_app_token.reveal()
            url = await open_socket_url(runtime.app.client, app_token)
            handler = AsyncSocketModeHandler(runtime.app, app_token=app_token)
            if url:
                handler.client.wss_uri = url  # use the URL just issued; no second request
            await handler.connect_async()  # type: ignore[no-untyped-call]
            services.health.register(Platform.SLACK, _socket_status(handler))
            log.info("Slack: connected over Socket Mode%s", f" to {team}" if team else "")
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
