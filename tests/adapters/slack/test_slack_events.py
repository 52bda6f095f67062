"""App lifecycle events: uninstall and revoked tokens pause the workspace (purged after grace)."""

from __future__ import annotations

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


async def test_a_retried_event_delivery_is_acknowledged_but_not_reprocessed(
    slack: SignedSender, services: Services
) -> None:
    await slack.command("/support", "")
    reply = await slack.event(
        {"type": "app_uninstalled"}, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"}
    )
    assert reply.status == 200
    assert await _status(services) is CommunityStatus.ACTIVE


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
