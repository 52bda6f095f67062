"""A loopback Discord emulator: the REST API and the gateway on 127.0.0.1, port 0.

The real discord.py client runs against it unchanged once `Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY` point here (see `bot.adapters.discord.client.
apply_endpoint_overrides`). It emulates just what Haven's adapter uses, with Discord's documented
behaviour where it matters to us:

- REST: login (`/users/@me`, `/oauth2/applications/@me`), command sync (payloads recorded and
  checked against Discord's shape limits), interaction callbacks with the `with_response=1` JSON
  body discord.py parses, webhook follow-ups and edits, channel messages with `nonce` +
  `enforce_nonce` de-duplication, message edits (`PATCH /channels/{c}/messages/{m}`, in
  `edits`), DM channels (with a "DMs closed" switch answering 50007),
  attachments served for `Attachment.read()`, guild members by id (`GET /guilds/{g}/members/{u}`,
  10007 for a stranger), and per-route fault injection (error codes, 429 with `retry_after` and
  a `Via` header, 5xx, slow answers).
- Message payloads are checked against Discord's limits (embed sizes, component shapes, modal
  and autocomplete limits): a violation answers 400 / 50035 as Discord does, so a renderer that
  overflows fails its test instead of failing in production.
- Gateway: HELLO, heartbeat ACK, IDENTIFY -> READY (with `resume_gateway_url` pointing here) and
  GUILD_CREATE, GUILD_CREATE/GUILD_DELETE for joins and removals, GUILD_ROLE_CREATE,
  INTERACTION_CREATE, op 7 RECONNECT -> RESUME -> replay + RESUMED, and zlib-stream (binary) or
  plain TEXT frames.
- Shards, as Discord runs them: `GET /gateway/bot` recommends `recommended_shards` and says
  `max_concurrency`; IDENTIFY's `shard: [id, count]` is checked (close 4010 for an id outside
  the count, 4011 when `require_sharding` and the count is below the recommendation); a second
  IDENTIFY in one bucket (`shard_id % max_concurrency`) within `identify_interval` (5 s) gets
  op 9; a guild's events go only to the session of shard `(guild_id >> 22) % shard_count`,
  events without a guild (DMs) only to shard 0. An IDENTIFY without `shard` is shard 0 of 1.
  Every IDENTIFY is in `identifies` (shard, monotonic time, outcome).
- The global REST budget (`global_rate_limit` per second per bot token, off by default) over
  every bot-authenticated route; interaction callbacks and webhook follow-ups are exempt, as on
  Discord. Over it: 429 with `X-RateLimit-Global`, `Retry-After`, `Via` and a `global` body.
  `served_at` holds when each budgeted request was served (`busiest_second()` reads it).

Every JSON answer carries `Content-Type: application/json` exactly: discord.py compares the
header for equality and treats `application/json; charset=utf-8` as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

EPHEMERAL = 1 << 6
# View Channel, Send Messages, Embed Links, Send Messages in Threads: Haven's invite.
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 38)
DEFAULT_TOKEN = "fake-token"

# Discord's limits (developers/resources/message.mdx, components/reference.mdx,
# interactions/application-commands.mdx), enforced on what the bot sends.
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ROWS_MAX = 5
BUTTON_LABEL_MAX = 80
LINK_URL_MAX = 512
CUSTOM_ID_MAX = 100
SELECT_OPTIONS_MAX = 25
SELECT_TEXT_MAX = 100
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
CHOICES_MAX = 25
COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
# Discord's locales (discord-api-docs, reference.md "Locales"): the only keys a command's
# name_localizations / description_localizations may have.
DISCORD_LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
    "bg ru uk hi th zh-CN ja zh-TW ko".split()
)
COMMAND_OPTIONS_MAX = 25
COMMAND_TOTAL_MAX = 8000

# Application command option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)

# A snowflake's high bits are its creation time in milliseconds (`id >> 22`), which is also what
# picks a guild's shard. Each fresh id is one millisecond later than the one before, so the guilds
# a test makes spread over the shards instead of all landing on shard 0.
_SNOWFLAKE_EPOCH = 1_300_000_000_000_000_000 >> 22
_snowflakes = itertools.count(0)
# How far apart two IDENTIFYs of one bucket must be (Discord's documented rule).
IDENTIFY_INTERVAL = 5.0


def snowflake() -> str:
    """A fresh, increasing id (ids are strings on the wire)."""
    n = next(_snowflakes)
    return str(((_SNOWFLAKE_EPOCH + n) << 22) | (n & 0xFFF))


def shard_of(guild_id: int | str, shard_count: int) -> int:
    """The shard that carries a guild's events (Discord's formula)."""
    return (int(guild_id) >> 22) % shard_count


def snowflake_on_shard(shard_id: int, shard_count: int) -> str:
    """A fresh id of a guild that lands on `shard_id` of `shard_count`."""
    while True:
        candidate = snowflake()
        if shard_of(candidate, shard_count) == shard_id:
            return candidate


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Not web.json_response(): it appends "; charset=utf-8", which discord.py reads as text.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _error(status: int, code: int, message: str, problems: Iterable[str] = ()) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    listed = list(problems)
    if listed:
        # Discord's nested error shape, flattened by discord.py into HTTPException.text.
        body["errors"] = {
            "payload": {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p} for p in listed]}
        }
    return _json(body, status)


@dataclass
class RecordedRequest:
    """One REST request as the bot sent it, and what the emulator answered."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: dict[str, bytes]
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class IdentifyRecord:
    """One IDENTIFY as the emulator received it, and what it answered."""

    shard_id: int
    shard_count: int
    at: float  # time.monotonic()
    # "ready", "invalid_session" (op 9: the bucket was used too recently),
    # "invalid_shard" (4010), "sharding_required" (4011)
    outcome: str
    sharded: bool  # False: the IDENTIFY carried no `shard` (shard 0 of 1)


@dataclass
class Fault:
    """An injected failure for requests matching `method` and `pattern` (a path regex)."""

    method: str
    pattern: re.Pattern[str]
    status: int = 500
    code: int = 0
    message: str = "Injected failure"
    times: int = 1  # how many matching requests fail; -1 = all
    retry_after: float | None = None  # 429 body
    via: bool = True  # 429 without Via reads as a Cloudflare ban in discord.py
    scope: str | None = "user"  # X-RateLimit-Scope of a 429 (None: the header is absent)
    global_: bool = False
    delay: float = 0.0  # seconds before answering (a slow response)
    # Process the request (e.g. create the message) and only then answer with the failure:
    # Discord "may have created the message" before a 5xx or a timeout.
    after_processing: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and self.method == method and bool(self.pattern.search(path))


@dataclass
class FakeAttachment:
    """A file for an attachment option; the emulator serves its bytes at `url`."""

    filename: str
    content: bytes
    content_type: str = "text/plain"


class InteractionHandle:
    """One dispatched interaction: await its callback, follow-ups and edits."""

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any]) -> None:
        self._fake = fake
        self.payload = payload
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.dispatched_at = time.monotonic()
        self.answered_at: float | None = None
        self._response: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.callback_body: dict[str, Any] | None = None
        self.callback_files: dict[str, bytes] = {}
        # The message the response created (type 4/5) or updated (type 7), kept current by
        # edits, so a test can press its components.
        self.message: dict[str, Any] | None = None
        self.followups: list[dict[str, Any]] = []
        self.followup_files: list[dict[str, bytes]] = []
        self.edits: list[dict[str, Any]] = []
        # Set when the emulator refused this interaction's callback (10062 or 40060), and how
        # many callbacks it refused (more than one would be a retry).
        self.refused_with: int | None = None
        self.refusals = 0
        self._changed = asyncio.Event()

    @property
    def user_id(self) -> str:
        who = self.payload.get("member", {}).get("user") or self.payload.get("user") or {}
        return str(who.get("id", ""))

    # Every wait in this emulator is bounded so a broken bot fails its test fast instead of
    # hanging the suite: hence the `timeout` parameters (ASYNC109).
    async def response(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The callback body (`{"type": .., "data": ..}`), once the bot answers."""
        return await asyncio.wait_for(asyncio.shield(self._response), timeout)

    async def followup(self, index: int = 0, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The `index`-th follow-up message payload the bot sent for this interaction."""
        await self._wait(lambda: len(self.followups) > index, timeout)
        return self.followups[index]

    async def edit(self, index: int = 0, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The `index`-th edit of the original response (PATCH @original)."""
        await self._wait(lambda: len(self.edits) > index, timeout)
        return self.edits[index]

    async def _wait(self, ready: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not ready():
                self._changed.clear()
                await self._changed.wait()

    def _answer(self, body: dict[str, Any], files: dict[str, bytes]) -> None:
        self.callback_body = body
        self.callback_files = files
        self.answered_at = time.monotonic()
        if not self._response.done():
            self._response.set_result(body)
        self._changed.set()

    def _notify(self) -> None:
        self._changed.set()


class _Connection:
    """One gateway WebSocket; sends are serialised because zlib-stream is one shared stream."""

    def __init__(self, ws: web.WebSocketResponse, zlib_stream: bool) -> None:
        self.ws = ws
        self._compressor = zlib.compressobj() if zlib_stream else None
        self._lock = asyncio.Lock()
        self.session: _Session | None = None

    async def send(self, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            if self._compressor is None:
                await self.ws.send_str(data)
            else:
                # Every message ends with Z_SYNC_FLUSH (00 00 ff ff): that is how the client's
                # shared decompressor knows a message is complete.
                chunk = self._compressor.compress(data.encode()) + self._compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(chunk)


@dataclass
class _Session:
    id: str
    shard_id: int = 0
    shard_count: int = 1
    seq: int = 0
    # (seq, payload) of every dispatch, replayed on RESUME past the client's last seq.
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    connection: _Connection | None = None


class FakeDiscord:
    """The emulator. `async with FakeDiscord() as fake:` or `await fake.start()` / `close()`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        zlib_stream: bool = True,
        heartbeat_interval_ms: int = 41_250,
        response_deadline: float = 3.0,
        validate: bool = True,
        recommended_shards: int = 1,
        max_concurrency: int = 1,
        require_sharding: bool = False,
        identify_interval: float = IDENTIFY_INTERVAL,
        global_rate_limit: int | None = None,
    ) -> None:
        self.token = token
        # What GET /gateway/bot recommends, and the IDENTIFY bucket count it announces.
        self.recommended_shards = recommended_shards
        self.max_concurrency = max_concurrency
        # Discord refuses (4011) a bot past 2,500 guilds that identifies with too few shards.
        self.require_sharding = require_sharding
        self.identify_interval = identify_interval
        # Requests per second per bot token over bot routes (None: no global budget).
        self.global_rate_limit = global_rate_limit
        # The gateway URL GET /gateway/bot advertises (None: this emulator's own).
        self.advertised_gateway_url: str | None = None
        self.zlib_stream = zlib_stream
        self.heartbeat_interval_ms = heartbeat_interval_ms
        # Discord invalidates an interaction token 3 s after dispatch (10062 afterwards).
        self.response_deadline = response_deadline
        self.validate = validate
        self.application_id = snowflake()
        self.bot_user: dict[str, Any] = {
            "id": snowflake(),
            "username": "Haven",
            "discriminator": "0",
            "global_name": "Haven",
            "avatar": None,
            "bot": True,
        }
        self.users: dict[str, dict[str, Any]] = {}
        self.owner_user = self.make_user("owner")
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.guilds: dict[str, dict[str, Any]] = {}
        # guild id -> user id -> member (with `user`), for GET /guilds/{g}/members/{u}. Everyone
        # who runs an interaction in a guild is one of its members from then on.
        self.members: dict[str, dict[str, dict[str, Any]]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}  # user id -> DM channel
        self.dms_closed: set[str] = set()  # user ids whose DMs refuse the bot (50007)
        # (channel id, message id) of every message edit the bot made, in order.
        self.edits: list[tuple[str, str]] = []
        self.dms_closed_for_everyone = False
        self.interactions: dict[str, InteractionHandle] = {}
        self.faults: list[Fault] = []
        # Error codes (10062, 40060) the next interaction callbacks get, one each, in order.
        self.callback_refusals: list[int] = []
        self.identify_count = 0
        self.identifies: list[IdentifyRecord] = []
        # When each request under the global budget was served (monotonic), and how many were
        # refused with a global 429.
        self.served_at: list[float] = []
        self.global_refusals = 0
        self.resume_count = 0
        self.resume_urls: list[str] = []
        self._attachments: dict[str, FakeAttachment] = {}
        self._nonces: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._waiters: list[tuple[Callable[[RecordedRequest], bool], asyncio.Future[Any]]] = []
        self._session_events: list[tuple[str, asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self._app = web.Application(client_max_size=64 * 1024 * 1024)
        self._app.router.add_get("/gateway", self._gateway)
        self._app.router.add_get("/gateway-resume", self._gateway)
        self._app.router.add_get("/attachments/{aid}/{filename}", self._attachment)
        self._app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> FakeDiscord:
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What `DISCORD_API_URL` / `Route.BASE` must be."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What `DISCORD_GATEWAY_URL` / `DiscordWebSocket.DEFAULT_GATEWAY` must be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    # ----------------------------------------------------------------- world building

    def make_user(self, name: str = "member", user_id: str | None = None) -> dict[str, Any]:
        user = {
            "id": user_id or snowflake(),
            "username": name,
            "discriminator": "0",
            "global_name": name.title(),
            "avatar": None,
        }
        self.users[user["id"]] = user
        return user

    def make_guild(
        self,
        name: str = "Guild",
        *,
        guild_id: str | None = None,
        channels: Iterable[str] = ("general", "resources"),
        roles: Iterable[str] = ("moderators",),
        locale: str = "en-US",
        bot_permissions: int | None = None,
        on_shard: tuple[int, int] | None = None,
        public_channels: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Create a guild the bot is in (announced at IDENTIFY; use `add_guild` to join later).
        `on_shard=(shard_id, shard_count)` picks an id whose events that shard carries.

        The bot's own member is included (Discord sends it without the members intent), with a
        managed role carrying `bot_permissions` (by default what `haven invite` asks for).
        """
        gid = guild_id or (snowflake_on_shard(*on_shard) if on_shard else snowflake())
        role_list = [
            {
                "id": gid,  # @everyone has the guild's id
                "name": "@everyone",
                "permissions": str(1024 | 2048),
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ]
        for position, role_name in enumerate(roles, start=1):
            role_list.append(
                {
                    **role_list[0],
                    "id": snowflake(),
                    "name": role_name,
                    "position": position,
                    "permissions": "0",
                }
            )
        bot_role = {
            **role_list[0],
            "id": snowflake(),
            "name": "Haven",
            "managed": True,
            "position": len(role_list),
            "permissions": str(BOT_PERMISSIONS if bot_permissions is None else bot_permissions),
        }
        role_list.append(bot_role)
        # @everyone grants nothing here, so the bot's managed role is what decides.
        role_list[0]["permissions"] = "0"
        channel_list = []
        readable_by_everyone = set(public_channels)
        for position, channel_name in enumerate(channels):
            # `public_channels`: an overwrite lets @everyone see the channel (View Channel).
            overwrites = (
                [{"id": gid, "type": 0, "allow": str(1024), "deny": "0"}]
                if channel_name in readable_by_everyone
                else []
            )
            channel = {
                "id": snowflake(),
                "type": 0,
                "name": channel_name,
                "position": position,
                "guild_id": gid,
                "permission_overwrites": overwrites,
                "nsfw": False,
                "parent_id": None,
            }
            channel_list.append(channel)
            self.channels[channel["id"]] = channel
            self.messages.setdefault(channel["id"], [])
        guild = {
            "id": gid,
            "name": name,
            "icon": None,
            "owner_id": self.owner_user["id"],
            "preferred_locale": locale,
            "roles": role_list,
            "channels": channel_list,
            "threads": [],
            "members": [self._member(self.bot_user, 0, [bot_role["id"]])],
            "member_count": 2,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _now_iso(),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
        }
        self.guilds[gid] = guild
        return guild

    def add_member(
        self,
        guild: Mapping[str, Any],
        user: Mapping[str, Any] | None = None,
        roles: Iterable[str] = (),
        *,
        nick: str | None = None,
    ) -> dict[str, Any]:
        """A member of `guild` (a new user unless one is given), as REST returns members."""
        user = dict(user or self.make_user())
        self.users[user["id"]] = user
        member = self._member(user, 0, roles)
        member.pop("permissions")  # only interaction payloads carry it
        member["nick"] = nick
        self.members.setdefault(str(guild["id"]), {})[user["id"]] = member
        return member

    async def add_role(self, guild: dict[str, Any], name: str) -> str:
        """A role created while the bot is connected (GUILD_ROLE_CREATE); returns its id."""
        role = {
            **guild["roles"][0],
            "id": snowflake(),
            "name": name,
            "position": len(guild["roles"]),
            "permissions": "0",
        }
        guild["roles"].append(role)
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": guild["id"], "role": role})
        return str(role["id"])

    def role_id(self, guild: Mapping[str, Any], name: str) -> str:
        return next(str(r["id"]) for r in guild["roles"] if r["name"] == name)

    def channel_id(self, guild: Mapping[str, Any], name: str = "general") -> str:
        return next(str(c["id"]) for c in guild["channels"] if c["name"] == name)

    async def add_guild(self, name: str = "Joined guild", **kwargs: Any) -> dict[str, Any]:
        """The bot joins a guild now: GUILD_CREATE without `unavailable` (on_guild_join)."""
        guild = self.make_guild(name, **kwargs)
        await self.dispatch("GUILD_CREATE", guild)
        return guild

    async def rejoin_guild(self, guild: dict[str, Any]) -> None:
        """The bot is added back to a guild it left: same ids, a fresh GUILD_CREATE."""
        self.guilds[guild["id"]] = guild
        for channel in guild["channels"]:
            self.channels[channel["id"]] = channel
        await self.dispatch("GUILD_CREATE", guild)

    async def remove_guild(self, guild_id: str) -> None:
        """The bot is removed (kicked, or the guild deleted): GUILD_DELETE without `unavailable`."""
        guild = self.guilds.pop(guild_id)
        for channel in guild["channels"]:
            self.channels.pop(channel["id"], None)
        await self.dispatch("GUILD_DELETE", {"id": guild_id})

    def delete_channel(self, channel_id: str) -> None:
        """The channel disappears (posting to it answers 404 / 10003)."""
        self.channels.pop(channel_id, None)

    def attachment(
        self, filename: str, content: bytes | str, content_type: str = ""
    ) -> FakeAttachment:
        data = content.encode() if isinstance(content, str) else content
        return FakeAttachment(filename, data, content_type or "text/plain")

    # ----------------------------------------------------------------- fault injection

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        code: int = 0,
        message: str = "Injected failure",
        *,
        times: int = 1,
        after_processing: bool = False,
        delay: float = 0.0,
    ) -> Fault:
        """Answer matching requests with `status` / Discord error `code` (404 10003 etc.)."""
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            status,
            code,
            message,
            times,
            delay=delay,
            after_processing=after_processing,
        )
        self.faults.append(fault)
        return fault

    def rate_limit(
        self,
        method: str,
        path_regex: str,
        retry_after: float,
        *,
        times: int = 1,
        via: bool = True,
        global_: bool = False,
        scope: str | None = None,
    ) -> Fault:
        """Answer 429 with `retry_after` (and a Via header unless `via=False`). Discord's own
        429s carry `X-RateLimit-Scope` (`user` unless global); Cloudflare's ban (no Via) carries
        none, unless `scope` says what a rate-limit proxy in between relayed."""
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            429,
            0,
            "You are being rate limited.",
            times,
            retry_after=retry_after,
            via=via,
            global_=global_,
            scope=scope if scope is not None else ("user" if via else None),
        )
        self.faults.append(fault)
        return fault

    def refuse_callbacks(self, code: int, times: int = 1) -> None:
        """The next `times` interaction callbacks are refused as Discord refuses them:
        10062 Unknown interaction (the token is gone: too late, or never valid here) or 40060
        (another process on the same token answered first). The refused interaction stays
        refused: a retry of its callback gets the same code."""
        if code not in (10062, 40060):
            raise ValueError("Discord refuses callbacks with 10062 or 40060")
        self.callback_refusals.extend([code] * times)

    def slow(self, method: str, path_regex: str, delay: float, *, times: int = 1) -> Fault:
        """Answer normally, but only after `delay` seconds (to exercise client timeouts)."""
        fault = Fault(method.upper(), re.compile(path_regex), 0, times=times, delay=delay)
        self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times > 0:
                    fault.times -= 1
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        if fault.status == 429:
            headers = {"Retry-After": str(fault.retry_after or 0)}
            if fault.scope:
                headers["X-RateLimit-Scope"] = fault.scope
            if fault.global_:
                # As Discord marks its bot-wide limit: header and body both say global.
                headers["X-RateLimit-Global"] = "true"
                headers["X-RateLimit-Scope"] = "global"
            if fault.via:
                headers["Via"] = "1.1 google"
            body = {
                "message": fault.message,
                "retry_after": fault.retry_after or 0.0,
                "global": fault.global_,
            }
            return _json(body, 429, headers)
        if fault.status >= 500 and not fault.code:
            return web.Response(status=fault.status, text="upstream error")
        return _error(fault.status, fault.code, fault.message)

    # ----------------------------------------------------------------- waiting on requests

    def mark(self) -> int:
        """An index into `requests`: pass it as `after=` to wait only for newer requests."""
        return len(self.requests)

    def requests_to(self, method: str, path_regex: str, after: int = 0) -> list[RecordedRequest]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests[after:] if r.method == method and pattern.search(r.path)]

    async def wait_for(
        self,
        method: str,
        path_regex: str,
        *,
        after: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """The first recorded request (index >= `after`) matching, waiting until it arrives."""
        found = self.requests_to(method.upper(), path_regex, after)
        if found:
            return found[0]
        pattern = re.compile(path_regex)
        future: asyncio.Future[RecordedRequest] = asyncio.get_running_loop().create_future()

        def predicate(r: RecordedRequest) -> bool:
            return r.method == method.upper() and bool(pattern.search(r.path))

        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _record(self, rec: RecordedRequest) -> None:
        self.requests.append(rec)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(rec):
                future.set_result(rec)

    # ----------------------------------------------------------------- gateway

    async def wait_for_session(
        self,
        kind: str = "identify",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until the next IDENTIFY ("identify") or RESUME ("resume") has been answered."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (kind, future)
        self._session_events.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._session_events:
                self._session_events.remove(entry)

    def _session_event(self, kind: str) -> None:
        for entry in list(self._session_events):
            if entry[0] == kind and not entry[1].done():
                entry[1].set_result(None)
                self._session_events.remove(entry)

    @property
    def connected(self) -> bool:
        return any(s.connection is not None for s in self._sessions.values())

    @property
    def connected_shards(self) -> set[int]:
        """The shard ids with a connected session now."""
        return {s.shard_id for s in self._sessions.values() if s.connection is not None}

    def bucket_of(self, shard_id: int) -> int:
        """The IDENTIFY bucket a shard belongs to."""
        return shard_id % self.max_concurrency

    def identify_gaps(self) -> dict[int, list[float]]:
        """Per bucket, the seconds between consecutive IDENTIFYs (every attempt counted)."""
        times: dict[int, list[float]] = {}
        for record in self.identifies:
            times.setdefault(self.bucket_of(record.shard_id), []).append(record.at)
        return {
            b: [later - earlier for earlier, later in itertools.pairwise(t)]
            for b, t in times.items()
        }

    @staticmethod
    def _target_guild(event: str, data: Mapping[str, Any]) -> str | None:
        if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
            return str(data["id"])
        guild_id = data.get("guild_id")
        return str(guild_id) if guild_id else None

    @staticmethod
    def _carries(session: _Session, guild_id: str | None) -> bool:
        """Whether `session` receives an event of `guild_id` (None: no guild, shard 0 only)."""
        if guild_id is None:
            return session.shard_id == 0
        return shard_of(guild_id, session.shard_count) == session.shard_id

    async def dispatch(self, event: str, data: Mapping[str, Any]) -> None:
        """Send a DISPATCH to the session of the shard that carries it (a guild's shard, or
        shard 0 for events without a guild); a disconnected session gets it on RESUME."""
        target = self._target_guild(event, data)
        for session in list(self._sessions.values()):
            if self._carries(session, target):
                await self._send_event(session, event, data)

    async def _send_event(self, session: _Session, event: str, data: Mapping[str, Any]) -> None:
        session.seq += 1
        payload = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append((session.seq, payload))
        if session.connection is not None:
            await session.connection.send(payload)

    def _shard_connections(self, shard: int | None) -> list[_Connection]:
        """Every connection, or only those of one shard's session."""
        return [
            c
            for c in self._connections
            if shard is None or (c.session is not None and c.session.shard_id == shard)
        ]

    async def request_reconnect(self, shard: int | None = None) -> None:
        """Op 7 RECONNECT: the client must reconnect to resume_gateway_url and RESUME."""
        for conn in self._shard_connections(shard):
            await conn.send({"op": 7, "d": None})

    async def invalidate_session(self, resumable: bool = False, shard: int | None = None) -> None:
        for conn in self._shard_connections(shard):
            await conn.send({"op": 9, "d": resumable})

    async def drop_connections(self, shard: int | None = None) -> None:
        """Close every socket (or one shard's) abruptly (code 4000): the client resumes."""
        for conn in self._shard_connections(shard):
            await conn.ws.close(code=4000, message=b"reset")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        zlib_stream = self.zlib_stream and request.query.get("compress") == "zlib-stream"
        conn = _Connection(ws, zlib_stream)
        self._connections.add(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_gateway_message(conn, request, json.loads(msg.data))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._connections.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
        return ws

    async def _on_gateway_message(
        self, conn: _Connection, request: web.Request, msg: Mapping[str, Any]
    ) -> None:
        op = msg.get("op")
        data = msg.get("d")
        if op == 1:  # HEARTBEAT
            await conn.send({"op": 11})
        elif op == 2:  # IDENTIFY
            if data.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identify_count += 1
            await self._identify(conn, data)
        elif op == 6:  # RESUME
            self.resume_count += 1
            self.resume_urls.append(f"ws://127.0.0.1:{self.port}{request.path}")
            found = self._sessions.get(data.get("session_id", ""))
            if found is None or data.get("token") != self.token:
                await conn.send({"op": 9, "d": False})
                return
            found.connection = conn
            conn.session = found
            last = int(data.get("seq") or 0)
            for seq, payload in found.events:
                if seq > last:
                    await conn.send(payload)
            await self._send_event(found, "RESUMED", {})
            self._session_event("resume")
        # op 3 presence, 4 voice, 8 request members: nothing to answer for Haven.

    async def _identify(self, conn: _Connection, data: Mapping[str, Any]) -> None:
        shard = data.get("shard")
        shard_id, shard_count = (int(shard[0]), int(shard[1])) if shard else (0, 1)
        now = time.monotonic()

        def record(outcome: str) -> None:
            self.identifies.append(
                IdentifyRecord(shard_id, shard_count, now, outcome, sharded=bool(shard))
            )

        if shard_count < 1 or not 0 <= shard_id < shard_count:
            record("invalid_shard")
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        if self.require_sharding and shard_count < self.recommended_shards:
            record("sharding_required")
            await conn.ws.close(code=4011, message=b"Sharding required.")
            return
        bucket = self.bucket_of(shard_id)
        last = max(
            (
                r.at
                for r in self.identifies
                if r.outcome == "ready" and self.bucket_of(r.shard_id) == bucket
            ),
            default=None,
        )
        if last is not None and now - last < self.identify_interval:
            # Discord's answer to an IDENTIFY over the bucket's limit: the session is invalid
            # and may not be resumed.
            record("invalid_session")
            await conn.send({"op": 9, "d": False})
            return
        record("ready")
        session = _Session(uuid.uuid4().hex, shard_id, shard_count)
        # One session per shard, and one shard layout at a time: a new session of a shard (or
        # a new shard count) replaces what was there before.
        self._sessions = {
            sid: s
            for sid, s in self._sessions.items()
            if s.shard_id != shard_id and s.shard_count == shard_count
        }
        self._sessions[session.id] = session
        session.connection = conn
        conn.session = session
        mine = [g for gid, g in self.guilds.items() if self._carries(session, gid)]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "guilds": [{"id": g["id"], "unavailable": True} for g in mine],
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "shard": [shard_id, shard_count],
        }
        await self._send_event(session, "READY", ready)
        for guild in mine:
            # `unavailable: false` marks a guild announced in READY becoming available.
            await self._send_event(session, "GUILD_CREATE", {**guild, "unavailable": False})
        self._session_event("identify")

    # ----------------------------------------------------------------- interactions

    def _member(
        self, user: Mapping[str, Any], permissions: int, roles: Iterable[str]
    ) -> dict[str, Any]:
        return {
            "user": dict(user),
            "roles": [str(r) for r in roles],
            "flags": 0,
            "permissions": str(permissions),
            "joined_at": _now_iso(),
            "deaf": False,
            "mute": False,
            "nick": None,
        }

    def _base_interaction(
        self,
        itype: int,
        *,
        guild: Mapping[str, Any] | None,
        channel_id: str | None,
        user: Mapping[str, Any] | None,
        member_permissions: int,
        roles: Iterable[str],
        locale: str,
    ) -> dict[str, Any]:
        user = dict(user or self.make_user())
        self.users[user["id"]] = user
        payload: dict[str, Any] = {
            "id": snowflake(),
            "application_id": self.application_id,
            "type": itype,
            "token": "itoken-" + uuid.uuid4().hex,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(1024 | 2048 | 16384 | 274877906944),
        }
        if guild is not None:
            known = self.members.setdefault(str(guild["id"]), {})
            if user["id"] not in known:
                self.add_member(guild, user, roles)
            else:
                known[user["id"]]["roles"] = [str(r) for r in roles]
            cid = channel_id or self.channel_id(guild)
            channel = self.channels.get(cid) or next(c for c in guild["channels"] if c["id"] == cid)
            payload.update(
                guild_id=guild["id"],
                guild_locale=guild.get("preferred_locale", "en-US"),
                channel_id=cid,
                channel=channel,
                member=self._member(user, member_permissions, roles),
                context=0,
                authorizing_integration_owners={"0": guild["id"]},
            )
        else:
            dm = self._dm_channel_for(user)
            payload.update(
                channel_id=dm["id"],
                channel=dm,
                user=user,
                context=1,
                # A guild-installed app used in its own DM: no guild owns the integration here.
                authorizing_integration_owners={"0": "0"},
            )
        return payload

    def find_command(self, name: str, guild_id: str | None = None) -> dict[str, Any]:
        """The synced command called `name` (guild commands first, then global)."""
        for cmd in self.guild_commands.get(guild_id or "", []):
            if cmd["name"] == name:
                return cmd
        for cmd in self.global_commands:
            if cmd["name"] == name:
                return cmd
        raise KeyError(f"command {name!r} was never synced")

    def _build_options(
        self,
        schema: Mapping[str, Any],
        path: list[str],
        options: Mapping[str, Any],
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        guild: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        if path:
            sub = next(o for o in schema.get("options", []) if o["name"] == path[0])
            return [
                {
                    "name": sub["name"],
                    "type": sub["type"],
                    "options": self._build_options(
                        sub, path[1:], options, focused, resolved, guild
                    ),
                }
            ]
        specs = {o["name"]: o for o in schema.get("options", [])}
        built = []
        for name, value in options.items():
            spec = specs.get(name)
            if spec is None:
                raise KeyError(f"option {name!r} is not in the synced command {schema['name']!r}")
            otype = spec["type"]
            item: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                item["focused"] = True
                item["value"] = str(value)
            elif otype == ATTACHMENT:
                assert isinstance(value, FakeAttachment)
                aid = snowflake()
                self._attachments[aid] = value
                resolved.setdefault("attachments", {})[aid] = {
                    "id": aid,
                    "filename": value.filename,
                    "size": len(value.content),
                    "url": f"{self.base_url}/attachments/{aid}/{value.filename}",
                    "proxy_url": f"{self.base_url}/attachments/{aid}/{value.filename}",
                    "content_type": value.content_type,
                }
                item["value"] = aid
            elif otype == CHANNEL:
                channel = self.channels[str(value)]
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": channel["id"],
                    "type": channel["type"],
                    "name": channel["name"],
                    "permissions": str(1024 | 2048),
                    "guild_id": channel.get("guild_id"),
                }
                item["value"] = str(value)
            elif otype == ROLE and guild is not None:
                role = next(r for r in guild["roles"] if r["id"] == str(value))
                resolved.setdefault("roles", {})[role["id"]] = role
                item["value"] = str(value)
            elif otype == USER:
                user = self.users[str(value)]
                resolved.setdefault("users", {})[user["id"]] = user
                item["value"] = str(value)
            elif otype in (INTEGER,):
                item["value"] = int(value)
            elif otype == NUMBER:
                item["value"] = float(value)
            elif otype == BOOLEAN:
                item["value"] = bool(value)
            else:
                item["value"] = str(value)
            built.append(item)
        return built

    async def _send_interaction(self, payload: dict[str, Any]) -> InteractionHandle:
        handle = InteractionHandle(self, payload)
        self.interactions[handle.id] = handle
        await self.dispatch("INTERACTION_CREATE", payload)
        return handle

    async def dispatch_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        guild: Mapping[str, Any] | None = None,
        channel_id: str | None = None,
        user: Mapping[str, Any] | None = None,
        member_permissions: int = 0,
        roles: Iterable[str] = (),
        locale: str = "en-US",
        focused: str | None = None,
    ) -> InteractionHandle:
        """Run a slash command as a member would. `name` may be a path ("support-admin message
        add"); option types come from the synced schema. guild=None runs it in the bot's DM."""
        top, *path = name.split()
        schema = self.find_command(top, guild["id"] if guild else None)
        itype = 4 if focused else 2
        payload = self._base_interaction(
            itype,
            guild=guild,
            channel_id=channel_id,
            user=user,
            member_permissions=member_permissions,
            roles=roles,
            locale=locale,
        )
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {
            "id": schema["id"],
            "name": top,
            "type": 1,
            "options": self._build_options(schema, path, options or {}, focused, resolved, guild),
        }
        if schema.get("guild_id"):
            data["guild_id"] = schema["guild_id"]
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        return await self._send_interaction(payload)

    async def dispatch_autocomplete(
        self, name: str, options: Mapping[str, Any], focused: str, **kwargs: Any
    ) -> InteractionHandle:
        """An autocomplete request (type 4) with `focused` being typed."""
        return await self.dispatch_command(name, options, focused=focused, **kwargs)

    async def dispatch_component(
        self,
        message: Mapping[str, Any],
        custom_id: str,
        *,
        values: Iterable[str] | None = None,
        guild: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        member_permissions: int = 0,
        roles: Iterable[str] = (),
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Press a button (or choose `values` in a select) on `message`, which must carry a
        component with `custom_id` (so a test cannot press what the bot never sent)."""
        component = _find_component(message.get("components", []), custom_id)
        if component is None:
            raise KeyError(f"no component {custom_id!r} on the message")
        payload = self._base_interaction(
            3,
            guild=guild,
            channel_id=message.get("channel_id") if guild else None,
            user=user,
            member_permissions=member_permissions,
            roles=roles,
            locale=locale,
        )
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            allowed = {o["value"] for o in component.get("options", [])}
            chosen = list(values)
            if component["type"] == 3 and not set(chosen) <= allowed:
                raise ValueError(f"{chosen} are not options of {custom_id!r}")
            data["values"] = chosen
        payload["data"] = data
        payload["message"] = dict(message)
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        opened_by: InteractionHandle,
        values: Mapping[str, str],
        *,
        guild: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        member_permissions: int = 0,
        roles: Iterable[str] = (),
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Submit the modal the bot opened in answer to `opened_by`, filling fields by
        custom_id (unfilled fields are sent empty, as Discord does)."""
        body = opened_by.callback_body
        if body is None or body.get("type") != 9:
            raise AssertionError(f"the bot did not open a modal: {body!r}")
        modal = body["data"]
        payload = self._base_interaction(
            5,
            guild=guild,
            channel_id=opened_by.payload.get("channel_id") if guild else None,
            user=user or _payload_user(opened_by.payload),
            member_permissions=member_permissions,
            roles=roles,
            locale=locale,
        )
        unknown = set(values) - set(_text_input_ids(modal["components"]))
        if unknown:
            raise KeyError(f"the modal has no fields {sorted(unknown)}")
        payload["data"] = {
            "custom_id": modal["custom_id"],
            "components": _fill_modal(modal["components"], values),
        }
        return await self._send_interaction(payload)

    # ----------------------------------------------------------------- REST

    async def _attachment(self, request: web.Request) -> web.Response:
        found = self._attachments.get(request.match_info["aid"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found.content, content_type=found.content_type)

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, bytes]]:
        if request.content_type == "multipart/form-data":
            form = await request.post()
            files: dict[str, bytes] = {}
            body: Any = None
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(str(value))
                elif hasattr(value, "file"):
                    files[getattr(value, "filename", key) or key] = value.file.read()
            return body, files
        raw = await request.read()
        if not raw:
            return None, {}
        return json.loads(raw), {}

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        rec = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
        )
        refusal = self._over_global_budget(path, request)
        if refusal is not None:
            rec.status = refusal.status
            self._record(rec)
            return refusal
        fault = self._take_fault(request.method, path)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        try:
            if fault is not None and fault.status and not fault.after_processing:
                response: web.Response = self._fault_response(fault)
            else:
                response = await self._route(request.method, path, request, body, files)
                if fault is not None and fault.status and fault.after_processing:
                    response = self._fault_response(fault)
        except _Reject as reject:
            response = reject.response
        rec.status = response.status
        self._record(rec)
        return response

    def _over_global_budget(self, path: str, request: web.Request) -> web.Response | None:
        """A global 429 when this request would pass `global_rate_limit` in the last second
        (a sliding window, so no 1-second window anywhere serves more); None serves it."""
        if self.global_rate_limit is None or _budget_exempt(path):
            return None
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return None  # answered 401 by the route; not this token's budget
        now = time.monotonic()
        window = [t for t in self.served_at[-self.global_rate_limit :] if now - t < 1.0]
        if len(window) < self.global_rate_limit:
            self.served_at.append(now)
            return None
        self.global_refusals += 1
        retry_after = round(max(window[0] + 1.0 - now, 0.001), 3)
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
            # Discord's 429s come through Google's front end; discord.py reads a 429 without
            # Via as a Cloudflare ban and raises instead of waiting.
            "Via": "1.1 google",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": True,
        }
        return _json(body, 429, headers)

    def busiest_second(self) -> int:
        """The most budgeted requests served within any 1-second window."""
        times = sorted(self.served_at)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def per_second_counts(self) -> dict[int, int]:
        """Budgeted requests served per whole second since the first (0, 1, 2, ...)."""
        if not self.served_at:
            return {}
        first = self.served_at[0]
        counts: dict[int, int] = {}
        for at in self.served_at:
            key = int(at - first)
            counts[key] = counts.get(key, 0) + 1
        return counts

    async def _route(
        self, method: str, path: str, request: web.Request, body: Any, files: dict[str, bytes]
    ) -> web.Response:
        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m and method == "POST":
            return self._interaction_callback(m[1], m[2], request, body, files)
        m = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/(@original|\d+))?", path)
        if m:
            return self._webhook(method, m[2], m[4], request, body, files)
        # Everything else is bot-authenticated.
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        if path == "/users/@me" and method == "GET":
            return _json(self.bot_user)
        if path == "/oauth2/applications/@me" and method == "GET":
            return _json(self._app_info())
        if path == "/gateway" or path == "/gateway/bot":
            return _json(
                {
                    "url": self.advertised_gateway_url or self.gateway_url,
                    "shards": self.recommended_shards,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": max(1000 - self.identify_count, 0),
                        "reset_after": 0,
                        "max_concurrency": self.max_concurrency,
                    },
                }
            )
        m = re.fullmatch(r"/applications/(\d+)(/guilds/(\d+))?/commands", path)
        if m:
            return self._commands(method, m[3], body)
        if path == "/users/@me/channels" and method == "POST":
            user = self.users.get(str(body["recipient_id"])) or self.make_user(
                "user", str(body["recipient_id"])
            )
            return _json(self._dm_channel_for(user))
        m = re.fullmatch(r"/channels/(\d+)", path)
        if m and method == "GET":
            channel = self.channels.get(m[1]) or self._dm_by_id(m[1])
            if channel is None:
                return _error(404, 10003, "Unknown Channel")
            return _json(channel)
        m = re.fullmatch(r"/channels/(\d+)/messages", path)
        if m and method == "POST":
            return self._create_message(m[1], body, files)
        m = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
        if m and method == "PATCH":
            return self._edit_message(m[1], m[2], body)
        m = re.fullmatch(r"/guilds/(\d+)/members/(\d+)", path)
        if m and method == "GET":
            if m[1] not in self.guilds:
                return _error(404, 10004, "Unknown Guild")
            member = self.members.get(m[1], {}).get(m[2])
            if member is None:
                return _error(404, 10007, "Unknown Member")
            return _json(member)
        return _error(404, 0, f"404: Not Found ({method} {path} is not emulated)")

    def _app_info(self) -> dict[str, Any]:
        return {
            "id": self.application_id,
            "name": "Haven",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.owner_user,
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    def _commands(self, method: str, guild_id: str | None, body: Any) -> web.Response:
        store = self.guild_commands.setdefault(guild_id, []) if guild_id else self.global_commands
        if method == "GET":
            return _json(store)
        if method != "PUT":
            return _error(405, 0, "405: Method Not Allowed")
        if self.validate:
            problems = [p for cmd in body for p in validate_command(cmd)]
            if problems:
                return _error(400, 50035, "Invalid Form Body", problems)
        stored = []
        for cmd in body:
            out = {
                **cmd,
                "id": snowflake(),
                "application_id": self.application_id,
                "version": snowflake(),
            }
            if cmd.get("default_member_permissions") is not None:
                # Discord answers permission bitsets as strings even though it accepts ints.
                out["default_member_permissions"] = str(cmd["default_member_permissions"])
            if guild_id:
                out["guild_id"] = guild_id
            stored.append(out)
        store[:] = stored
        return _json(stored)

    def _dm_channel_for(self, user: Mapping[str, Any]) -> dict[str, Any]:
        uid = str(user["id"])
        channel = self.dm_channels.get(uid)
        if channel is None:
            channel = {
                "id": snowflake(),
                "type": 1,
                "recipients": [dict(user)],
                "last_message_id": None,
            }
            self.dm_channels[uid] = channel
            self.messages.setdefault(channel["id"], [])
        return channel

    def _dm_by_id(self, channel_id: str) -> dict[str, Any] | None:
        return next((c for c in self.dm_channels.values() if c["id"] == channel_id), None)

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        channel = self.dm_channels.get(str(user_id))
        return self.messages.get(channel["id"], []) if channel else []

    def _message(self, channel_id: str, body: Mapping[str, Any], flags: int = 0) -> dict[str, Any]:
        return {
            "id": snowflake(),
            "channel_id": channel_id,
            "type": 0,
            "content": body.get("content") or "",
            "author": self.bot_user,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": flags | int(body.get("flags") or 0),
            "nonce": body.get("nonce"),
        }

    def _create_message(self, channel_id: str, body: Any, files: dict[str, bytes]) -> web.Response:
        dm_user = next((uid for uid, c in self.dm_channels.items() if c["id"] == channel_id), None)
        if channel_id not in self.channels and dm_user is None:
            return _error(404, 10003, "Unknown Channel")
        if dm_user is not None and (self.dms_closed_for_everyone or dm_user in self.dms_closed):
            return _error(403, 50007, "Cannot send messages to this user")
        self._check_message(body)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            return _error(400, 50035, "Invalid Form Body", ["nonce: must be 25 or fewer"])
        key = (channel_id, self.bot_user["id"], str(nonce))
        if nonce is not None and body.get("enforce_nonce") and key in self._nonces:
            # Discord returns the message already created with this nonce, creating nothing.
            return _json(self._nonces[key])
        message = self._message(channel_id, body)
        message["allowed_mentions"] = body.get("allowed_mentions")
        message["files"] = sorted(files)
        self.messages.setdefault(channel_id, []).append(message)
        if nonce is not None:
            self._nonces[key] = message
        return _json(message)

    def _edit_message(self, channel_id: str, message_id: str, body: Any) -> web.Response:
        """PATCH a message the bot posted: the fields given replace the stored ones."""
        found = next((m for m in self.messages.get(channel_id, []) if m["id"] == message_id), None)
        if found is None:
            return _error(404, 10008, "Unknown Message")
        self._check_message(body)
        for key in ("content", "embeds", "components"):
            if key in (body or {}):
                found[key] = body[key] or ([] if key != "content" else "")
        found["edited_timestamp"] = _now_iso()
        self.edits.append((channel_id, message_id))
        return _json(found)

    def _check_message(self, body: Any) -> None:
        if self.validate:
            problems = validate_message(body or {})
            if problems:
                raise _Reject(_error(400, 50035, "Invalid Form Body", problems))

    def _interaction_callback(
        self, iid: str, token: str, request: web.Request, body: Any, files: dict[str, bytes]
    ) -> web.Response:
        handle = self.interactions.get(iid)
        if handle is None or handle.token != token:
            return _error(404, 10062, "Unknown interaction")
        if handle.refused_with is None and handle.callback_body is None and self.callback_refusals:
            handle.refused_with = self.callback_refusals.pop(0)
        if handle.refused_with is not None:
            handle.refusals += 1
            handle._notify()
            if handle.refused_with == 40060:
                return _error(400, 40060, "Interaction has already been acknowledged.")
            return _error(404, 10062, "Unknown interaction")
        if handle.callback_body is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - handle.dispatched_at > self.response_deadline:
            return _error(404, 10062, "Unknown interaction")
        ctype = int(body["type"])
        data = body.get("data") or {}
        if self.validate:
            problems: list[str] = []
            if ctype in (4, 7):
                problems = validate_message(data)
            elif ctype == 8:
                problems = validate_choices(data.get("choices", []))
            elif ctype == 9:
                problems = validate_modal(data)
            if problems:
                return _error(400, 50035, "Invalid Form Body", problems)
        channel_id = str(handle.payload.get("channel_id", ""))
        resource: dict[str, Any] = {"type": ctype}
        if ctype in (4, 5):
            handle.message = self._message(channel_id, data)
            handle.message["files"] = sorted(files)
            handle.message["interaction_id"] = iid
            resource["message"] = handle.message
        elif ctype == 7:
            base = dict(handle.payload.get("message") or self._message(channel_id, {}))
            base.update(
                {k: v for k, v in data.items() if k in ("content", "embeds", "components", "flags")}
            )
            handle.message = base
            resource["message"] = base
        handle._answer(body, files)
        interaction = {
            "id": iid,
            "type": handle.payload["type"],
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        if handle.message is not None:
            interaction["response_message_id"] = handle.message["id"]
        return _json({"interaction": interaction, "resource": resource})

    def _webhook(
        self,
        method: str,
        token: str,
        message_ref: str | None,
        request: web.Request,
        body: Any,
        files: dict[str, bytes],
    ) -> web.Response:
        handle = next((h for h in self.interactions.values() if h.token == token), None)
        if handle is None or handle.callback_body is None:
            return _error(404, 10015, "Unknown Webhook")
        channel_id = str(handle.payload.get("channel_id", ""))
        if message_ref is None and method == "POST":
            self._check_message(body)
            message = self._message(channel_id, body or {})
            message["files"] = sorted(files)
            handle.followups.append(message)
            handle.followup_files.append(files)
            handle._notify()
            if request.query.get("wait") in ("1", "true", "True"):
                return _json(message)
            return web.Response(status=204)
        if message_ref is None:
            return _error(405, 0, "405: Method Not Allowed")
        target = (
            handle.message
            if message_ref == "@original"
            else next((m for m in handle.followups if m["id"] == message_ref), None)
        )
        if target is None:
            return _error(404, 10008, "Unknown Message")
        if method == "GET":
            return _json(target)
        if method == "PATCH":
            self._check_message(body)
            target.update(
                {
                    k: v
                    for k, v in (body or {}).items()
                    if k in ("content", "embeds", "components", "flags")
                }
            )
            target["edited_timestamp"] = _now_iso()
            handle.edits.append(dict(body or {}))
            handle._notify()
            return _json(target)
        if method == "DELETE":
            return web.Response(status=204)
        return _error(405, 0, "405: Method Not Allowed")


_EXEMPT_ROUTES = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/)")


def _budget_exempt(path: str) -> bool:
    """Interaction callbacks and webhook follow-ups are outside the bot's global limit."""
    return bool(_EXEMPT_ROUTES.match(path))


class _Reject(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _payload_user(payload: Mapping[str, Any]) -> dict[str, Any]:
    return dict(payload.get("member", {}).get("user") or payload.get("user") or {})


def _find_component(
    components: Iterable[Mapping[str, Any]], custom_id: str
) -> Mapping[str, Any] | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        for key in ("components",):
            found = _find_component(component.get(key, []), custom_id)
            if found is not None:
                return found
        child = component.get("component")
        if isinstance(child, Mapping) and child.get("custom_id") == custom_id:
            return child
    return None


def _text_input_ids(components: Iterable[Mapping[str, Any]]) -> list[str]:
    ids = []
    for component in components:
        if component.get("type") == 4:
            ids.append(component["custom_id"])
        ids.extend(_text_input_ids(component.get("components", [])))
        child = component.get("component")
        if isinstance(child, Mapping):
            ids.extend(_text_input_ids([child]))
    return ids


def _fill_modal(
    components: Iterable[Mapping[str, Any]], values: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The modal-submit shape of the modal's components: action rows keep `components`,
    labels (type 18) keep `component`; text inputs carry their value."""
    out = []
    for component in components:
        ctype = component.get("type")
        if ctype == 4:
            out.append(
                {
                    "type": 4,
                    "custom_id": component["custom_id"],
                    "value": values.get(component["custom_id"], component.get("value") or ""),
                }
            )
        elif ctype == 18:
            inner = _fill_modal([component["component"]], values)
            out.append({"type": 18, "id": component.get("id", 0), "component": inner[0]})
        elif ctype == 1:
            out.append({"type": 1, "components": _fill_modal(component["components"], values)})
    return out


# --------------------------------------------------------------------- Discord's shape limits


def validate_message(body: Mapping[str, Any]) -> list[str]:
    """Problems Discord would answer 400 / 50035 for, in a message or interaction response."""
    problems: list[str] = []
    content = body.get("content") or ""
    if len(content) > CONTENT_MAX:
        problems.append(f"content: {len(content)} > {CONTENT_MAX}")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"embeds: {len(embeds)} > {EMBEDS_MAX}")
    total = 0
    for i, embed in enumerate(embeds):
        title = embed.get("title") or ""
        description = embed.get("description") or ""
        fields = embed.get("fields") or []
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        checks = [
            ("title", title, EMBED_TITLE_MAX),
            ("description", description, EMBED_DESCRIPTION_MAX),
            ("footer.text", footer, EMBED_FOOTER_MAX),
            ("author.name", author, EMBED_AUTHOR_MAX),
        ]
        for name, value, limit in checks:
            if len(value.strip()) > limit:
                problems.append(f"embeds[{i}].{name}: {len(value)} > {limit}")
        if len(fields) > EMBED_FIELDS_MAX:
            problems.append(f"embeds[{i}].fields: {len(fields)} > {EMBED_FIELDS_MAX}")
        for j, fld in enumerate(fields):
            if not (fld.get("name") or "").strip() or not (fld.get("value") or "").strip():
                problems.append(f"embeds[{i}].fields[{j}]: name and value are required")
            if len(fld.get("name") or "") > EMBED_FIELD_NAME_MAX:
                problems.append(f"embeds[{i}].fields[{j}].name > {EMBED_FIELD_NAME_MAX}")
            if len(fld.get("value") or "") > EMBED_FIELD_VALUE_MAX:
                problems.append(f"embeds[{i}].fields[{j}].value > {EMBED_FIELD_VALUE_MAX}")
            total += len((fld.get("name") or "").strip()) + len((fld.get("value") or "").strip())
        total += len(title.strip()) + len(description.strip()) + len(footer.strip())
        total += len(author.strip())
        url = embed.get("url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            problems.append(f"embeds[{i}].url: not a URL")
    if total > EMBED_TOTAL_MAX:
        problems.append(f"embeds: {total} characters > {EMBED_TOTAL_MAX}")
    problems.extend(validate_components(body.get("components") or []))
    return problems


def validate_components(rows: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(rows) > ROWS_MAX:
        problems.append(f"components: {len(rows)} rows > {ROWS_MAX}")
    custom_ids: set[str] = set()
    for r, row in enumerate(rows):
        if row.get("type") != 1:
            problems.append(f"components[{r}]: top level must be action rows")
            continue
        children = row.get("components") or []
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if not children or len(children) > 5 or (selects and len(children) > 1):
            problems.append(f"components[{r}]: 1-5 buttons or exactly one select")
        for c, comp in enumerate(children):
            where = f"components[{r}][{c}]"
            cid = comp.get("custom_id")
            if cid is not None:
                if not 1 <= len(cid) <= CUSTOM_ID_MAX:
                    problems.append(f"{where}.custom_id: length {len(cid)}")
                if cid in custom_ids:
                    problems.append(f"{where}.custom_id: duplicate {cid!r}")
                custom_ids.add(cid)
            if comp.get("type") == 2:
                label = comp.get("label") or ""
                if not label.strip() and not comp.get("emoji"):
                    problems.append(f"{where}: a button needs a label or an emoji")
                if len(label) > BUTTON_LABEL_MAX:
                    problems.append(f"{where}.label: {len(label)} > {BUTTON_LABEL_MAX}")
                if comp.get("style") == 5:
                    url = comp.get("url") or ""
                    if cid is not None or not url:
                        problems.append(f"{where}: a link button has a url and no custom_id")
                    if len(url) > LINK_URL_MAX:
                        problems.append(f"{where}.url: {len(url)} > {LINK_URL_MAX}")
                elif cid is None:
                    problems.append(f"{where}: a non-link button needs a custom_id")
            if comp.get("type") == 3:
                options = comp.get("options") or []
                if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
                    problems.append(f"{where}.options: {len(options)} not in 1..25")
                values = [o.get("value") for o in options]
                if len(set(values)) != len(values):
                    problems.append(f"{where}.options: duplicate values")
                for o in options:
                    if not (o.get("label") or "").strip() or not o.get("value"):
                        problems.append(f"{where}.options: label and value are required")
                    for key in ("label", "value", "description"):
                        if len(o.get(key) or "") > SELECT_TEXT_MAX:
                            problems.append(f"{where}.options.{key} > {SELECT_TEXT_MAX}")
                if len(comp.get("placeholder") or "") > PLACEHOLDER_MAX:
                    problems.append(f"{where}.placeholder > {PLACEHOLDER_MAX}")
    return problems


def validate_choices(choices: list[Mapping[str, Any]]) -> list[str]:
    problems = []
    if len(choices) > CHOICES_MAX:
        problems.append(f"choices: {len(choices)} > {CHOICES_MAX}")
    for choice in choices:
        if not 1 <= len(str(choice.get("name", ""))) <= 100:
            problems.append(f"choice name {choice.get('name')!r}: length not in 1..100")
        if len(str(choice.get("value", ""))) > 100:
            problems.append(f"choice value {choice.get('value')!r} > 100")
    return problems


def validate_modal(data: Mapping[str, Any]) -> list[str]:
    problems = []
    title = data.get("title") or ""
    if not 1 <= len(title) <= MODAL_TITLE_MAX:
        problems.append(f"title: length {len(title)} not in 1..{MODAL_TITLE_MAX}")
    cid = data.get("custom_id") or ""
    if not 1 <= len(cid) <= CUSTOM_ID_MAX:
        problems.append(f"custom_id: length {len(cid)}")
    components = data.get("components") or []
    if not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        problems.append(f"components: {len(components)} not in 1..{MODAL_COMPONENTS_MAX}")
    for component in components:
        label = component.get("label") or ""
        inner = component.get("component") if component.get("type") == 18 else None
        if inner is None and component.get("type") == 1:
            inner = (component.get("components") or [{}])[0]
            label = inner.get("label") or ""
        if len(label) > LABEL_MAX:
            problems.append(f"label {label!r}: > {LABEL_MAX}")
        if inner is not None and inner.get("type") == 4:
            if int(inner.get("max_length") or TEXT_INPUT_MAX) > TEXT_INPUT_MAX:
                problems.append(f"{inner.get('custom_id')}.max_length > {TEXT_INPUT_MAX}")
            if len(inner.get("value") or "") > TEXT_INPUT_MAX:
                problems.append(f"{inner.get('custom_id')}.value > {TEXT_INPUT_MAX}")
            if len(inner.get("placeholder") or "") > SELECT_TEXT_MAX:
                problems.append(f"{inner.get('custom_id')}.placeholder > {SELECT_TEXT_MAX}")
    return problems


def command_size(cmd: Mapping[str, Any]) -> int:
    """Discord's combined-length count for one command: names, descriptions and choice
    names/values, recursively (the 8000-character limit)."""
    total = len(cmd.get("name", "")) + len(cmd.get("description", ""))
    for choice in cmd.get("choices") or []:
        total += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    for option in cmd.get("options") or []:
        total += command_size(option)
    return total


def validate_command(cmd: Mapping[str, Any], top: bool = True) -> list[str]:
    problems = []
    name = cmd.get("name", "")
    if not COMMAND_NAME_RE.match(name) or name != name.lower():
        problems.append(f"name {name!r}: must be 1-32 lowercase characters")
    description = cmd.get("description", "")
    if cmd.get("type", 1) == 1 and not 1 <= len(description) <= COMMAND_DESCRIPTION_MAX:
        problems.append(f"{name}.description: length {len(description)} not in 1..100")
    for tag, localised in (cmd.get("name_localizations") or {}).items():
        if tag not in DISCORD_LOCALES:
            problems.append(f"{name}.name_localizations: {tag!r} is not a Discord locale")
        if not COMMAND_NAME_RE.match(localised) or localised != localised.lower():
            problems.append(f"{name}.name_localizations[{tag}]: {localised!r} is not a name")
    for tag, localised in (cmd.get("description_localizations") or {}).items():
        if tag not in DISCORD_LOCALES:
            problems.append(f"{name}.description_localizations: {tag!r} is not a Discord locale")
        if not 1 <= len(localised) <= COMMAND_DESCRIPTION_MAX:
            problems.append(f"{name}.description_localizations[{tag}]: length {len(localised)}")
    options = cmd.get("options") or []
    if len(options) > COMMAND_OPTIONS_MAX:
        problems.append(f"{name}.options: {len(options)} > {COMMAND_OPTIONS_MAX}")
    seen_optional = False
    for option in options:
        if option.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if option.get("required"):
                if seen_optional:
                    problems.append(f"{name}.{option['name']}: required after optional")
            else:
                seen_optional = True
        problems.extend(validate_command(option, top=False))
    if len(cmd.get("choices") or []) > CHOICES_MAX:
        problems.append(f"{name}.choices > {CHOICES_MAX}")
    if top and command_size(cmd) > COMMAND_TOTAL_MAX:
        problems.append(f"{name}: {command_size(cmd)} characters > {COMMAND_TOTAL_MAX}")
    return problems
