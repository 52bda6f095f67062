"""A loopback Slack emulator: the Web API, response_url endpoints and Socket Mode, on 127.0.0.1:0.

The real Bolt `AsyncApp` and `AsyncSocketModeHandler` run against it unchanged: point an
`AsyncWebClient(base_url=fake.api_url)` at it. Everything the app sends is recorded (method,
arguments, headers), and faults can be injected per method: `ok:false` errors, 429 with
Retry-After, 5xx. Anything not emulated answers `ok:false, error:unknown_method` so a missing
piece shows up as a clear failure rather than a hang.

Several workspaces: `issue_code(team)` stands for a person approving the install on
slack.com; `oauth.v2.access` turns that code (once) into the team's own bot token. auth.test
answers for whichever token it is given, and a token of one team acting on another team's
channel or user is refused as Slack does (`channel_not_found`, `user_not_found`). Any token
the emulator did not issue belongs to the default team (the single SLACK_BOT_TOKEN tests).
`uninstall(team)` revokes the team's tokens; `deliver_event` signs and posts an Events API
body to the app, as Slack does (with X-Slack-Retry-Num for a retry).

Shapes follow what Bolt 1.30 and slack_sdk 3.48 were observed to send and expect.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

TEAM_ID = "T0HAVEN"
TEAM_DOMAIN = "haven-test"
BOT_USER_ID = "UHAVENBOT"
BOT_ID = "BHAVENBOT"
APP_ID = "AHAVEN"
# Slack allows five uses of one response_url, within 30 minutes (seen in secondary sources only).
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator received it."""

    method: str
    args: dict[str, Any]
    headers: Mapping[str, str]
    http_verb: str

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """`blocks` whether sent as JSON (a list) or form-encoded (a JSON string)."""
        raw = self.args.get("blocks")
        if isinstance(raw, str):
            parsed: list[dict[str, Any]] = json.loads(raw)
            return parsed
        return list(raw or [])


@dataclass
class Installed:
    """One workspace's installation of the app, as Slack holds it."""

    team_id: str
    team_name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(frozen=True)
class ResponsePost:
    """One POST the app made to a response_url."""

    url: str
    body: dict[str, Any]


@dataclass
class Fault:
    """What to answer instead of success, for the next `times` matching calls (-1: forever)."""

    error: str | None = None
    status: int = 200
    retry_after: float | None = None
    times: int = 1
    match: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class _SocketConnection:
    ws: web.WebSocketResponse
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class FakeSlack:
    """Start with `async with FakeSlack() as fake:`; `fake.api_url` is the Web API base."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.response_posts: list[ResponsePost] = []
        self.uploads: dict[str, bytes] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.user_locales: dict[str, str] = {}
        # How many users.info calls asked for a locale (the cache keeps this small).
        self.locale_lookups = 0
        self.usergroups: dict[str, list[str]] = {}
        # group id -> {id, handle, name, ...} as usergroups.list returns them.
        self.usergroup_info: dict[str, dict[str, Any]] = {}
        # Channels Slack knows about; DMs are added by conversations.open.
        self.channels: dict[str, dict[str, Any]] = {}
        # (channel, ts) -> the message as it now reads (chat.postMessage, then chat.update).
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        # Every views.open / views.update, newest last (the view as sent, with its id).
        self.views: list[dict[str, Any]] = []
        self.app_tokens_seen: list[str] = []
        # The OAuth app Haven is (oauth.v2.access checks both).
        self.client_id = "1111.2222"
        self.client_secret = "fake-client-secret"
        # team id -> its installation; token -> team id.
        self.installed: dict[str, Installed] = {}
        self._token_teams: dict[str, str] = {}
        # code -> (team id, team name, scopes), each usable once.
        self._codes: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._response_url_faults: list[Fault] = []
        self._response_url_uses: dict[str, int] = {}
        # When each response_url was issued, on the emulator's clock (`advance` moves it).
        self._response_url_issued: dict[str, float] = {}
        self._time_offset = 0.0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: list[_SocketConnection] = []
        self._pending_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response_url/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for conn in list(self._sockets):
            await conn.ws.close()
        for future in self._pending_acks.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        # The trailing slash matters: slack_sdk joins method names onto it with urljoin.
        return f"{self.base_url}/api/"

    # ---- test set-up -----------------------------------------------------------------------

    def new_response_url(self) -> str:
        url = f"{self.base_url}/response_url/r{next(self._ids)}"
        self._response_url_issued[url] = self.now()
        return url

    def now(self) -> float:
        """The emulator's clock: real time, plus whatever `advance` added."""
        return time.time() + self._time_offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock on (a response_url expires 30 minutes after it is issued)."""
        self._time_offset += seconds

    def add_user(
        self,
        user_id: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        name: str = "",
        tz: str = "Europe/London",
        team_id: str = TEAM_ID,
        locale: str = "en-US",
    ) -> None:
        # Slack gives a user's locale only when users.info is asked with include_locale.
        self.user_locales[user_id] = locale
        self.users[user_id] = {
            "id": user_id,
            "team_id": team_id,
            "name": name or user_id.lower(),
            "real_name": name or user_id,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_bot": False,
            "deleted": False,
            "tz": tz,
            "profile": {"display_name": name or user_id, "real_name": name or user_id},
        }

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
        team_id: str = TEAM_ID,
    ) -> None:
        self.channels[channel_id] = {
            "id": channel_id,
            "context_team_id": team_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_member": is_member,
        }

    def add_usergroup(
        self, group_id: str, members: list[str], *, handle: str = "", name: str = ""
    ) -> None:
        self.usergroups[group_id] = list(members)
        handle = handle or group_id.lower()
        self.usergroup_info[group_id] = {
            "id": group_id,
            "team_id": TEAM_ID,
            "is_usergroup": True,
            "handle": handle,
            "name": name or handle.title(),
            "description": "",
            "date_delete": 0,
            "user_count": len(members),
        }

    # ---- several workspaces ----------------------------------------------------------------

    def issue_code(self, team_id: str, team_name: str = "", *, scopes: tuple[str, ...] = ()) -> str:
        """What Slack puts on the redirect once a person approved the install in `team_id`."""
        code = f"code-{team_id}-{next(self._ids)}"
        self._codes[code] = (team_id, team_name or f"Team {team_id}", scopes)
        return code

    def team_of_token(self, token: str | None) -> str:
        return self._token_teams.get(token or "", TEAM_ID)

    def uninstall(self, team_id: str) -> None:
        """The workspace removed the app: its tokens stop working at once."""
        self.installed[team_id].revoked = True

    def deliver_body(self, body: Mapping[str, Any], signing_secret: str) -> dict[str, str]:
        """The headers Slack signs an Events API body with (`v0:{ts}:{body}`)."""
        raw = json.dumps(body)
        ts = str(int(time.time()))
        digest = hmac.new(
            signing_secret.encode(), f"v0:{ts}:{raw}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        }

    async def deliver_event(
        self,
        url: str,
        signing_secret: str,
        event: Mapping[str, Any],
        *,
        team_id: str = TEAM_ID,
        event_id: str | None = None,
        retry_num: int = 0,
    ) -> int:
        """POST an Events API event to the app as Slack does; the HTTP status it answered."""
        body = self.event_callback(event, team_id=team_id)
        if event_id is not None:
            body["event_id"] = event_id
        headers = self.deliver_body(body, signing_secret)
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=json.dumps(body).encode(), headers=headers) as r:
                return r.status

    def fail(
        self,
        method: str,
        error: str | None = None,
        *,
        status: int = 200,
        retry_after: float | None = None,
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with a fault.

        `error` alone: HTTP 200 `{"ok": false, "error": error}` (channel_not_found, ...).
        `status=429, retry_after=1`: a rate limit with the Retry-After header.
        `status=500` (or any 5xx): a server error with a plain-text body.
        """
        if status == 429 and error is None:
            error = "ratelimited"
        self._faults.setdefault(method, []).append(
            Fault(error=error, status=status, retry_after=retry_after, times=times, match=match)
        )

    def fail_response_url(self, status: int = 404, error: str = "expired_url") -> None:
        self._response_url_faults.append(Fault(error=error, status=status))

    # ---- inspection ------------------------------------------------------------------------

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        """The messages of a channel as they read now, oldest first."""
        return [m for (channel, _), m in sorted(self.messages.items()) if channel == channel_id]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def calls_besides_locale(self) -> list[ApiCall]:
        """Every call but the users.info lookups of a person's language, which /support
        makes (read-only) before it answers."""
        return [
            call
            for call in self.calls
            if not (call.method == "users.info" and "include_locale" in call.args)
        ]

    def methods_called(self) -> list[str]:
        return [call.method for call in self.calls]

    def posts_to(self, url: str) -> list[dict[str, Any]]:
        return [post.body for post in self.response_posts if post.url == url]

    async def wait_for(
        self, predicate: Callable[[], bool], within: float = 5.0, what: str = "condition"
    ) -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {within}s waiting for {what}; "
                f"calls so far: {self.methods_called()}"
            ) from None

    async def wait_for_calls(
        self, method: str, count: int = 1, within: float = 5.0
    ) -> list[ApiCall]:
        await self.wait_for(
            lambda: len(self.calls_to(method)) >= count, within, f"{count} x {method}"
        )
        return self.calls_to(method)

    async def wait_for_posts(
        self, url: str, count: int = 1, within: float = 5.0
    ) -> list[dict[str, Any]]:
        await self.wait_for(
            lambda: len(self.posts_to(url)) >= count, within, f"{count} post(s) to {url}"
        )
        return self.posts_to(url)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- payload builders (the same fields Slack sends, for HTTP and Socket Mode) ------------

    def slash_command(
        self,
        command: str = "/support",
        text: str = "",
        *,
        user_id: str = "U0ASKER",
        channel_id: str = "C0PUBLIC",
        channel_name: str = "general",
        team_id: str = TEAM_ID,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> dict[str, str]:
        return {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or self.new_response_url(),
            "trigger_id": trigger_id or f"trig{next(self._ids)}",
        }

    def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        selected: str | None = None,
        user_id: str = "U0ASKER",
        channel_id: str = "C0PUBLIC",
        team_id: str = TEAM_ID,
        response_url: str | None = None,
        block_id: str = "b",
        message_ts: str | None = None,
    ) -> dict[str, Any]:
        """A click. `message_ts`: on a message the app posted (a DM, an inbox message), which
        Slack sends with the message itself; otherwise on an ephemeral answer."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if selected is not None:
            action["type"] = "static_select"
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": selected},
                "value": selected,
            }
        else:
            action["type"] = "button"
            action["value"] = value or ""
        container: dict[str, Any] = {
            "type": "message",
            "channel_id": channel_id,
            "is_ephemeral": message_ts is None,
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "container": container,
            "trigger_id": f"trig{next(self._ids)}",
            "channel": {
                "id": channel_id,
                "name": "directmessage" if channel_id.startswith("D") else "general",
            },
            "response_url": response_url or self.new_response_url(),
            "actions": [action],
        }
        if message_ts is not None:
            container["message_ts"] = message_ts
            payload["message"] = dict(self.messages.get((channel_id, message_ts)) or {})
        return payload

    def view_submission(
        self,
        callback_id: str,
        values: Mapping[str, Mapping[str, Any]],
        *,
        private_metadata: str = "",
        user_id: str = "U0ASKER",
        team_id: str = TEAM_ID,
        blocks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """`values` is {block_id: {action_id: element state}} exactly as Slack sends it;
        `blocks`: the view's blocks, which Slack sends back with the submission."""
        return {
            "type": "view_submission",
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": f"trig{next(self._ids)}",
            "view": {
                "id": f"V{next(self._ids)}",
                "team_id": team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": {k: dict(v) for k, v in values.items()}},
                "hash": "h",
                "blocks": list(blocks or []),
            },
            "response_urls": [],
        }

    def event_callback(self, event: Mapping[str, Any], *, team_id: str = TEAM_ID) -> dict[str, Any]:
        return {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids)}",
            "event_time": int(time.time()),
        }

    # ---- Web API ---------------------------------------------------------------------------

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            ctype = request.content_type
            if ctype == "application/json":
                args.update(json.loads(raw or b"{}"))
            elif ctype == "application/x-www-form-urlencoded":
                args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
            elif raw:
                args["_raw"] = raw
        return args

    def _take_fault(self, method: str, args: dict[str, Any]) -> Fault | None:
        for fault in self._faults.get(method, []):
            if fault.times == 0:
                continue
            if fault.match is not None and not fault.match(args):
                continue
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None

    @staticmethod
    def _json(
        body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            body=json.dumps(body).encode(),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        call = ApiCall(method, args, dict(request.headers), request.method)
        self.calls.append(call)
        try:
            return self._answer(call)
        finally:
            await self._notify()

    def _answer(self, call: ApiCall) -> web.Response:
        fault = self._take_fault(call.method, call.args)
        if fault is not None:
            if fault.status >= 500:
                return web.Response(status=fault.status, text="upstream connect error")
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return self._json({"ok": False, "error": fault.error}, fault.status, headers)
        if call.method == "apps.connections.open":
            if not (call.token or "").startswith("xapp-"):
                return self._json({"ok": False, "error": "not_allowed_token_type"})
            self.app_tokens_seen.append(call.token or "")
            return self._json({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link?ticket=t"})
        if call.method == "oauth.v2.access":
            return self._json(self._oauth_v2_access(call))
        if not call.token:
            return self._json({"ok": False, "error": "not_authed"})
        team_id = self.team_of_token(call.token)
        installed = self.installed.get(team_id)
        if installed is not None and installed.revoked and call.token in self._token_teams:
            return self._json({"ok": False, "error": "token_revoked"})
        refused = self._other_team(team_id, call.args)
        if refused:
            return self._json({"ok": False, "error": refused})
        if call.method == "auth.test":
            return self._json(self._auth_test_for(team_id))
        handler = getattr(self, "_m_" + call.method.replace(".", "_"), None)
        if handler is None:
            return self._json({"ok": False, "error": "unknown_method"})
        result: dict[str, Any] = handler(call.args)
        return self._json(result)

    def _oauth_v2_access(self, call: ApiCall) -> dict[str, Any]:
        auth = call.headers.get("Authorization", "")
        client_id, client_secret = str(call.args.get("client_id", "")), ""
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_secret = str(call.args.get("client_secret", ""))
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return {"ok": False, "error": "invalid_client_id"}
        found = self._codes.pop(str(call.args.get("code", "")), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, team_name, scopes = found
        token = f"xoxb-{team_id}-{next(self._ids)}"
        self.installed[team_id] = Installed(
            team_id=team_id,
            team_name=team_name,
            bot_token=token,
            bot_user_id=f"U{team_id}BOT",
            bot_id=f"B{team_id}BOT",
            scopes=scopes or ("commands", "chat:write"),
        )
        self._token_teams[token] = team_id
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": f"U{team_id}INSTALLER"},
            "scope": ",".join(self.installed[team_id].scopes),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": f"U{team_id}BOT",
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _other_team(self, team_id: str, args: Mapping[str, Any]) -> str | None:
        """Slack's answer when a token of `team_id` names another team's channel or user."""
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is not None and channel.get("context_team_id", team_id) != team_id:
            return "channel_not_found"
        user = self.users.get(str(args.get("user", "")))
        if user is not None and user.get("team_id") != team_id:
            return "user_not_found"
        return None

    def _auth_test_for(self, team_id: str) -> dict[str, Any]:
        installed = self.installed.get(team_id)
        if installed is None:
            return self._m_auth_test({})
        return {
            "ok": True,
            "url": f"https://{team_id.lower()}.slack.com/",
            "team": installed.team_name,
            "user": "haven",
            "team_id": team_id,
            "user_id": installed.bot_user_id,
            "bot_id": installed.bot_id,
            "is_enterprise_install": False,
        }

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Haven Test",
            "user": "haven",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel_problem(self, channel_id: str, *, posting: bool) -> str | None:
        channel = self.channels.get(channel_id)
        if channel is None:
            return "channel_not_found"
        if posting and channel["is_archived"]:
            return "is_archived"
        if posting and not channel["is_member"]:
            return "not_in_channel"
        return None

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel"))
        problem = self._channel_problem(channel_id, posting=False)
        if problem:
            return {"ok": False, "error": problem}
        return {"ok": True, "channel": dict(self.channels[channel_id])}

    def _stored_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return {"text": args.get("text", ""), "blocks": list(blocks or []), "ts": ts}

    @staticmethod
    def _blocks_problem(args: dict[str, Any]) -> str | None:
        """Slack refuses a message over its limits rather than trimming it: 50 blocks, and
        `msg_blocks_too_long` seen at about 13.2k characters of block text."""
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not blocks:
            return None
        if len(blocks) > 50:
            return "invalid_blocks"
        size = 0

        def walk(node: Any) -> None:
            nonlocal size
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "text" and isinstance(value, str):
                        size += len(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(blocks)
        return "msg_blocks_too_long" if size > 13_200 else None

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel"))
        problem = self._channel_problem(channel_id, posting=True) or self._blocks_problem(args)
        if problem:
            return {"ok": False, "error": problem}
        ts = f"{time.time():.6f}"
        while (channel_id, ts) in self.messages:  # Slack's ts is unique in a channel
            ts = f"{float(ts) + 0.000001:.6f}"
        self.messages[(channel_id, ts)] = self._stored_message(args, ts)
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": ts,
            "message": {
                "type": "message",
                "text": args.get("text", ""),
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": ts,
            },
        }

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """Only the app's own messages, in a channel it can still post in."""
        channel_id, ts = str(args.get("channel")), str(args.get("ts"))
        problem = self._channel_problem(channel_id, posting=True) or self._blocks_problem(args)
        if problem:
            return {"ok": False, "error": problem}
        if (channel_id, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[(channel_id, ts)] = self._stored_message(args, ts)
        return {"ok": True, "channel": channel_id, "ts": ts, "text": args.get("text", "")}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        """Only where the bot is a member: a DM is the bot's only if conversations.open made it
        (its own DM with that person); any other channel must be known and joined."""
        channel_id = str(args.get("channel"))
        channel = self.channels.get(channel_id)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.get("is_im") and channel.get("user") != args.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        if not channel.get("is_member"):
            return {"ok": False, "error": "not_in_channel"}
        if channel.get("is_archived"):
            return {"ok": False, "error": "is_archived"}
        return {"ok": True, "message_ts": f"{time.time():.6f}"}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", "")).split(",")[0]
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        channel_id = "D" + user
        self.channels.setdefault(channel_id, {"id": channel_id, "is_im": True, "user": user})
        self.channels[channel_id].update(is_member=True, is_archived=False)
        return {"ok": True, "channel": {"id": channel_id}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user"))
        user = self.users.get(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if str(args.get("include_locale", "")).lower() in ("1", "true"):
            self.locale_lookups += 1
            return {"ok": True, "user": {**user, "locale": self.user_locales.get(user_id)}}
        return {"ok": True, "user": user}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}

    def _m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        groups = [dict(group) for group in self.usergroup_info.values()]
        if str(args.get("include_users", "")).lower() in ("1", "true"):
            for group in groups:
                group["users"] = list(self.usergroups[group["id"]])
        return {"ok": True, "usergroups": groups}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if "trigger_id" in args and not str(args.get("trigger_id") or "").startswith("trig"):
            return {"ok": False, "error": "invalid_trigger_id"}
        shown = {**(view or {}), "id": f"V{next(self._ids)}"}
        self.views.append(shown)
        return {"ok": True, "view": shown}

    _m_views_open = _view
    _m_views_update = _view
    _m_views_push = _view

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids)}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        return {
            "ok": True,
            "files": [{"id": f["id"], "title": f.get("title", "")} for f in files or []],
        }

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(self.uploads[request.match_info['file_id']])}")

    # ---- response_url ----------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        url = f"{self.base_url}{request.path}"
        try:
            body = await request.json()
        except (json.JSONDecodeError, ValueError):
            body = {"_raw": (await request.read()).decode(errors="replace")}
        self.response_posts.append(ResponsePost(url, body))
        await self._notify()
        if self._response_url_faults:
            fault = self._response_url_faults.pop(0)
            return web.Response(status=fault.status, text=fault.error or "")
        uses = self._response_url_uses.get(url, 0) + 1
        self._response_url_uses[url] = uses
        issued = self._response_url_issued.setdefault(url, self.now())
        if self.now() - issued > RESPONSE_URL_LIFETIME:
            return web.Response(status=404, text="expired_url")
        if uses > RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        return web.Response(text="ok")

    # ---- Socket Mode -----------------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        return sum(1 for conn in self._sockets if not conn.closed.is_set())

    async def wait_for_socket(self, within: float = 5.0) -> None:
        await self.wait_for(lambda: self.socket_connections > 0, within, "a Socket Mode client")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _SocketConnection(ws)
        self._sockets.append(conn)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": self.socket_connections,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                future = self._pending_acks.pop(str(data.get("envelope_id")), None)
                if future is not None and not future.done():
                    future.set_result(data)
        finally:
            conn.closed.set()
            await self._notify()
        return ws

    async def send_envelope(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool = True,
        within: float = 5.0,
    ) -> dict[str, Any]:
        """Send one envelope to the connected client and return its ack message."""
        live = [conn for conn in self._sockets if not conn.closed.is_set()]
        if not live:
            raise AssertionError("no Socket Mode client is connected")
        envelope_id = f"env-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        await live[-1].ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": dict(payload),
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            self._pending_acks.pop(envelope_id, None)
            raise AssertionError(f"no ack for {envelope_type} envelope within {within}s") from None

    async def disconnect_sockets(self) -> None:
        """Ask clients to reconnect, as Slack does every few hours."""
        for conn in self._sockets:
            if not conn.closed.is_set():
                await conn.ws.send_json({"type": "disconnect", "reason": "refresh_requested"})
