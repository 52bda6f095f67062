"""`Origin: null` on a form post: what Chromium sends from Haven's own pages under their
Referrer-Policy no-referrer (found by the browser tests), and also what a sandboxed frame on
another site sends. Sec-Fetch-Site tells them apart; without it the post is refused."""

from __future__ import annotations

from tests.dashboard.conftest import Site


async def test_a_null_origin_is_accepted_only_when_the_browser_says_same_origin(
    site: Site,
) -> None:
    browser = await site.sign_in()
    csrf = await site.csrf(browser)
    before = await site.audit_count()
    for headers in (
        {"Origin": "null"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "same-site"},
    ):
        async with browser.post(
            f"{site.url}/dashboard/settings/region",
            data={"csrf": csrf, "region": "GB"},
            headers=headers,
        ) as answer:
            assert answer.status == 403, headers
    assert await site.audit_count() == before
    async with browser.post(
        f"{site.url}/dashboard/settings/region",
        data={"csrf": csrf, "region": "GB"},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    ) as answer:
        assert answer.status == 200
    assert await site.audit_count() == before + 1
