"""The dashboard's route table: every page and form, in one list (paths below /dashboard,
where bot/web.py mounts this application).

A new page is one handler module and one line here (see /work/briefs/dashboard-api.md).
Routes not named in `site.PUBLIC_ROUTES` are reached only by a moderator the core checked on
this request; every POST has passed the size, origin and CSRF checks before its handler runs.
"""

from __future__ import annotations

from aiohttp import web

from bot.dashboard import history, library, schedules_page, settings_page, signin, usage_page
from bot.dashboard.site import Dashboard

KIND = "{kind:message|resource}"
KEY = "{key:[^/]{1,80}}"
SCHEDULE = "{id:[0-9]{1,9}}"


def table(dashboard: Dashboard) -> list[web.RouteDef]:
    d = dashboard
    return [
        web.get("/static/haven.css", signin.stylesheet, name="stylesheet"),
        web.get("/login", signin.login_page(d), name="login"),
        web.post("/login", signin.login_submit(d), name="login-submit"),
        web.post("/logout", signin.logout(d), name="logout"),
        web.get("/", signin.home, name="home"),
        web.get("/library", library.index(d), name="library"),
        web.post(f"/library/{KIND}/add", library.add(d), name="library-add"),
        web.get(f"/library/{KIND}/{KEY}", library.item(d), name="library-item"),
        web.post(
            f"/library/{KIND}/{KEY}/{{verb:edit|enable|disable|remove}}",
            library.change(d),
            name="library-change",
        ),
        web.post(
            f"/library/{KIND}/updates/{KEY}/{{choice:take|keep}}",
            library.resolve_update(d),
            name="library-update",
        ),
        web.get("/history", history.index(d), name="history"),
        web.post(f"/history/{KIND}/{KEY}/undo", history.undo(d), name="history-undo"),
        web.get("/schedules", schedules_page.index(d), name="schedules"),
        web.post("/schedules/add", schedules_page.add(d), name="schedules-add"),
        web.post(
            f"/schedules/{SCHEDULE}/{{verb:pause|resume|test}}",
            schedules_page.action(d),
            name="schedules-action",
        ),
        web.get("/usage", usage_page.index(d), name="usage"),
        web.get("/settings", settings_page.index(d), name="settings"),
        web.post("/settings/{verb:[a-z-]{1,40}}", settings_page.change(d), name="settings-change"),
    ]
