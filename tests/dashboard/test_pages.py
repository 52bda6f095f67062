"""The dashboard's pages as a second face of the same core: what a moderator adds, edits,
hides, confirms, takes from Haven or undoes here is what `/support` answers and what the audit
trail records with the moderator's id, and a refusal is worded as the command words it."""

from __future__ import annotations

import re

from markupsafe import escape

from bot.core.models import ItemKind
from bot.core.ports import ItemLayer
from tests.dashboard.conftest import COMMUNITY, MOD, Site
from tests.layers.helpers import CHANGED, NEW_NUMBER, next_release

TEXT = "Whoever you are, you belong here."


async def add_message(site: Site, text: str = TEXT) -> tuple[int, str]:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    return await site.post(
        browser,
        "/dashboard/library/message/add",
        {"csrf": csrf, "text": text, "topics": "coming-out"},
    )


async def newest_entry(site: Site) -> dict[str, object]:
    row = await site.services.db.fetch_one(
        "SELECT * FROM audit_log WHERE community_id = ? ORDER BY id DESC LIMIT 1", (COMMUNITY,)
    )
    assert row is not None
    return dict(row)


async def test_a_message_added_here_is_in_support_and_audited_with_the_moderators_id(
    site: Site,
) -> None:
    status, page = await add_message(site)
    assert status == 200 and "Message added" in page
    entry = await newest_entry(site)
    assert (entry["actor_id"], entry["action"], entry["item_kind"]) == (MOD.id, "add", "message")
    # `/support coming-out` through the console's path: rotation reaches the new message.
    bodies = [
        (await site.services.router.run_text(site.ctx(), "/support coming-out")).body
        for _ in range(30)
    ]
    assert any(body.startswith(TEXT) for body in bodies)


async def test_the_library_lists_items_by_topic_with_where_they_come_from(site: Site) -> None:
    await add_message(site)
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/library")
    assert status == 200
    assert "Coming out" in page and str(escape(TEXT)) in page
    assert "your own" in page and "Haven&#39;s" in page
    status, page = await site.get(browser, "/dashboard/library?kind=resource&region=GB")
    assert status == 200 and "Samaritans" in page and "Kids Helpline" not in page


async def test_a_bad_link_is_refused_with_the_commands_words(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser, "/dashboard/library?kind=resource")
    fields = {"title": "Evil", "url": "javascript:alert(1)", "topics": "crisis", "regions": "GB"}
    status, page = await site.post(
        browser, "/dashboard/library/resource/add", {"csrf": csrf, **fields}
    )
    chat = await site.command(
        '/support-admin resource add title:Evil url:"javascript:alert(1)" topics:crisis regions:GB'
    )
    assert status == 400 and chat.tone.value == "error"
    assert str(escape(chat.body)) in page
    assert (
        await site.services.db.fetch_all(
            "SELECT key FROM resources WHERE community_id = ?", (COMMUNITY,)
        )
        == []
    )


async def test_edit_hide_and_show_go_through_the_core(site: Site) -> None:
    await add_message(site)
    key = str((await newest_entry(site))["item_key"])
    browser = await site.sign_in()
    status, page = await site.get(browser, f"/dashboard/library/message/{key}")
    assert status == 200 and str(escape(TEXT)) in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    csrf = await site.csrf(browser)
    status, page = await site.post(
        browser,
        f"/dashboard/library/message/{key}/edit",
        {"csrf": csrf, "text": "New words.", "topics": "coming-out", "version": version[1]},
    )
    assert status == 200 and "Message updated" in page
    # The same form sent again (an old tab) is told it changed, as on Discord and Slack.
    status, page = await site.post(
        browser,
        f"/dashboard/library/message/{key}/edit",
        {"csrf": csrf, "text": "Older words.", "topics": "coming-out", "version": version[1]},
    )
    assert status == 400 and "Changed since you opened it" in page
    assert (await site.post(browser, f"/dashboard/library/message/{key}/disable", {"csrf": csrf}))[
        0
    ] == 200
    item = await site.services.curation.get(site.ctx(), ItemKind.MESSAGE, key)
    assert (item.text, item.enabled) == ("New words.", False)
    assert (await site.post(browser, f"/dashboard/library/message/{key}/enable", {"csrf": csrf}))[
        0
    ] == 200
    assert (await site.services.curation.get(site.ctx(), ItemKind.MESSAGE, key)).enabled
    actions = [
        e.action for e in await site.services.curation.history(site.ctx(), ItemKind.MESSAGE, key)
    ]
    assert actions == ["enable", "disable", "edit", "add"]


async def test_undo_from_history_reverts_through_the_core(site: Site) -> None:
    await add_message(site)
    key = str((await newest_entry(site))["item_key"])
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/history")
    assert status == 200 and key in page and MOD.id in page
    assert f"/dashboard/history/message/{key}/undo" in page
    csrf = await site.csrf(browser, "/dashboard/history")
    status, page = await site.post(
        browser, f"/dashboard/history/message/{key}/undo", {"csrf": csrf}
    )
    assert status == 200
    library = await site.services.curation.library(site.ctx())
    assert key not in {m.key for m in library.messages}
    entry = await newest_entry(site)
    assert (entry["action"], entry["actor_id"]) == ("undo", MOD.id)
    # A second undo is the core's refusal, shown as such.
    status, page = await site.post(
        browser, f"/dashboard/history/message/{key}/undo", {"csrf": csrf}
    )
    assert status == 400 and "already undone" in page


async def test_history_filters_by_kind_item_and_moderator(site: Site) -> None:
    await add_message(site)
    key = str((await newest_entry(site))["item_key"])
    await site.command("/support-admin settings region GB")
    browser = await site.sign_in()
    _, page = await site.get(browser, "/dashboard/history?kind=settings")
    assert "settings" in page and key not in page
    _, page = await site.get(browser, f"/dashboard/history?item={key}")
    assert key in page
    _, page = await site.get(browser, "/dashboard/history?moderator=someone-else")
    assert "No changes yet." in page
    # Times in the community's zone, as the chat's `history` gives them.
    card = await site.command("/support-admin settings timezone America/New_York")
    assert card.tone.value == "success", card
    _, page = await site.get(browser, f"/dashboard/history?moderator={MOD.id}")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T", page), page


async def test_settings_are_shown_and_changed_by_the_settings_commands(site: Site) -> None:
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/settings")
    assert status == 200 and "Default region" in page
    csrf = await site.csrf(browser, "/dashboard/settings")
    status, page = await site.post(
        browser, "/dashboard/settings/region", {"csrf": csrf, "region": "IE"}
    )
    assert status == 200
    community = await site.services.communities.get(COMMUNITY)
    assert community is not None and community.default_region == "IE"
    assert (await newest_entry(site))["actor_id"] == MOD.id
    status, page = await site.post(
        browser, "/dashboard/settings/timezone", {"csrf": csrf, "timezone": "Mars/Olympus"}
    )
    chat = await site.command("/support-admin settings timezone Mars/Olympus")
    assert status == 400 and str(escape(chat.body)) in page
    assert (await site.post(browser, "/dashboard/settings/nothing", {"csrf": csrf}))[0] == 404


async def test_haven_updates_to_an_edited_item_can_be_taken_here(site: Site) -> None:
    card = await site.command(f'/support-admin resource edit {CHANGED} hours:"Every day"')
    assert card.tone.value == "success", card
    await site.services.releases.install(next_release())
    browser = await site.sign_in()
    _, page = await site.get(browser, "/dashboard/library?kind=resource")
    assert f"/dashboard/library/resource/updates/{CHANGED}/take" in page
    csrf = await site.csrf(browser)
    status, _ = await site.post(
        browser, f"/dashboard/library/resource/updates/{CHANGED}/take", {"csrf": csrf}
    )
    assert status == 200
    layer = await site.services.curation.layers(site.ctx(), ItemKind.RESOURCE)
    assert layer[CHANGED] is ItemLayer.INHERITED
    item = await site.services.curation.get(site.ctx(), ItemKind.RESOURCE, CHANGED)
    assert item.contacts[0].display == NEW_NUMBER
    assert (
        await site.post(browser, "/dashboard/library/resource/updates/nope/keep", {"csrf": csrf})
    )[0] == 404


async def test_a_resource_that_needs_review_is_confirmed_here(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    status, _ = await site.post(
        browser,
        "/dashboard/library/resource/add",
        {
            "csrf": csrf,
            "title": "Local Line",
            "url": "https://line.example.org",
            "topics": "crisis",
            "regions": "GB",
        },
    )
    assert status == 200
    key = str((await newest_entry(site))["item_key"])
    await site.post(browser, f"/dashboard/library/resource/{key}/disable", {"csrf": csrf})
    _, page = await site.get(browser, f"/dashboard/library/resource/{key}")
    assert f"/dashboard/library/resource/{key}/enable" in page
    assert (await site.post(browser, f"/dashboard/library/resource/{key}/enable", {"csrf": csrf}))[
        0
    ] == 200
    item = await site.services.curation.get(site.ctx(), ItemKind.RESOURCE, key)
    assert item.enabled and not item.needs_review


async def test_what_moderators_typed_is_shown_as_text_never_as_markup(site: Site) -> None:
    status, _ = await add_message(site, '<script>alert("x")</script> <b>bold</b>')
    assert status == 200
    browser = await site.sign_in()
    _, page = await site.get(browser, "/dashboard/library")
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
