"""Every route in the dashboard's table, present and future, refuses a browser without a
session (401) and writes nothing, except the few named public ones: the table is read from the
application itself, so a new page cannot be left out of this check."""

from __future__ import annotations

import re

from aiohttp import web

from bot.app import dashboard_app
from bot.dashboard.site import PUBLIC_ROUTES
from tests.dashboard.conftest import Site

# Values for the variable parts of paths; `verb` and `choice` differ per route, so each of
# these is tried until the route matches.
SAMPLES = {
    "kind": ("message",),
    "key": ("some-key",),
    "id": ("1",),
    "choice": ("take",),
    "verb": ("pause", "edit", "region", "undo"),
}


def concrete_paths(resource: web.AbstractResource) -> list[str]:
    """Sample paths this route itself serves: an unmatched path is refused by the session
    check too, so a path that reached no route would prove nothing about this one."""
    info = resource.get_info()
    template = info.get("formatter") or info.get("path") or ""
    paths = [str(template)]
    for name in re.findall(r"{(\w+)}", str(template)):
        paths = [p.replace(f"{{{name}}}", value) for p in paths for value in SAMPLES[name]]
    pattern = info.get("pattern")
    if pattern is not None:
        paths = [p for p in paths if pattern.fullmatch(p)]
    assert paths, template
    return paths


async def test_every_route_but_the_public_ones_needs_a_session(site: Site) -> None:
    app = dashboard_app(site.services)
    anonymous = site.client()
    before = await site.audit_count()
    checked: set[str] = set()
    for route in app.router.routes():
        name = route.name or ""
        if name in PUBLIC_ROUTES or route.method == "HEAD":
            continue
        statuses = []
        for path in concrete_paths(route.resource):
            url = f"{site.url}/dashboard{path}"
            async with anonymous.request(
                route.method, url, data={"text": "x"}, allow_redirects=False
            ) as answer:
                statuses.append(answer.status)
        assert statuses and set(statuses) == {401}, (name, statuses)
        checked.add(name)
    assert {"schedules", "schedules-add", "schedules-action", "usage", "library"} <= checked
    assert await site.audit_count() == before
