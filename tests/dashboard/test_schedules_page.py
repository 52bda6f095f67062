"""The schedules page over real HTTP on both engines: the calendar's local days and times
across a DST change (from the core's recurrence rules), each schedule's runs with their
reasons, pause/resume/test through the chat's command (audited with the moderator's id), and
the refusals (no session, no CSRF token, another community's id, an over-long field) that
write nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from markupsafe import escape

from bot.core.cards import Card
from bot.core.models import Platform
from bot.dashboard.security import CONTENT_SECURITY_POLICY
from tests.dashboard.conftest import COMMUNITY, MEMBER, MOD, OTHER, Site

WELCOME = "555000000000000001"
# Europe/London leaves summer time at 01:00 UTC on Sunday 25 October 2026.
BEFORE_DST_END = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


class RecordingPublisher:
    """Discord's side of a post, as far as these tests need it: what was posted where."""

    platform = Platform.DISCORD

    def __init__(self) -> None:
        self.posts: list[tuple[str, Card]] = []

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        self.posts.append((channel_id, card))
        return str(len(self.posts))


async def schedule(site: Site, line: str, community_id: str = COMMUNITY) -> int:
    card = await site.command(f"/support-admin schedule add {line}", community_id=community_id)
    assert card.tone.value == "success", card
    found = re.search(r"Schedule (\d+) added", card.title)
    assert found, card
    return int(found.group(1))


def day_html(page: str, day: str) -> str:
    found = re.search(
        rf'<li class="day[^"]*" id="day-{day}">(.*?)</li>\s*(?=<li class="day|</ol>)', page, re.S
    )
    assert found, f"no day {day} in the calendar"
    return found.group(1)


def posts_on(page: str, day: str) -> list[str]:
    return re.findall(r"<time datetime=\"[^\"]+\">(\d\d:\d\d \w+)</time>", day_html(page, day))


async def schedule_row(site: Site, schedule_id: int) -> dict[str, object]:
    row = await site.services.db.fetch_one(
        "SELECT paused, next_run_at FROM schedules WHERE id = ?", (schedule_id,)
    )
    assert row is not None
    return dict(row)


async def test_the_calendar_shows_local_days_and_times_across_a_dst_change(site: Site) -> None:
    site.clock.current = BEFORE_DST_END
    await site.command("/support-admin settings timezone Europe/London")
    await schedule(
        site,
        'channel:555000000000000001 when:"daily 09:00" topic:coming-out timezone:Europe/London',
    )
    await schedule(site, 'channel:555000000000000002 when:"daily 23:30" topic:crisis timezone:UTC')
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/schedules")
    assert status == 200
    assert "Europe/London" in page
    # 09:00 London time every day, summer time before the change and winter time after it.
    assert "09:00 BST" in posts_on(page, "2026-10-24")
    assert "09:00 GMT" in posts_on(page, "2026-10-26")
    # 23:30 UTC is half past midnight of the next local day in summer, the same day in winter:
    # the DST day itself has both.
    assert posts_on(page, "2026-10-24") == ["00:30 BST", "09:00 BST"]
    assert posts_on(page, "2026-10-25") == ["00:30 BST", "09:00 GMT", "23:30 GMT"]
    assert posts_on(page, "2026-10-26") == ["09:00 GMT", "23:30 GMT"]
    # Today is the first day (its 09:00 has passed; tonight's 23:30 UTC is 00:30 tomorrow) and
    # there are 30 local days.
    days = re.findall(r'id="day-(\d{4}-\d\d-\d\d)"', page)
    assert days[0] == "2026-10-20" and days[-1] == "2026-11-18" and len(days) == 30
    assert posts_on(page, "2026-10-20") == []


async def test_a_paused_schedule_is_not_on_the_calendar(site: Site) -> None:
    schedule_id = await schedule(
        site, 'channel:555000000000000001 when:"daily 09:00" topic:coming-out'
    )
    await site.command(f"/support-admin schedule pause id:{schedule_id}")
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/schedules")
    assert status == 200 and "paused: paused by Robin" in page
    assert "topic coming-out → &lt;#555000000000000001&gt;</span>" not in page


async def test_each_schedules_runs_are_shown_with_their_reasons(site: Site) -> None:
    schedule_id = await schedule(
        site, 'channel:555000000000000001 when:"daily 09:00" topic:coming-out'
    )
    outcomes = (
        (1_800_000_000, "sent", None),
        (1_800_086_400, "missed", "Haven was not running at the time"),
        (1_800_172_800, "failed", "Missing Access"),
        (1_800_259_200, "unknown", "timed out after the request was sent"),
    )
    async with site.services.db.write() as conn:
        for slot_at, status, reason in outcomes:
            await conn.execute(
                "INSERT INTO schedule_slots (schedule_id, slot_at, status, reason, attempts,"
                " updated_at) VALUES (?, ?, ?, ?, 1, ?)",
                (schedule_id, slot_at, status, reason, slot_at),
            )
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/schedules")
    assert status == 200
    assert 'class="run status-sent"' in page
    assert "missed: Haven was not running at the time" in page
    assert "failed: Missing Access" in page
    assert "unknown: may or may not have posted (timed out after the request was sent)" in page
    # The run's time as the chat's `schedule history` gives it (local, then UTC).
    assert "Fri 2027-01-15 08:00 UTC" in page


async def test_pause_resume_and_test_run_the_command_and_are_audited(site: Site) -> None:
    publisher = RecordingPublisher()
    site.services.register_publisher(publisher)
    schedule_id = await schedule(
        site, 'channel:555000000000000001 when:"daily 09:00" topic:coming-out'
    )
    browser = await site.sign_in()
    csrf = await site.csrf(browser, "/dashboard/schedules")
    status, page = await site.post(
        browser, f"/dashboard/schedules/{schedule_id}/pause", {"csrf": csrf}
    )
    assert status == 200 and f"Schedule {schedule_id} paused" in page
    assert (await schedule_row(site, schedule_id))["paused"] in (1, True)
    status, page = await site.post(
        browser, f"/dashboard/schedules/{schedule_id}/resume", {"csrf": csrf}
    )
    assert status == 200 and f"Schedule {schedule_id} resumed" in page
    assert (await schedule_row(site, schedule_id))["paused"] in (0, False)
    status, page = await site.post(
        browser, f"/dashboard/schedules/{schedule_id}/test", {"csrf": csrf}
    )
    assert status == 200 and "Test post sent to &lt;#555000000000000001&gt;" in page
    assert [channel for channel, _ in publisher.posts] == ["555000000000000001"]
    # The chat's allowance for public posts holds here too: two in a row, then a wait.
    status, _ = await site.post(browser, f"/dashboard/schedules/{schedule_id}/test", {"csrf": csrf})
    assert status == 200
    status, page = await site.post(
        browser, f"/dashboard/schedules/{schedule_id}/test", {"csrf": csrf}
    )
    assert status == 400 and "posts in a public channel" in page and len(publisher.posts) == 2
    rows = await site.services.db.fetch_all(
        "SELECT actor_id, action FROM audit_log WHERE community_id = ? AND item_kind = ?"
        " ORDER BY id",
        (COMMUNITY, "schedule"),
    )
    assert [(r["actor_id"], r["action"]) for r in rows][-2:] == [
        (MOD.id, "pause"),
        (MOD.id, "resume"),
    ]


async def test_a_schedule_added_here_is_the_commands(site: Site) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser, "/dashboard/schedules")
    fields = {"channel": "555000000000000001", "when": "weekly mon 18:00", "topic": "coming-out"}
    status, page = await site.post(
        browser, "/dashboard/schedules/add", {"csrf": csrf, **fields, "timezone": "UTC"}
    )
    assert status == 200 and "Schedule 1 added" in page
    rows = await site.services.db.fetch_all(
        "SELECT community_id, when_text, created_by FROM schedules", ()
    )
    assert [(r["community_id"], r["when_text"], r["created_by"]) for r in rows] == [
        (COMMUNITY, "weekly mon 18:00", MOD.id)
    ]
    # A bad `when` gets the command's own words, and nothing is stored.
    status, page = await site.post(
        browser, "/dashboard/schedules/add", {"csrf": csrf, **fields, "when": "every 1m"}
    )
    chat = await site.command(
        '/support-admin schedule add channel:555000000000000001 when:"every 1m" topic:coming-out'
    )
    assert status == 400 and chat.tone.value == "error"
    assert str(escape(chat.body)) in page
    assert len(await site.services.db.fetch_all("SELECT id FROM schedules", ())) == 1


async def test_refusals_write_nothing(site: Site) -> None:
    mine = await schedule(site, 'channel:555000000000000001 when:"daily 09:00" topic:coming-out')
    theirs = await schedule(
        site, 'channel:555000000000000003 when:"daily 09:00" topic:coming-out', community_id=OTHER
    )
    audit_before = (await site.audit_count(), await site.audit_count(OTHER))
    anonymous = site.client()
    for path in ("/dashboard/schedules", "/dashboard/usage"):
        status, _ = await site.get(anonymous, path)
        assert status == 401, path
    for path in (f"/dashboard/schedules/{mine}/pause", "/dashboard/schedules/add"):
        status, _ = await site.post(anonymous, path, {"when": "daily 10:00"})
        assert status == 401, path
    browser = await site.sign_in()
    csrf = await site.csrf(browser, "/dashboard/schedules")
    # No token, or another session's: 403 before the handler runs.
    status, _ = await site.post(browser, f"/dashboard/schedules/{mine}/pause", {})
    assert status == 403
    status, _ = await site.post(
        browser, f"/dashboard/schedules/{mine}/pause", {"csrf": "0" * len(csrf)}
    )
    assert status == 403
    # Another community's schedule is not found here, exactly like a missing one.
    for verb in ("pause", "resume", "test"):
        status, page = await site.post(
            browser, f"/dashboard/schedules/{theirs}/{verb}", {"csrf": csrf}
        )
        assert status == 404 and f"no schedule {theirs} here" in page
    status, _ = await site.post(browser, "/dashboard/schedules/999/pause", {"csrf": csrf})
    assert status == 404
    # Over-long `when`: the command's limit, nothing stored.
    status, page = await site.post(
        browser,
        "/dashboard/schedules/add",
        {"csrf": csrf, "channel": "555000000000000001", "when": "daily " + "9" * 300},
    )
    chat = await site.command(
        f'/support-admin schedule add channel:{WELCOME} when:"daily {"9" * 300}"'
    )
    assert status == 400 and chat.tone.value == "error"
    assert str(escape(chat.body)) in page
    assert (await site.audit_count(), await site.audit_count(OTHER)) == audit_before
    for schedule_id in (mine, theirs):
        assert (await schedule_row(site, schedule_id))["paused"] in (0, False)
    assert len(await site.services.db.fetch_all("SELECT id FROM schedules", ())) == 2


async def test_the_pages_keep_to_the_content_security_policy(site: Site) -> None:
    await schedule(site, f'channel:{WELCOME} when:"daily 09:00" topic:coming-out')
    await site.command("/support coming-out", actor=MEMBER)
    await site.services.support.flush()
    browser = await site.sign_in()
    for path in ("/dashboard/schedules", "/dashboard/usage"):
        async with browser.get(f"{site.url}{path}") as answer:
            page = await answer.text()
            assert answer.status == 200
            assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        # No inline style or script, and nothing fetched from elsewhere.
        assert "style=" not in page and "<script" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page)
