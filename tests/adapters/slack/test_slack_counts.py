"""Slack buttons and menus are counted as interactions by command name and outcome, like slash
commands: through the real Bolt app over signed HTTP, with nothing typed in the labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from bot.adapters.slack.app import SlackRuntime
from bot.app import open_services
from bot.metrics import PrometheusMetrics
from bot.services import Services
from tests.adapters.slack.conftest import ADMIN, SignedSender, slack_settings
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
async def services(
    tmp_path: Path, fake: FakeSlack, metrics: PrometheusMetrics
) -> AsyncIterator[Services]:
    async with open_services(
        slack_settings(tmp_path, fake), clock=FixedClock(), metrics=metrics
    ) as built:
        yield built


def counted(metrics: PrometheusMetrics, command: str, outcome: str = "ok") -> float:
    labels = {"platform": "slack", "command": command, "outcome": outcome}
    return metrics.registry.get_sample_value("haven_interactions_total", labels) or 0.0


async def test_menus_and_command_buttons_are_counted_by_name(
    slack: SignedSender, fake: FakeSlack, runtime: SlackRuntime, metrics: PrometheusMetrics
) -> None:
    await slack.interactive(fake.block_action("haven_topic", selected="crisis|GB|"))
    await slack.interactive(fake.block_action("haven_region", selected="crisis|IE|"))
    line = "/support-admin message list page:2 topic:secretword"
    await slack.interactive(fake.block_action("haven_page_next", line, user_id=ADMIN))
    await runtime.listeners.drain()

    assert counted(metrics, "support topic menu") == 1
    assert counted(metrics, "support region menu") == 1
    assert counted(metrics, "message list") == 1
    text = generate_latest(metrics.registry).decode()  # every label value that exists
    assert "secretword" not in text and ADMIN not in text
