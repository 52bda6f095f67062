"""A moderator's browser on the dashboard (headless Chromium): signed in by the link the real
`/support-admin dashboard` command prints in the console, a message added here is answered by
`/support` in the console and undone from the history page, a post scheduled here is on the
calendar on the right local day and time across a DST change, and the link of someone who is
no longer a moderator is refused. Every page is photographed into test-artifacts/."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.models import Actor, Platform, RequestContext
from tests.browser.conftest import Console, screenshot_path
from tests.dashboard.conftest import Members

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

TEXT = "Whoever you are, you are welcome here, exactly as you are."
PHONE = {"width": 390, "height": 844}


async def signed_in(browser: Browser, console: Console, **options: object) -> Page:
    page = await browser.new_page(**options)  # type: ignore[arg-type]
    page.set_default_timeout(10_000)
    await page.goto(await console.link())
    # Opening the link uses nothing (chat previews open links too): the button signs in.
    assert await page.title() and "Sign in" in await page.content()
    await page.screenshot(path=screenshot_path("sign-in"), full_page=True)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url("**/dashboard/library", timeout=10_000)
    return page


async def answers(console: Console, line: str, tries: int = 30) -> list[str]:
    return [await console.run(line) for _ in range(tries)]


async def day_posts(page: Page, day: str) -> list[str]:
    times = page.locator(f"#day-{day} li.post time")
    return [text.strip() for text in await times.all_inner_texts()]


async def test_sign_in_add_see_in_support_undo_and_schedule_across_dst(
    browser: Browser, console: Console
) -> None:
    await console.run("/support-admin settings timezone Europe/London")
    page = await signed_in(browser, console)
    await page.screenshot(path=screenshot_path("library"), full_page=True)

    # Add a message with the library's form; the console's /support answers with it.
    form = page.locator("form[action$='/library/message/add']")
    await form.locator("textarea[name=text]").fill(TEXT)
    await form.locator("[name=topics]").fill("coming-out")
    await form.locator("button[type=submit]").click()
    assert "Message added" in await page.content()
    await page.screenshot(path=screenshot_path("message-added"), full_page=True)
    assert any(TEXT in answer for answer in await answers(console, "/support coming-out"))

    # Undo it from the history page: /support no longer has it.
    await page.click("nav >> text=History")
    await page.screenshot(path=screenshot_path("history"), full_page=True)
    newest = page.locator("ol.history > li").first
    assert "add" in await newest.inner_text()
    await newest.locator("button:has-text('Undo')").click()
    assert "error" not in (await page.locator("section.card").first.get_attribute("class") or "")
    assert not any(TEXT in answer for answer in await answers(console, "/support coming-out"))

    # Schedule a daily post at 09:00 London time and one at 23:30 UTC with the form.
    for when, zone in (("daily 09:00", "Europe/London"), ("daily 23:30", "UTC")):
        await page.click("nav >> text=Schedules")
        add = page.locator("form[action$='/schedules/add']")
        await add.locator("[name=channel]").fill("#welcome")
        await add.locator("[name=when]").fill(when)
        await add.locator("[name=topic]").fill("coming-out")
        await add.locator("[name=timezone]").fill(zone)
        await add.locator("button[type=submit]").click()
        assert re.search(r"Schedule \d+ added", await page.content()), await page.content()
    await page.click("nav >> text=Schedules")
    await page.screenshot(path=screenshot_path("schedules"), full_page=True)
    # Sunday 25 October 2026: London leaves summer time. The local day and time are right.
    assert await day_posts(page, "2026-10-24") == ["00:30 BST", "09:00 BST"]
    assert await day_posts(page, "2026-10-25") == ["00:30 BST", "09:00 GMT", "23:30 GMT"]
    assert await day_posts(page, "2026-10-26") == ["09:00 GMT", "23:30 GMT"]

    # Pause one from the page: it leaves the calendar.
    first = page.locator("section.schedule").first
    await first.locator("button:has-text('Pause')").click()
    assert "paused" in await page.content()
    await page.click("main >> text=Back")
    assert page.url.endswith("/dashboard/schedules")
    assert await day_posts(page, "2026-10-26") == ["23:30 GMT"]

    # The 60 answers above, as the daily counts (the support service flushes them).
    await console.services.support.flush()
    await page.click("nav >> text=Usage")
    counts = await page.locator("#topic-coming-out .count").all_inner_texts()
    assert counts[-1] == "60" and set(counts[:-1]) == {"fewer than 5"}
    await page.screenshot(path=screenshot_path("usage"), full_page=True)
    await page.click("nav >> text=Settings")
    await page.screenshot(path=screenshot_path("settings"), full_page=True)
    await page.close()


async def test_the_calendar_is_a_list_per_day_on_a_phone(
    browser: Browser, console: Console
) -> None:
    added = await console.run(
        '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:coming-out'
    )
    assert "Schedule 1 added" in added, added
    page = await signed_in(browser, console, viewport=PHONE)
    await page.click("nav >> text=Schedules")
    days = page.locator("li.day:not(.empty)")
    first, second = await days.nth(0).bounding_box(), await days.nth(1).bounding_box()
    assert first and second
    # One column: each day below the one before, about as wide as the screen.
    assert second["y"] > first["y"] + first["height"] - 1
    assert first["width"] > PHONE["width"] * 0.8
    await page.screenshot(path=screenshot_path("schedules-phone"), full_page=True)
    await page.close()


async def test_the_link_of_someone_no_longer_a_moderator_is_refused(
    browser: Browser, console: Console
) -> None:
    members = Members()
    console.services.register_directory(members)
    await console.services.communities.ensure(Platform.DISCORD, "1")
    robin = Actor(id="111", display_name="Robin", has_admin_permission=True)
    members.set("discord:1", robin)
    ctx = RequestContext(community_id="discord:1", platform=Platform.DISCORD, actor=robin)
    card = await console.services.router.run_text(ctx, "/support-admin dashboard")
    link = next(word for word in card.body.split() if "/dashboard/login?token=" in word)
    # Robin loses Manage Server before opening the link.
    members.set("discord:1", Actor(id="111", display_name="Robin"))
    page = await browser.new_page()
    page.set_default_timeout(10_000)
    await page.goto(link)
    async with page.expect_response(lambda r: r.url.endswith("/dashboard/login")) as answer:
        await page.click("button:has-text('Sign in')")
    assert (await answer.value).status == 403
    assert "Only moderators" in await page.content()
    await page.screenshot(path=screenshot_path("refused"), full_page=True)
    # No session: the library is refused too.
    response = await page.goto(link.split("/login")[0] + "/library")
    assert response is not None and response.status == 401
    await page.close()
