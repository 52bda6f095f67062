"""The dashboard's HTTP defences: security headers on every response, the sign-in rate
limit, the request-size limit, the same-origin and CSRF checks of every POST.

The rules of who may do what are not here: they are the core's (bot/core/dashboard.py and the
moderator gate). This module only refuses requests that must not reach the core at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

# No script at all (the pages need none), styles only from Haven's own stylesheet, forms only
# back to Haven, and never inside a frame (clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The sign-in page's address holds the link's token: never sent on to anyone.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Pages show a community's library and audit trail: not for shared caches or back buttons.
    "Cache-Control": "no-store",
}
# The largest form body accepted (the longest form, a resource, is far below this with every
# field at its validation.py limit); larger is refused with 413 before it is read.
MAX_FORM_BYTES = 64 * 1024
# Sign-in attempts per client address: a few mistyped or stale links are fine, guessing is not
# (a token has 256 bits; the limit keeps the database out of a flood).
SIGN_IN_ATTEMPTS = 10
SIGN_IN_WINDOW_SECONDS = 60.0


def add_security_headers(response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


class SignInLimiter:
    """At most SIGN_IN_ATTEMPTS failed sign-ins per address per window, then a pause, in memory
    (each process its own; a restart forgets). Only addresses that failed are kept, and only
    for the window."""

    PRUNE_AT = 4096

    def __init__(
        self,
        attempts: int = SIGN_IN_ATTEMPTS,
        window: float = SIGN_IN_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._seen: dict[str, list[float]] = {}

    def wait(self, address: str) -> float | None:
        """None when another attempt is allowed now, else the seconds until one is."""
        now = self._clock()
        recent = [at for at in self._seen.get(address, ()) if now - at < self._window]
        self._seen[address] = recent
        if len(recent) >= self._attempts:
            return self._window - (now - recent[0])
        return None

    def failed(self, address: str) -> None:
        """Count one failed sign-in. Only failures count: behind a reverse proxy every
        moderator shares its address, and their good sign-ins must not use up the window."""
        now = self._clock()
        recent = [at for at in self._seen.get(address, ()) if now - at < self._window]
        recent.append(now)
        self._seen[address] = recent
        if len(self._seen) > self.PRUNE_AT:
            self._seen = {
                a: times for a, times in self._seen.items() if now - times[-1] < self._window
            }
        return None


def same_origin(request: web.Request, public_url: str | None) -> bool:
    """A POST from one of Haven's own pages. Browsers send Origin (or at least
    Sec-Fetch-Site) on form posts; a page elsewhere cannot fake either."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if (fetch_site or "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin == "null":
        # Our pages say Referrer-Policy: no-referrer, under which Chromium sends
        # `Origin: null` even on a same-origin form post; Sec-Fetch-Site (which no page can
        # set) then tells ours from a sandboxed frame elsewhere. Without it: refused.
        return fetch_site == "same-origin"
    if origin is None:
        return True
    expected = public_url or f"{request.scheme}://{request.host}"
    return origin.rstrip("/") == expected.rstrip("/")
