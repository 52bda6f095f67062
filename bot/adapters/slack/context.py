"""Slack payloads -> RequestContext, and the facts about a moderator that Slack holds.

Nothing here is stored. For `/support` the context carries what the payload already says
(workspace, channel, the asker's id for the length of the call) and the asker's Slack language
(users.info with include_locale, kept in memory for minutes and never written anywhere). For
`/support-admin` the adapter looks up the facts the core's permission rule needs: workspace
admin/owner (users.info) and membership of the configured user groups
(usergroups.users.list), each cached briefly in memory so a burst of commands costs one lookup.
The same directory looks up user groups (usergroups.list) and members (users.info) for the
moderator settings: it is the Slack side of the core's MemberDirectory port.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.workspaces import (
    OneWorkspace,
    WorkspaceClients,
    WorkspaceNotInstalled,
    team_of_community,
)
from bot.core.models import Actor, Community, Platform, RequestContext, community_id_for
from bot.core.ports import DirectoryUnavailable, Found, MemberRef

log = logging.getLogger(__name__)

# Long enough to absorb a moderator's burst of commands, short enough that a demoted admin
# loses access within a minute.
FACTS_TTL_SECONDS = 60.0
# A lookup must leave room inside Slack's 3-second acknowledgement window.
LOOKUP_TIMEOUT_SECONDS = 1.5
# Bound the caches: never let them grow without limit.
CACHE_MAX_ENTRIES = 2000
# A person's Slack language, asked for /support (users.info with include_locale) and held in
# memory only, for a few minutes at most: a change of language in Slack is seen soon, and a
# burst of answers costs one lookup. Never written anywhere.
LOCALE_TTL_SECONDS = 180.0
# A failed lookup is retried after this, not on every answer (each try can cost the timeout).
LOCALE_FAILURE_TTL_SECONDS = 30.0
# /support looks the locale up before its acknowledgement: leave most of Slack's 3 seconds.
LOCALE_TIMEOUT_SECONDS = 1.0


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace id of any Slack payload (slash command, interaction or event)."""
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    for key in ("team_id", "enterprise_id"):
        if body.get(key):
            return str(body[key])
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    enterprise = body.get("enterprise")
    if isinstance(enterprise, Mapping) and enterprise.get("id"):
        return str(enterprise["id"])
    return "unknown"


def user_of(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, Mapping):
        return str(user.get("id") or "")
    return str(body.get("user_id") or "")


def channel_of(body: Mapping[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, Mapping) and channel.get("id"):
        return str(channel["id"])
    if body.get("channel_id"):
        return str(body["channel_id"])
    container = body.get("container")
    if isinstance(container, Mapping) and container.get("channel_id"):
        return str(container["channel_id"])
    return None


def community_for_team(team_id: str) -> str:
    return community_id_for(Platform.SLACK, team_id)


def is_direct_message(channel_id: str | None, channel_name: str | None = None) -> bool:
    # DM channel ids start with D; Slack also names them "directmessage" in slash payloads.
    return bool(channel_id and channel_id.startswith("D")) or channel_name == "directmessage"


def request_context(body: Mapping[str, Any], actor: Actor | None = None) -> RequestContext:
    """The neutral context of a payload. `actor` carries admin facts when they were looked up."""
    channel_id = channel_of(body)
    return RequestContext(
        community_id=community_for_team(team_of(body)),
        platform=Platform.SLACK,
        actor=actor or Actor(id=user_of(body)),
        locale=None,
        in_direct_message=is_direct_message(channel_id, body.get("channel_name")),
        channel_id=channel_id,
    )


@dataclass(frozen=True, slots=True)
class _Cached:
    value: Any
    expires: float


class TtlCache:
    """A small in-memory cache whose entries are gone once their time is up, read or not.

    It holds user ids (a person's locale, a moderator's facts), so "cached for 3 minutes" must
    mean the id leaves memory after 3 minutes: every get and put first drops what has expired,
    in expiry order (a heap), so the sweep costs only the entries it removes.
    """

    def __init__(self, clock: Callable[[], float], max_entries: int = CACHE_MAX_ENTRIES) -> None:
        self._clock = clock
        self._max = max_entries
        self._items: dict[str, _Cached] = {}
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        self._sweep(self._clock())
        return len(self._items)

    def _sweep(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            expires, key = heapq.heappop(self._expiries)
            item = self._items.get(key)
            if item is not None and item.expires == expires:
                del self._items[key]

    def get(self, key: str) -> Any | None:
        self._sweep(self._clock())
        item = self._items.get(key)
        return item.value if item is not None else None

    def put(self, key: str, value: Any, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        if key not in self._items and len(self._items) >= self._max:
            # Full of live entries: start again rather than grow (a look-up is only a REST call).
            self._items.clear()
            self._expiries.clear()
        expires = now + ttl
        self._items[key] = _Cached(value, expires)
        heapq.heappush(self._expiries, (expires, key))

    def drop(self, key: str) -> None:
        self._items.pop(key, None)


@dataclass(frozen=True, slots=True)
class _UserFacts:
    is_admin: bool
    display_name: str


# users.info answers these for an id that is no member of this workspace.
_NO_SUCH_USER = ("user_not_found", "user_not_visible", "users_not_found")
# usergroups.list on a workspace without user groups (they need a paid plan).
_NO_USER_GROUPS = ("paid_teams_only", "paid_only", "plan_upgrade_required")
_LOOKUP_ERRORS = (SlackApiError, SlackClientError, TimeoutError, OSError, WorkspaceNotInstalled)


class SlackDirectory:
    """Looks up a moderator's admin status and user groups, briefly cached.

    A failed lookup counts as "not an admin, in no group": the core then refuses unless the user
    is listed by id, which is the safe side of a Slack outage.

    For the moderator settings (`roles`, `users`) a failed lookup raises DirectoryUnavailable
    instead, so nothing is saved that was not checked. A user group is found by its id or by its
    handle or name (case-insensitive, without '@'); a person only by id (users.info): Slack has
    no lookup by name short of listing every user.
    """

    platform = Platform.SLACK
    verifies = True
    finds_users_by_name = False

    def __init__(
        self,
        clients: AsyncWebClient | WorkspaceClients,
        *,
        ttl: float = FACTS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Each workspace's own token; caches are keyed by workspace and id.
        self._clients: WorkspaceClients = (
            OneWorkspace(clients) if isinstance(clients, AsyncWebClient) else clients
        )
        self._ttl = ttl
        self._users = TtlCache(clock)
        self._locales = TtlCache(clock)
        self._groups = TtlCache(clock)
        self._group_list = TtlCache(clock)

    async def actor(self, user_id: str, groups: Sequence[str] = (), *, team_id: str = "") -> Actor:
        facts, members = await asyncio.gather(
            self._user_facts(team_id, user_id), self._group_members(team_id, groups)
        )
        return Actor(
            id=user_id,
            display_name=facts.display_name,
            has_admin_permission=facts.is_admin,
            role_ids=tuple(group for group in groups if user_id in members.get(group, ())),
        )

    async def locale(self, team_id: str, user_id: str) -> str | None:
        """The person's Slack locale ("fr-FR"), or None when Slack does not say. Memory
        only: the key and the value live in this process for LOCALE_TTL_SECONDS at most."""
        if not user_id:
            return None
        key = f"{team_id}:{user_id}"
        cached = self._locales.get(key)
        if isinstance(cached, str):
            return cached or None
        try:
            client = await self._clients.for_team(team_id)
            response = await asyncio.wait_for(
                client.users_info(user=user_id, include_locale=True), LOCALE_TIMEOUT_SECONDS
            )
        except _LOOKUP_ERRORS as error:
            why = slack_error(error)
            # A person Slack will not describe (a guest, another workspace's user in a shared
            # channel) is expected, not a problem to warn about; the workspace's language
            # answers them.
            level = logging.DEBUG if why in _NO_SUCH_USER else logging.WARNING
            log.log(
                level, "users.info (locale) failed (%s); answering in the workspace's language", why
            )
            self._locales.put(key, "", LOCALE_FAILURE_TTL_SECONDS)
            return None
        user = response.get("user") or {}
        found = user.get("locale") if isinstance(user, Mapping) else None
        locale = found if isinstance(found, str) else ""
        self._locales.put(key, locale, LOCALE_TTL_SECONDS)
        return locale or None

    async def _user_facts(self, team_id: str, user_id: str) -> _UserFacts:
        cached = self._users.get(f"{team_id}:{user_id}")
        if isinstance(cached, _UserFacts):
            return cached
        facts = _UserFacts(is_admin=False, display_name="")
        try:
            client = await self._clients.for_team(team_id)
            response = await asyncio.wait_for(
                client.users_info(user=user_id), LOOKUP_TIMEOUT_SECONDS
            )
        except _LOOKUP_ERRORS as error:
            # Not cached: the next command tries again.
            log.warning(
                "users.info failed (%s); treating the caller as a non-admin", slack_error(error)
            )
            return facts
        facts = _facts_of(response.get("user") or {})
        self._users.put(f"{team_id}:{user_id}", facts, self._ttl)
        return facts

    # ---- the MemberDirectory port ------------------------------------------------------

    async def member_actor(self, community: Community, user_id: str) -> Actor | None:
        """The dashboard's check, asked fresh each time (the core reuses it a few seconds at
        most): a demoted admin or someone removed from a moderator group is out at once."""
        team_id = team_of_community(community.id)
        self._users.drop(f"{team_id}:{user_id}")
        for group in community.moderator_role_ids:
            self._groups.drop(f"{team_id}:{group}")
        if await self._member_name(team_id, user_id) is None:
            return None
        return await self.actor(user_id, community.moderator_role_ids, team_id=team_id)

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        groups = await self._all_groups(team_of_community(community_id))
        found: list[tuple[Found, ...]] = []
        for ref in refs:
            by_id = groups.get(ref.id) if ref.id else None
            if by_id is not None:
                matches = [by_id]
            elif ref.name:
                wanted = ref.name.lstrip("@").casefold()
                matches = [
                    group
                    for group in groups.values()
                    if wanted
                    in (group.get("handle", "").casefold(), group.get("name", "").casefold())
                ]
            else:
                matches = []
            found.append(tuple(Found(group["id"], _group_name(group)) for group in matches))
        return found

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        team_id = team_of_community(community_id)
        names = await asyncio.gather(*(self._member_name(team_id, ref.id) for ref in refs))
        return [
            (Found(str(ref.id), name or str(ref.id)),) if name is not None else ()
            for ref, name in zip(refs, names, strict=True)
        ]

    async def _all_groups(self, team_id: str) -> dict[str, dict[str, str]]:
        cached = self._group_list.get(team_id)
        if isinstance(cached, dict):
            return cached
        try:
            client = await self._clients.for_team(team_id)
            response = await asyncio.wait_for(
                client.usergroups_list(include_disabled=False), LOOKUP_TIMEOUT_SECONDS
            )
        except SlackApiError as error:
            if slack_error(error) not in _NO_USER_GROUPS:
                raise DirectoryUnavailable(f"usergroups.list: {slack_error(error)}") from None
            groups: dict[str, dict[str, str]] = {}
        except _LOOKUP_ERRORS as error:
            raise DirectoryUnavailable(f"usergroups.list: {slack_error(error)}") from None
        else:
            groups = {
                str(group["id"]): {
                    "id": str(group["id"]),
                    "handle": str(group.get("handle") or ""),
                    "name": str(group.get("name") or ""),
                }
                for group in response.get("usergroups") or ()
                if group.get("id") and not group.get("date_delete")
            }
        self._group_list.put(team_id, groups, self._ttl)
        return groups

    async def _member_name(self, team_id: str, user_id: str | None) -> str | None:
        """The display name of a member of this workspace ("" when they have none), or None
        when the id is no member (or a deactivated one)."""
        if not user_id:
            return None
        cached = self._users.get(f"{team_id}:{user_id}")
        if isinstance(cached, _UserFacts):
            return cached.display_name
        try:
            client = await self._clients.for_team(team_id)
            response = await asyncio.wait_for(
                client.users_info(user=user_id), LOOKUP_TIMEOUT_SECONDS
            )
        except SlackApiError as error:
            if slack_error(error) in _NO_SUCH_USER:
                return None
            raise DirectoryUnavailable(f"users.info: {slack_error(error)}") from None
        except _LOOKUP_ERRORS as error:
            raise DirectoryUnavailable(f"users.info: {slack_error(error)}") from None
        user = response.get("user") or {}
        if user.get("deleted"):
            return None
        facts = _facts_of(user)
        self._users.put(f"{team_id}:{user_id}", facts, self._ttl)
        return facts.display_name

    # ---- the actor's facts --------------------------------------------------------------

    async def _group_members(
        self, team_id: str, groups: Sequence[str]
    ) -> dict[str, frozenset[str]]:
        found: dict[str, frozenset[str]] = {}
        for group in groups:
            cached = self._groups.get(f"{team_id}:{group}")
            if isinstance(cached, frozenset):
                found[group] = cached
                continue
            try:
                client = await self._clients.for_team(team_id)
                response = await asyncio.wait_for(
                    client.usergroups_users_list(usergroup=group), LOOKUP_TIMEOUT_SECONDS
                )
            except _LOOKUP_ERRORS as error:
                log.warning("usergroups.users.list failed for %s (%s)", group, slack_error(error))
                continue
            members = frozenset(str(user) for user in response.get("users") or ())
            self._groups.put(f"{team_id}:{group}", members, self._ttl)
            found[group] = members
        return found


def _facts_of(user: Mapping[str, Any]) -> _UserFacts:
    profile = user.get("profile") or {}
    return _UserFacts(
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        display_name=str(
            profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
        )[:80],
    )


def _group_name(group: Mapping[str, str]) -> str:
    return f"@{group['handle']}" if group.get("handle") else group.get("name") or group["id"]


def slack_error(error: BaseException) -> str:
    """What went wrong with a Web API call, for logs and answers: Slack's `error` code (never
    the payload), else `http_<status>`, else the exception's type."""
    if isinstance(error, SlackApiError):
        data = error.response.data if isinstance(error.response.data, dict) else {}
        return str(data.get("error") or f"http_{error.response.status_code}")
    return type(error).__name__
