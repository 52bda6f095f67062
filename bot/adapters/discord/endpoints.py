"""Where discord.py sends REST calls and opens the gateway: Discord's own, or a proxy/emulator.

discord.py 2.7 reads two class attributes: `Route.BASE` (every REST call, interaction callbacks
and webhook follow-ups included, is `BASE + path`) and `DiscordWebSocket.DEFAULT_GATEWAY` (a plain
`commands.Bot` connects there directly; it never asks `/gateway/bot`). `haven run` and the tests
both go through `apply_endpoint_overrides`, so what the tests exercise is what production runs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import discord.gateway
import discord.http
import yarl

log = logging.getLogger(__name__)

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"
_API_VERSION_SUFFIX = re.compile(r"/api/v\d+$")


@dataclass(frozen=True, slots=True)
class Endpoints:
    api_base: str
    gateway: str


def normalise_api_url(api_url: str) -> str:
    """`http://proxy:8080` or `http://proxy:8080/api/v10` -> the `/api/v10` base discord.py uses.

    Rate-limit proxies are usually documented by host only; the version suffix is ours to add.
    """
    url = api_url.strip().rstrip("/")
    parsed = yarl.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"DISCORD_API_URL must be an http(s) URL, got {api_url!r}")
    if not _API_VERSION_SUFFIX.search(url):
        url += "/api/v10"
    return url


def normalise_gateway_url(gateway_url: str) -> str:
    url = gateway_url.strip()
    parsed = yarl.URL(url)
    if parsed.scheme not in ("ws", "wss") or not parsed.host:
        raise ValueError(f"DISCORD_GATEWAY_URL must be a ws(s) URL, got {gateway_url!r}")
    return url


def current_endpoints() -> Endpoints:
    return Endpoints(
        api_base=discord.http.Route.BASE,
        gateway=str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY),
    )


def apply_endpoint_overrides(api_url: str | None, gateway_url: str | None) -> Endpoints:
    """Point discord.py at `api_url` / `gateway_url` (None keeps Discord's default).

    Returns the endpoints that were in force before, so a caller (a test) can restore them.
    These are process-wide class attributes: set them before the client makes its first request.
    """
    before = current_endpoints()
    if api_url:
        discord.http.Route.BASE = normalise_api_url(api_url)
        log.info("Discord REST calls go to %s", discord.http.Route.BASE)
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            normalise_gateway_url(gateway_url)
        )
        log.info("Discord gateway is %s", gateway_url)
    return before


def restore_endpoints(endpoints: Endpoints) -> None:
    discord.http.Route.BASE = endpoints.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(endpoints.gateway)
