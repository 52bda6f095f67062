"""The dashboard's defences over real HTTP: every route refuses a browser without a session,
every POST without the session's CSRF token or from another origin, oversized forms and
fields, another community's ids; each refusal writes nothing. Headers and cookie flags."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from markupsafe import escape

from bot.app import dashboard_app, open_services
from bot.core.dashboard import secret_hash
from bot.core.models import Platform
from bot.dashboard.security import CONTENT_SECURITY_POLICY, MAX_FORM_BYTES, SIGN_IN_ATTEMPTS
from bot.settings import Settings
from bot.web import HavenWeb
from tests.dashboard.conftest import COMMUNITY, MOD, OTHER, Site

PAGES = (
    "/dashboard/library",
    "/dashboard/library?kind=resource",
    "/dashboard/history",
    "/dashboard/settings",
    "/dashboard/library/message/coming-out-1",
)
# Every form route, with fields that would change something if it were accepted.
FORMS = (
    ("/dashboard/library/message/add", {"text": "You matter.", "topics": "general"}),
    ("/dashboard/library/message/KEY/edit", {"text": "Changed.", "version": "1"}),
    ("/dashboard/library/message/KEY/disable", {}),
    ("/dashboard/library/message/KEY/enable", {}),
    ("/dashboard/library/message/KEY/remove", {}),
    ("/dashboard/library/message/updates/KEY/take", {}),
    ("/dashboard/history/message/KEY/undo", {}),
    ("/dashboard/settings/region", {"region": "GB"}),
)


async def own_message(site: Site, community_id: str = COMMUNITY) -> str:
    card = await site.command(
        "/support-admin message add topics:general Our own words.", community_id=community_id
    )
    assert card.tone.value == "success", card
    row = await site.services.db.fetch_one(
        "SELECT key FROM messages WHERE community_id = ?", (community_id,)
    )
    assert row is not None
    return str(row["key"])


async def test_every_page_and_form_refuses_a_browser_without_a_session(site: Site) -> None:
    key = await own_message(site)
    before = await site.audit_count()
    browser = site.client()
    for path in PAGES:
        status, page = await site.get(browser, path)
        assert status == 401 and "not signed in" in page, path
    for path, data in FORMS:
        status, _ = await site.post(browser, path.replace("KEY", key), {**data, "csrf": "0"})
        assert status == 401, path
    assert await site.audit_count() == before


async def test_a_form_without_the_right_csrf_token_is_refused_and_writes_nothing(
    site: Site,
) -> None:
    key = await own_message(site)
    browser = await site.sign_in()
    before = await site.audit_count()
    other = await site.sign_in()
    foreign_token = await site.csrf(other)  # a real token, of another session
    for path, data in FORMS:
        path = path.replace("KEY", key)
        for csrf in (None, "", "0" * 64, foreign_token):
            sent = data if csrf is None else {**data, "csrf": csrf}
            status, page = await site.post(browser, path, sent)
            assert status == 403 and "nothing was changed" in page, (path, csrf)
    assert await site.audit_count() == before


async def test_a_post_from_another_site_is_refused(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    before = await site.audit_count()
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        async with browser.post(
            f"{site.url}/dashboard/settings/region",
            data={"csrf": csrf, "region": "GB"},
            headers=headers,
        ) as answer:
            assert answer.status == 403
    assert await site.audit_count() == before


async def test_an_oversized_form_is_refused_before_it_is_read(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    before = await site.audit_count()
    status, _ = await site.post(
        browser,
        "/dashboard/library/message/add",
        {"csrf": csrf, "topics": "general", "text": "x" * (MAX_FORM_BYTES + 1)},
    )
    assert status == 413
    assert await site.audit_count() == before


async def test_an_over_long_field_gets_the_commands_limit_and_writes_nothing(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    before = await site.audit_count()
    long_text = "y" * 5000
    status, page = await site.post(
        browser,
        "/dashboard/library/message/add",
        {"csrf": csrf, "topics": "general", "text": long_text},
    )
    chat = await site.command(f"/support-admin message add topics:general {long_text}")
    assert status == 400
    # The very sentence the command answers with.
    assert chat.body and str(escape(chat.body)) in page
    status, _ = await site.post(
        browser, "/dashboard/settings/region", {"csrf": csrf, "region": "G" * 65}
    )
    assert status == 400
    assert await site.audit_count() == before


async def test_another_communitys_ids_are_not_found_and_nothing_is_written(site: Site) -> None:
    theirs = await own_message(site, OTHER)
    browser = await site.sign_in()  # a moderator of COMMUNITY
    csrf = await site.csrf(browser)
    before_here, before_there = await site.audit_count(), await site.audit_count(OTHER)
    status, page = await site.get(browser, f"/dashboard/library/message/{theirs}")
    assert status == 404 and "Our own words" not in page
    for path, data in FORMS[1:-1]:
        status, page = await site.post(browser, path.replace("KEY", theirs), {**data, "csrf": csrf})
        assert status == 404, path
    assert (await site.audit_count(), await site.audit_count(OTHER)) == (before_here, before_there)
    row = await site.services.db.fetch_one(
        "SELECT text, enabled FROM messages WHERE community_id = ? AND key = ?", (OTHER, theirs)
    )
    assert row is not None and (row["text"], row["enabled"]) == ("Our own words.", 1)


async def test_every_page_has_the_security_headers(site: Site) -> None:
    browser = await site.sign_in()
    link = await site.link()
    for path in (
        *PAGES,
        "/dashboard/static/haven.css",
        link.removeprefix(site.url),
        "/dashboard/login",
        "/dashboard/nowhere",
    ):
        async with browser.get(f"{site.url}{path}", allow_redirects=False) as answer:
            assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["Referrer-Policy"] == "no-referrer"
            assert answer.headers["X-Frame-Options"] == "DENY"
            if path.startswith("/dashboard/library"):
                page = await answer.text()
                # Nothing loaded from elsewhere, no script at all.
                assert "<script" not in page
                assert all(u.startswith("/") for u in re.findall(r'(?:src|href)="([^"]*)"', page))
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "form-action 'self'" in CONTENT_SECURITY_POLICY


async def test_the_session_cookie_is_httponly_strict_and_only_a_hash_is_stored(site: Site) -> None:
    link = await site.link()
    async with site.client().post(
        f"{site.url}/dashboard/login",
        data={"token": link.split("token=", 1)[1]},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 303 and answer.headers["Location"] == "/dashboard/library"
        cookie = answer.cookies["haven_dashboard"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/dashboard"
    assert cookie["max-age"] == str(12 * 3600)
    assert not cookie["secure"]  # served over http here
    rows = await site.services.db.fetch_all("SELECT * FROM dashboard_sessions", ())
    assert [r["session_hash"] for r in rows] == [secret_hash(cookie.value)]
    assert rows[0]["actor_id"] == MOD.id


@pytest.mark.sqlite_only
async def test_the_cookie_is_secure_when_the_dashboard_is_served_over_https(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_path=tmp_path / "h.db", public_url="https://haven.example.org", http_port=1
    )
    async with open_services(settings) as services:
        await services.communities.ensure(Platform.CONSOLE, "local", "Local console")
        from bot.adapters.console import ConsoleDirectory, console_context

        services.register_directory(ConsoleDirectory())
        card = await services.router.run_text(console_context(), "/support-admin dashboard")
        assert "https://haven.example.org/dashboard/login?token=" in card.body
        token = card.body.split("token=", 1)[1].split()[0]
        server = HavenWeb(services.health, None, port=0, dashboard=dashboard_app(services))
        await server.start()
        try:
            async with (
                aiohttp.ClientSession() as browser,
                browser.post(
                    f"{server.url}/dashboard/login",
                    data={"token": token},
                    headers={"Origin": "https://haven.example.org"},
                    allow_redirects=False,
                ) as answer,
            ):
                assert answer.status == 303
                assert answer.cookies["haven_dashboard"]["secure"] is True
        finally:
            await server.stop()


async def test_sign_in_is_rate_limited_per_address(site: Site) -> None:
    browser = site.client()
    for _ in range(SIGN_IN_ATTEMPTS):
        status, _ = await site.post(browser, "/dashboard/login", {"token": "nope"})
        assert status == 403
    link = await site.link()
    status, page = await site.post(browser, "/dashboard/login", {"token": link.split("=", 1)[1]})
    assert status == 429 and "Too many sign-in attempts" in page
    async with browser.get(link) as answer:
        assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1
    assert await site.session_count() == 0


async def test_good_sign_ins_do_not_use_up_the_limit(site: Site) -> None:
    # Behind a reverse proxy every moderator has the proxy's address: only failures count.
    browser = site.client()
    for _ in range(SIGN_IN_ATTEMPTS + 3):
        link = await site.link()
        async with browser.get(link) as page:  # a chat's link preview, or the moderator
            assert page.status == 200
        status, _ = await site.post(browser, "/dashboard/login", {"token": link.split("=", 1)[1]})
        assert status in (200, 303)
    assert await site.session_count() == SIGN_IN_ATTEMPTS + 3
