"""Over signed HTTP against the Slack emulator: `schedule test` limited per moderator and
answered privately, a member's refused command audited without its words, and `/support`
answered from the built-in pack for the region asked for when storage is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, MEMBER, SignedSender, community_id, texts_of
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack


async def test_schedule_test_posts_twice_then_answers_privately_with_when(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    fake.add_channel("C0PUBLIC", "general")
    added = await slack.command(
        "/support-admin",
        'schedule add channel:<#C0PUBLIC|general> when:"daily 09:00" topic:coming-out',
        user_id=ADMIN,
    )
    assert "Schedule 1 added" in texts_of(added.json), added.json
    answers = [
        (await slack.command("/support-admin", "schedule test id:1", user_id=ADMIN)).json
        for _ in range(12)
    ]
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert all(answer["response_type"] == "ephemeral" for answer in answers)
    for refused in answers[2:]:
        assert "Not yet" in texts_of(refused)
        assert "Try again in 30 seconds." in texts_of(refused)
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.current += timedelta(seconds=30)
    again = (await slack.command("/support-admin", "schedule test id:1", user_id=ADMIN)).json
    assert "Test post sent" in texts_of(again)
    assert len(fake.calls_to("chat.postMessage")) == 3


async def test_support_is_never_limited(slack: SignedSender) -> None:
    for _ in range(50):
        answer = (await slack.command("/support", "crisis GB")).json
        assert answer["response_type"] == "ephemeral"
        assert "call 999 now" in texts_of(answer)


async def test_a_members_refused_command_is_audited_without_its_words(
    slack: SignedSender, services: Services
) -> None:
    refused = await slack.command("/support-admin", "message add secret words", user_id=MEMBER)
    assert refused.json["response_type"] == "ephemeral"
    assert "Not permitted" in refused.json["text"]
    rows = await services.db.fetch_all(
        "SELECT community_id, actor_id, action, item_key FROM audit_log WHERE item_kind = 'refusal'"
    )
    assert [tuple(r) for r in rows] == [(community_id(), MEMBER, "refused", "message add")]
    for table in await services.db.table_names():
        for row in await services.db.fetch_all(f"SELECT * FROM {table}"):
            assert "secret words" not in repr(tuple(row)), table


async def test_support_crisis_gb_with_storage_gone_still_shows_samaritans_and_999(
    slack: SignedSender, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    await services.db.close()
    answer = (await slack.command("/support", "crisis GB")).json
    assert answer["response_type"] == "ephemeral"
    assert "Samaritans" in texts_of(answer)
    assert "call 999 now" in texts_of(answer)
    # The asker's id (the emulator's default U0ASKER) is not in the log.
    assert "built-in answer" in caplog.text and "U0ASKER" not in caplog.text
