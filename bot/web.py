"""Haven's one HTTP server (aiohttp): /healthz, /readyz, /metrics and, in Slack's HTTP mode,
/slack/events (and, installed in many workspaces, /slack/install and /slack/oauth_redirect),
and the moderator dashboard under /dashboard (bot/dashboard).

- `/healthz` answers whenever the event loop does: a handler that runs proves it.
- `/readyz` is 200 only when the database answers a cheap read and every configured platform
  is connected; otherwise 503 with the reasons. Either way the body says this process's
  scheduler role (a standby is ready: it serves commands and takes over if the holder stops).
- `/metrics` is prometheus-client's own aiohttp handler over Haven's registry, after a fresh
  readiness check so the gauges are current.
- `/slack/events` exists from the start when Slack runs in HTTP mode and answers 503 until the
  Slack adapter has attached its handler (Slack retries), so one port serves everything. The
  two OAuth pages likewise, with a page asking to try again in a moment.

It listens on HAVEN_HTTP_HOST (127.0.0.1 by default: metrics are for the operator, not the
internet; put a reverse proxy in front for Slack).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.core.errors import HavenError
from bot.metrics import Health, PrometheusMetrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SLACK_EVENTS_PATH = "/slack/events"
SLACK_INSTALL_PATH = "/slack/install"
SLACK_REDIRECT_PATH = "/slack/oauth_redirect"
DASHBOARD_PATH = "/dashboard"


class HttpStartupError(HavenError):
    """The server cannot listen where it was told to; the message says what to change."""


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, indent=2) + "\n", status=status, content_type="application/json"
    )


class HavenWeb:
    """The application and its site. `run` serves until cancelled (a TaskGroup task)."""

    def __init__(
        self,
        health: Health,
        metrics: PrometheusMetrics | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        slack_events: bool = False,
        slack_oauth: bool = False,
        dashboard: web.Application | None = None,
    ) -> None:
        self._health = health
        self._host = host
        self._port = port
        self._slack: Handler | None = None
        self._slack_install: Handler | None = None
        self._slack_redirect: Handler | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.app = web.Application()
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)
        if metrics is not None:
            self._metrics = make_aiohttp_handler(metrics.registry)
            self.app.router.add_get("/metrics", self._metrics_handler)
        if slack_events:
            self.app.router.add_post(SLACK_EVENTS_PATH, self._slack_events)
        if slack_oauth:
            self.app.router.add_get(SLACK_INSTALL_PATH, self._slack_install_page)
            self.app.router.add_get(SLACK_REDIRECT_PATH, self._slack_redirect_page)
        if dashboard is not None:
            # The moderator dashboard (bot/dashboard): its own middleware, below /dashboard.
            self.app.router.add_get(DASHBOARD_PATH, _to_dashboard)
            self.app.add_subapp(DASHBOARD_PATH, dashboard)

    def serve_slack(self, handler: Handler) -> None:
        """The Slack adapter's /slack/events handler (signature checks included)."""
        self._slack = handler

    def serve_slack_oauth(self, install: Handler, redirect: Handler) -> None:
        """The Slack adapter's install page and OAuth redirect (Bolt's flow)."""
        self._slack_install = install
        self._slack_redirect = redirect

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise HttpStartupError(
                f"Haven cannot listen on {self._host}:{self._port} ({error.strerror or error}).",
                "Set HAVEN_HTTP_PORT to a free port (or HAVEN_HTTP_HOST to an address of this "
                "machine), or leave HAVEN_HTTP_PORT unset to serve no HTTP.",
            ) from None
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("HTTP: serving /healthz, /readyz and /metrics on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # ---- handlers ------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        readiness = await self._health.check()
        return _json(readiness.as_json(), 200 if readiness.ready else 503)

    async def _metrics_handler(self, request: web.Request) -> web.StreamResponse:
        await self._health.check()
        return await self._metrics(request)

    async def _slack_events(self, request: web.Request) -> web.StreamResponse:
        if self._slack is None:
            # Slack retries a failed delivery; by then the adapter has attached.
            return web.Response(status=503, text="Slack is starting\n")
        return await self._slack(request)

    async def _slack_install_page(self, request: web.Request) -> web.StreamResponse:
        if self._slack_install is None:
            return _starting()
        return await self._slack_install(request)

    async def _slack_redirect_page(self, request: web.Request) -> web.StreamResponse:
        if self._slack_redirect is None:
            return _starting()
        return await self._slack_redirect(request)


def _starting() -> web.Response:
    return web.Response(
        status=503,
        text="Haven is starting; reload this page in a few seconds.\n",
        headers={"Retry-After": "5"},
    )


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{DASHBOARD_PATH}/library")
