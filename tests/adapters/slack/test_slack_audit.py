"""A moderator's change through Slack is audited: who (the Slack user), what, before and after,
read from the audit table itself; a member's refused attempt changes nothing and no audit row
carries a member's change or their text.

The core tests check the audit through history cards (tests/core/test_curation.py) and one
settings row; this goes through the real Bolt app and reads every row."""

from __future__ import annotations

import json
from typing import Any

from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, MEMBER, SignedSender, community_id


def _key_of(reply: dict[str, Any]) -> str:
    for block in reply["blocks"]:
        for field in block.get("fields") or []:
            label, _, value = field["text"].partition("\n")
            if label == "*Key*":
                return str(value)
    raise AssertionError(f"no Key field in {reply}")


async def _audit_after(services: Services, last_id: int) -> list[dict[str, Any]]:
    rows = await services.db.fetch_all(
        "SELECT id, community_id, actor_id, actor_name, action, item_kind, item_key,"
        " before_json, after_json, undone FROM audit_log WHERE id > ? ORDER BY id",
        (last_id,),
    )
    return [dict(row) for row in rows]


async def test_each_moderator_change_is_one_audit_row_and_a_refused_one_none(
    slack: SignedSender, services: Services
) -> None:
    # The first request joins the workspace (seeded with the default pack); count from here.
    await slack.command("/support", "crisis", user_id=MEMBER)
    row = await services.db.fetch_one("SELECT COALESCE(MAX(id), 0) AS last FROM audit_log")
    assert row is not None
    start = int(row["last"])

    added = await slack.command(
        "/support-admin", "message add topics:family text:Audited first words", user_id=ADMIN
    )
    key = _key_of(json.loads(added.text))
    await slack.command(
        "/support-admin", f"message edit key:{key} text:Audited second words", user_id=ADMIN
    )
    refused = await slack.command("/support-admin", f"message remove key:{key}", user_id=MEMBER)
    assert "Not permitted" in refused.text
    still = await services.support.library(community_id())
    assert key in {message.key for message in still.messages}
    await slack.command("/support-admin", f"message remove key:{key}", user_id=ADMIN)
    await slack.command("/support-admin", "settings timezone timezone:Europe/Paris", user_id=ADMIN)

    written = await _audit_after(services, start)
    rows = [r for r in written if r["actor_id"] != MEMBER]
    # One row per change, in order, each naming the Slack moderator.
    assert [(r["action"], r["item_kind"], r["item_key"]) for r in rows] == [
        ("add", "message", "family-audited-first-words"),
        ("edit", "message", "family-audited-first-words"),
        ("remove", "message", "family-audited-first-words"),
        ("settings.timezone", "settings", "timezone"),
    ]
    assert key == "family-audited-first-words"
    assert {(r["community_id"], r["actor_id"], r["actor_name"]) for r in rows} == {
        ("slack:T0HAVEN", ADMIN, "Ada Admin")
    }
    assert not any(r["undone"] for r in rows)
    add, edit, remove, timezone = rows
    # Before and after, as stored: enough to show and to undo each change.
    assert add["before_json"] is None
    assert json.loads(add["after_json"])["text"] == "Audited first words"
    assert json.loads(edit["before_json"])["text"] == "Audited first words"
    assert json.loads(edit["after_json"])["text"] == "Audited second words"
    assert json.loads(remove["before_json"])["text"] == "Audited second words"
    assert remove["after_json"] is None
    assert json.loads(timezone["before_json"])["timezone"] == "UTC"
    assert json.loads(timezone["after_json"])["timezone"] == "Europe/Paris"
    # The member's refused remove is no change: whatever records the attempt holds no content.
    for attempt in (r for r in written if r["actor_id"] == MEMBER):
        assert attempt["action"] not in ("add", "edit", "remove")
        assert attempt["before_json"] is None and attempt["after_json"] is None
