"""Reporting a resource of a /support answer on Slack: the real Bolt app, signed HTTP, the
resource's overflow menu, the private thanks and the one notice in the log channel."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.adapters.slack.app import SlackRuntime
from bot.adapters.slack.render import ACTION_REPORT
from bot.core.content.reports import THANKS
from bot.services import Services
from tests.adapters.slack.conftest import SignedSender, texts_of
from tests.fakes.fake_slack import TEAM_ID, FakeSlack

LOG = "C0MODLOG"
LINE = "/support-report gb-samaritans number"


def _report_menus(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in answer.get("blocks") or []
        for element in block.get("elements") or []
        if str(element.get("action_id", "")).startswith(f"{ACTION_REPORT}_")
    ]


async def test_a_report_from_the_resource_menu_is_counted_and_told_once(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, services: Services
) -> None:
    fake.add_channel(LOG, "mod-log")
    answer = (await slack.command("/support", "crisis GB")).json
    menus = _report_menus(answer)
    assert menus and all(m["type"] == "overflow" and 1 <= len(m["options"]) <= 5 for m in menus)
    values = [o["value"] for m in menus for o in m["options"]]
    assert LINE in values
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE communities SET log_channel_id = ? WHERE id = ?", (LOG, f"slack:{TEAM_ID}")
        )
    services.support.invalidate(f"slack:{TEAM_ID}")
    menu = next(m for m in menus if any(o["value"] == LINE for o in m["options"]))

    for n in range(4):
        url = fake.new_response_url()
        reply = await slack.interactive(
            fake.block_action(
                menu["action_id"], selected=LINE, user_id=f"U0REPORTER{n}", response_url=url
            )
        )
        assert reply.status == 200
        [thanks] = await fake.wait_for_posts(url)
        # A new private message: the answer itself is not replaced.
        assert thanks["replace_original"] is False
        assert thanks["response_type"] == "ephemeral"
        assert THANKS.title in texts_of(thanks)
    await runtime.listeners.drain()
    await asyncio.sleep(0)

    posts = [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == LOG]
    assert len(posts) == 1  # the third report told the moderators; the fourth did not again
    text = str(posts[0].args["text"])
    assert "gb-samaritans" in text and "This number didn't work" in text
