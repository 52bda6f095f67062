"""The usage page over real HTTP on both engines: `/support` answers counted through the real
path (the support service's daily aggregates, flushed to the database) shown per topic per
week, a bucket under 5 as "fewer than 5" with nothing of its number anywhere in the page, and
resources people reported shown from 3 reports of a kind, as `resource show` shows them."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.models import Platform, RequestContext
from tests.dashboard.conftest import COMMUNITY, MEMBER, OTHER, Site


def topic_section(page: str, slug: str) -> str:
    found = re.search(rf'<section class="card usage" id="topic-{slug}">(.*?)</section>', page, re.S)
    assert found, f"no usage shown for {slug}"
    return found.group(1)


async def ask(site: Site, line: str, times: int, community_id: str = COMMUNITY) -> None:
    ctx = RequestContext(community_id=community_id, platform=Platform.DISCORD, actor=MEMBER)
    for _ in range(times):
        card = await site.services.router.run_text(ctx, line)
        assert card.tone.value != "error", card
    await site.services.support.flush()


async def test_use_per_topic_per_week_hides_buckets_under_five(site: Site) -> None:
    await ask(site, "/support coming-out", 7)
    await ask(site, "/support crisis", 3)
    site.clock.current += timedelta(days=7)  # next week: two more of coming-out
    await ask(site, "/support coming-out", 2)
    await ask(site, "/support coming-out", 40, community_id=OTHER)  # another community's
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/usage")
    assert status == 200
    coming_out = topic_section(page, "coming-out")
    counts = re.findall(r'<span class="count">([^<]+)</span>', coming_out)
    assert len(counts) == 12
    # The week of Monday 23 November had 7; this week 2 (hidden); the rest none (hidden too).
    assert counts[-2:] == ["7", "fewer than 5"]
    assert set(counts[:-2]) == {"fewer than 5"}
    # No total: 9 beside the 7 would give the hidden 2 away.
    assert "9" not in re.sub(r'<span class="week">[^<]*</span>', "", coming_out)
    crisis = topic_section(page, "crisis")
    # Nothing of a hidden number, in text or attributes: every hidden bar has the same class.
    for section in (coming_out, crisis):
        hidden = re.findall(r'<span class="bar (w\d+)( small)?"></span>', section)
        assert hidden and all(bar == ("w1", " small") for bar in hidden[:10])
    crisis_text = re.sub(r'<span class="week">[^<]*</span>', "", crisis)
    assert not re.search(r"\b[1-4]\b", crisis_text)
    # Another community's use is never here (the session's random CSRF token, the one value
    # that could hold "40" by chance, is left out of the search).
    assert "40" not in re.sub(r'name="csrf" value="[^"]*"', "", page)


async def test_reported_resources_are_shown_from_three_reports(site: Site) -> None:
    ctx = RequestContext(community_id=COMMUNITY, platform=Platform.DISCORD, actor=MEMBER)
    for line, times in (
        ("/support-report gb-samaritans number", 3),
        ("/support-report gb-samaritans link", 2),
        ("/support-report gb-shout link", 2),
    ):
        for _ in range(times):
            card = await site.services.router.run_text(ctx, line)
            assert card.tone.value == "success", card
    browser = await site.sign_in()
    status, page = await site.get(browser, "/dashboard/usage")
    assert status == 200
    reports = re.search(r'<ul class="items reports">(.*?)</ul>\s*$', page.split("</main>")[0], re.S)
    assert reports, page
    listed = reports.group(1)
    assert "gb-samaritans" in listed and "This number didn&#39;t work: 3" in listed
    assert "This link is broken" not in listed and "gb-shout" not in listed


async def test_only_moderators_see_usage(site: Site) -> None:
    browser = await site.sign_in()
    site.members.remove(COMMUNITY, "111")
    site.clock.current += timedelta(seconds=6)  # past the reuse of member facts
    status, page = await site.get(browser, "/dashboard/usage")
    assert status in (401, 403) and "fewer than" not in page
