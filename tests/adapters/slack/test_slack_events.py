"""App lifecycle events: uninstall and revoked tokens pause the workspace (purged after grace)."""

from __future__ import annotations

import json
import logging

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.adapters.slack.app import SlackRuntime
from bot.core.models import Actor, CommunityStatus, Platform, RequestContext
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, APP_TOKEN, SignedSender, community_id
from tests.fakes.fake_slack import FakeSlack


async def _status(services: Services) -> CommunityStatus | None:
    community = await services.communities.get(community_id())
    return community.status if community else None


async def _schedule_paused(services: Services) -> bool:
    # Read as a moderator would, through the service (no adapter involved).
    ctx = RequestContext(community_id(), Platform.SLACK, Actor(ADMIN, has_admin_permission=True))
    [schedule] = await services.schedules.list(ctx)
    return schedule.paused


async def test_app_uninstalled_pauses_schedules_and_marks_the_workspace_removed(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    fake.add_channel("C0PUBLIC", "general")
    await slack.command(
        "/support-admin",
        'schedule add channel:<#C0PUBLIC|general> when:"daily 09:00" topic:family',
        user_id=ADMIN,
    )
    assert await _status(services) is CommunityStatus.ACTIVE
    calls_before = len(fake.calls)
    reply = await slack.event({"type": "app_uninstalled"})
    assert reply.status == 200
    assert await _status(services) is CommunityStatus.REMOVED
    assert await _schedule_paused(services)
    # No Web API call for a workspace that removed Haven.
    assert len(fake.calls) == calls_before


async def test_revoked_bot_token_removes_but_user_tokens_alone_do_not(
    slack: SignedSender, services: Services
) -> None:
    await slack.command("/support", "")
    assert await _status(services) is CommunityStatus.ACTIVE
    await slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE"]}})
    assert await _status(services) is CommunityStatus.ACTIVE
    await slack.event({"type": "tokens_revoked", "tokens": {"bot": ["UHAVENBOT"]}})
    assert await _status(services) is CommunityStatus.REMOVED


async def _deliver(slack: SignedSender, fake: FakeSlack, event_id: str, retry: int = 0) -> int:
    body = {**fake.event_callback({"type": "app_uninstalled"}), "event_id": event_id}
    headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    reply = await slack.post(
        json.dumps(body), content_type="application/json", headers=headers if retry else None
    )
    return reply.status


async def test_the_retry_of_a_lost_first_delivery_still_pauses_the_workspace(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    await slack.command("/support", "")
    # Slack sent Ev1 once and it never arrived; this is its first retry.
    assert await _deliver(slack, fake, "Ev1", retry=1) == 200
    assert await _status(services) is CommunityStatus.REMOVED


async def test_a_redelivered_event_is_acknowledged_and_handled_once(
    slack: SignedSender, fake: FakeSlack, services: Services
) -> None:
    await slack.command("/support", "")
    assert await _deliver(slack, fake, "Ev1") == 200
    assert await _status(services) is CommunityStatus.REMOVED
    # The workspace comes back (a command within the grace) ...
    await slack.command("/support", "")
    assert await _status(services) is CommunityStatus.ACTIVE
    # ... and a late retry of the handled uninstall changes nothing.
    assert await _deliver(slack, fake, "Ev1", retry=1) == 200
    assert await _status(services) is CommunityStatus.ACTIVE
    rows = await services.db.fetch_all(  # type: ignore[attr-defined]
        "SELECT event_id, done FROM handled_events"
    )
    assert [tuple(r) for r in rows] == [("Ev1", 1)]


async def test_a_failed_handling_answers_500_and_the_retry_handles_it(
    slack: SignedSender,
    fake: FakeSlack,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    await slack.command("/support", "")
    real = services.communities.mark_removed
    failures = [RuntimeError("the database went away")]

    async def flaky(community_id: str, reason: str = "") -> None:
        if failures:
            raise failures.pop()
        await real(community_id, reason)

    monkeypatch.setattr(services.communities, "mark_removed", flaky)
    assert await _deliver(slack, fake, "Ev7") == 500
    assert await _status(services) is CommunityStatus.ACTIVE
    # Logged once, by Haven, without the payload; Bolt adds no traceback of its own.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("an app_uninstalled event failed (RuntimeError)")
    assert not any(r.name.startswith("slack_bolt") for r in caplog.records)
    assert await _deliver(slack, fake, "Ev7", retry=1) == 200
    assert await _status(services) is CommunityStatus.REMOVED


async def test_uninstall_over_socket_mode(
    runtime: SlackRuntime, fake: FakeSlack, services: Services, slack: SignedSender
) -> None:
    await slack.command("/support", "")
    handler = AsyncSocketModeHandler(runtime.app, app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket()
        ack = await fake.send_envelope(
            "events_api",
            fake.event_callback({"type": "app_uninstalled"}),
            accepts_response_payload=False,
        )
        assert ack["envelope_id"]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
    assert await _status(services) is CommunityStatus.REMOVED
