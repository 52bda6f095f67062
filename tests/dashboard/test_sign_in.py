"""Signing in to the dashboard with the link `/support-admin dashboard` gives: once, within
10 minutes, only for a moderator, and the moderator checked again on every request."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import Actor
from tests.dashboard.conftest import COMMUNITY, MEMBER, MOD, Site

ROLE = "123456789012345678"


async def test_a_moderator_signs_in_with_the_link_and_sees_the_library(site: Site) -> None:
    link = await site.link()
    browser = site.client()
    # Opening the link only shows the button: a chat's link preview cannot use it up.
    async with browser.get(link) as answer:
        assert answer.status == 200
        page = await answer.text()
    assert 'action="/dashboard/login"' in page
    assert "set-cookie" not in {h.lower() for h in answer.headers}
    token = link.split("token=", 1)[1]
    async with browser.post(f"{site.url}/dashboard/login", data={"token": token}) as answer:
        assert answer.status == 200
        # Redirected: the token is no longer in the address.
        assert str(answer.url) == f"{site.url}/dashboard/library"
        assert "token" not in str(answer.url)
        page = await answer.text()
    assert "Library" in page and "Robin" in page


async def test_the_link_points_at_the_public_url_and_is_stored_only_as_a_hash(site: Site) -> None:
    link = await site.link()
    assert link.startswith(f"{site.url}/dashboard/login?token=")
    token = link.split("token=", 1)[1]
    rows = await site.services.db.fetch_all("SELECT * FROM dashboard_links", ())
    assert len(rows) == 1
    assert token not in str(dict(rows[0]))
    assert rows[0]["actor_id"] == MOD.id and rows[0]["community_id"] == COMMUNITY


async def test_a_used_link_is_refused(site: Site) -> None:
    link = await site.link()
    token = link.split("token=", 1)[1]
    await site.sign_in_with(token)
    status, page = await site.post(site.client(), "/dashboard/login", {"token": token})
    assert status == 403 and "already used" in page


async def test_an_expired_link_is_refused(site: Site) -> None:
    link = await site.link()
    site.clock.current += timedelta(minutes=10, seconds=1)
    status, page = await site.post(
        site.client(), "/dashboard/login", {"token": link.split("token=", 1)[1]}
    )
    assert status == 403 and "expired" in page
    assert await site.session_count() == 0


async def test_a_made_up_token_is_refused(site: Site) -> None:
    status, page = await site.post(site.client(), "/dashboard/login", {"token": "x" * 43})
    assert status == 403 and "not a sign-in link" in page


async def test_a_non_moderator_gets_no_link(site: Site) -> None:
    card = await site.command("/support-admin dashboard", MEMBER)
    assert card.title == "Not permitted" and "/dashboard/login" not in card.body
    assert await site.services.db.fetch_all("SELECT * FROM dashboard_links", ()) == []


async def test_the_link_of_someone_who_is_no_longer_a_moderator_is_refused(site: Site) -> None:
    link = await site.link()
    site.members.set(COMMUNITY, Actor(MOD.id, MOD.display_name, has_admin_permission=False))
    status, page = await site.post(
        site.client(), "/dashboard/login", {"token": link.split("token=", 1)[1]}
    )
    assert status == 403 and "Only moderators" in page
    assert await site.session_count() == 0


async def test_a_link_survives_the_platform_not_answering_at_sign_in(site: Site) -> None:
    link = await site.link()
    token = link.split("token=", 1)[1]
    site.members.unreachable = True
    status, page = await site.post(site.client(), "/dashboard/login", {"token": token})
    assert status == 403 and "cannot check your" in page
    assert await site.session_count() == 0
    site.members.unreachable = False
    status, _ = await site.post(site.client(), "/dashboard/login", {"token": token})
    assert status in (200, 303)  # the same link, once the platform answers again
    assert await site.session_count() == 1
    status, page = await site.post(site.client(), "/dashboard/login", {"token": token})
    assert status == 403 and "already used" in page  # and still only once


async def test_a_moderator_who_loses_the_role_is_out_on_the_next_request(site: Site) -> None:
    # A moderator by role: the community's moderator role, held on the platform.
    helper = Actor("333", "Kai", role_ids=(ROLE,))
    card = await site.command(f"/support-admin settings moderator-roles {ROLE}")
    assert card.tone.value == "success", card
    site.members.set(COMMUNITY, helper)
    browser = await site.sign_in(helper)
    assert (await site.get(browser, "/dashboard/library"))[0] == 200
    site.members.set(COMMUNITY, Actor("333", "Kai", role_ids=()))
    # Facts are reused for a few seconds at most (one page and its stylesheet ask once).
    site.clock.current += timedelta(seconds=6)
    for path in ("/dashboard/library", "/dashboard/history", "/dashboard/settings"):
        status, page = await site.get(browser, path)
        assert status == 403 and "Only moderators" in page
    status, _ = await site.post(
        browser, "/dashboard/library/message/add", {"csrf": "x", "text": "hi", "topics": "general"}
    )
    assert status == 403


async def test_someone_who_left_the_community_is_out(site: Site) -> None:
    browser = await site.sign_in()
    site.members.remove(COMMUNITY, MOD.id)
    site.clock.current += timedelta(seconds=6)
    status, page = await site.get(browser, "/dashboard/library")
    assert status == 403 and "no longer a member" in page


async def test_a_session_lasts_12_hours(site: Site) -> None:
    browser = await site.sign_in()
    site.clock.current += timedelta(hours=11, minutes=59)
    assert (await site.get(browser, "/dashboard/library"))[0] == 200
    site.clock.current += timedelta(minutes=2)
    status, page = await site.get(browser, "/dashboard/library")
    assert status == 401 and "session has ended" in page


async def test_signing_out_ends_the_session(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    assert (await site.post(browser, "/dashboard/logout", {"csrf": csrf}))[0] == 200
    assert await site.session_count() == 0
    assert (await site.get(browser, "/dashboard/library"))[0] == 401
