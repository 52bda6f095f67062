"""DashboardAccess: sign-in to the moderator dashboard by a one-time link from the chat, and
the moderator check that every dashboard request passes through.

- `/support-admin dashboard` (a moderator, through the one gate) gets a link that is valid for
  LINK_TTL, works once, and is bound to that moderator and community. Only the SHA-256 of its
  token is stored: a copy of the database cannot sign anyone in.
- Opening it starts a session of SESSION_TTL, likewise stored only as the hash of the cookie.
- Every request turns the session into a `RequestContext` with the moderator's facts read
  from the platform *now* (`MemberDirectory.member_actor`) and passes `moderator_community`,
  the gate the chat commands pass: a moderator who loses the role loses the dashboard on the
  next request (facts are remembered ACTOR_TTL at most, so a page's burst of requests asks once).
- A form's CSRF token is derived from the session's secret (HMAC), so it needs no storage and
  a page from anywhere else cannot know it.

Nothing here knows HTTP, or anything about people who asked for support.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import HavenError, PermissionDenied
from bot.core.models import Actor, Platform, RequestContext
from bot.core.permissions import moderator_community
from bot.core.ports import (
    Clock,
    CommunityLookup,
    DashboardGrant,
    DashboardStore,
    DirectoryUnavailable,
    LinkState,
    MemberDirectory,
)

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)
# How long a moderator's platform facts are reused: one page and its stylesheet ask once, and
# a moderator who lost the role is out within this.
ACTOR_TTL = timedelta(seconds=5)
LOGIN_PATH = "/dashboard/login"
PUBLIC_URL_HINT = (
    "Set HAVEN_PUBLIC_URL to the address where this Haven's HTTP server (HAVEN_HTTP_PORT) is "
    "reachable, e.g. HAVEN_PUBLIC_URL=https://haven.example.org, and restart Haven."
)


class SignInRefused(PermissionDenied):
    """A link or session that does not (or no longer) sign anyone in; the message says why."""


class SignedOut(SignInRefused):
    """No session, or one that expired: sign in again from the chat."""


class RolesUnchecked(PermissionDenied):
    """The platform could not be asked about the moderator just now (not a refusal of them):
    a sign-in link is given back, so the moderator can try the same link again."""


def secret_hash(secret: str) -> str:
    """What is stored for a link's token or a session's cookie."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_token(session_secret: str) -> str:
    """The token every form of this session carries (HMAC of the session's secret)."""
    return hmac.new(session_secret.encode("utf-8"), b"haven-dashboard-csrf", "sha256").hexdigest()


def csrf_matches(session_secret: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(session_secret), given)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A started session: the cookie's secret (given to the browser once) and who it is."""

    secret: str
    ctx: RequestContext


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DashboardAccess:
    def __init__(
        self,
        store: DashboardStore,
        communities: CommunityLookup,
        directories: Mapping[Platform, MemberDirectory],
        clock: Clock,
        public_url: str | None,
    ) -> None:
        self._store = store
        self._communities = communities
        self._directories = directories
        self._clock = clock
        self._public_url = public_url.rstrip("/") if public_url else None
        self._actors: dict[tuple[str, str], tuple[datetime, Actor | None]] = {}

    def base_url(self) -> str | None:
        """Where the dashboard's links point (HAVEN_PUBLIC_URL, or the console's own port)."""
        return self._public_url

    def serve_locally_at(self, url: str) -> None:
        """The console's HTTP server: its links point there unless HAVEN_PUBLIC_URL says
        otherwise, so `haven console` then `/support-admin dashboard` gives a link that works
        on this machine."""
        if self._public_url is None:
            self._public_url = url.rstrip("/")

    @property
    def secure(self) -> bool:
        """Cookies are Secure when the dashboard is served over https."""
        return (self.base_url() or "").startswith("https://")

    async def issue_link(self, ctx: RequestContext) -> str:
        """A one-time sign-in link for the caller, who must moderate the community."""
        await moderator_community(self._communities, ctx)
        base = self.base_url()
        if base is None:
            raise HavenError("The dashboard's address is not set.", PUBLIC_URL_HINT)
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.add_link(
            secret_hash(token),
            DashboardGrant(ctx.community_id, ctx.actor.id),
            _epoch(now + LINK_TTL),
            _epoch(now),
        )
        return f"{base}{LOGIN_PATH}?token={token}"

    async def sign_in(self, token: str) -> SignIn:
        """Use a link: a new session for its moderator, if they still moderate."""
        state, grant = await self._store.take_link(secret_hash(token), _epoch(self._clock.now()))
        if state is LinkState.EXPIRED:
            raise SignInRefused(
                "This sign-in link has expired (links work for 10 minutes).",
                "Type /support-admin dashboard in the chat for a new one.",
            )
        if state is LinkState.USED:
            raise SignInRefused(
                "This sign-in link was already used (each link works once).",
                "Type /support-admin dashboard in the chat for a new one.",
            )
        if grant is None:
            raise SignInRefused(
                "This is not a sign-in link Haven made.",
                "Type /support-admin dashboard in the chat and open the link it gives you.",
            )
        try:
            ctx = await self._checked(grant, fresh=True)
        except RolesUnchecked:
            # Nobody was refused: the platform did not answer. Give the link back (it is still
            # within its 10 minutes), so "try again soon" works without a new link.
            await self._store.release_link(secret_hash(token))
            raise
        secret = secrets.token_urlsafe(32)
        expires = _epoch(self._clock.now() + SESSION_TTL)
        await self._store.add_session(secret_hash(secret), grant, expires)
        return SignIn(secret, ctx)

    async def request_context(self, session_secret: str | None) -> RequestContext:
        """The moderator behind a session, checked again now. SignedOut without a valid
        session; the gate's PermissionDenied when they no longer moderate."""
        if not session_secret:
            raise SignedOut(
                "You are not signed in to Haven's dashboard.",
                "Type /support-admin dashboard in the chat and open the link it gives you.",
            )
        grant = await self._store.session(secret_hash(session_secret), _epoch(self._clock.now()))
        if grant is None:
            raise SignedOut(
                "Your dashboard session has ended (sessions last 12 hours).",
                "Type /support-admin dashboard in the chat for a new link.",
            )
        return await self._checked(grant, fresh=False)

    async def sign_out(self, session_secret: str) -> None:
        await self._store.drop_session(secret_hash(session_secret))

    async def _checked(self, grant: DashboardGrant, *, fresh: bool) -> RequestContext:
        community = await self._communities.get(grant.community_id)
        if community is None:
            raise SignInRefused("Haven is no longer set up in this community.")
        actor = await self._actor(community.platform, grant, fresh=fresh)
        if actor is None:
            raise PermissionDenied(
                "You are no longer a member of this community, so the dashboard is closed.",
                "Ask a moderator of the community if this is a mistake.",
            )
        ctx = RequestContext(community_id=community.id, platform=community.platform, actor=actor)
        # The one gate of the chat commands: the same rule and the same wording.
        await moderator_community(self._communities, ctx)
        return ctx

    async def _actor(
        self, platform: Platform, grant: DashboardGrant, *, fresh: bool
    ) -> Actor | None:
        key = (grant.community_id, grant.actor_id)
        now = self._clock.now()
        remembered = self._actors.get(key)
        if not fresh and remembered is not None and now - remembered[0] < ACTOR_TTL:
            return remembered[1]
        directory = self._directories.get(platform)
        community = await self._communities.get(grant.community_id)
        if directory is None or community is None:
            raise RolesUnchecked(
                f"Haven cannot check your {platform.value.capitalize()} roles right now.",
                "The dashboard works while Haven is connected to the platform; try again soon.",
            )
        try:
            actor = await directory.member_actor(community, grant.actor_id)
        except DirectoryUnavailable:
            raise RolesUnchecked(
                f"Haven cannot check your {platform.value.capitalize()} roles right now.",
                "Nothing was changed. Reload the page in a moment.",
            ) from None
        if len(self._actors) > 1024:
            self._actors = {k: v for k, v in self._actors.items() if now - v[0] < ACTOR_TTL}
        self._actors[key] = (now, actor)
        return actor
