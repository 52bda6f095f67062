"""Haven's one HTTP server over real HTTP: /healthz, /readyz (database, platforms, scheduler
role), /metrics on Haven's own registry with nothing that singles out a person, and Slack's
/slack/events on the same port."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import prometheus_client
import pytest

from bot.adapters.slack.app import run_slack
from bot.app import open_services
from bot.core.models import Platform
from bot.core.ports import InteractionOutcome
from bot.metrics import FailureRateWatch, PrometheusMetrics, command_label, known_commands
from bot.services import Services
from bot.settings import Secret, Settings
from bot.web import HavenWeb, HttpStartupError
from tests.adapters.slack.conftest import ADMIN, SIGNING_SECRET, SignedSender, slack_settings
from tests.fakes.fake_slack import FakeSlack


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def get_json(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
async def console_services(tmp_path: Path, metrics: PrometheusMetrics) -> AsyncIterator[Services]:
    """No platform configured: readiness depends on the database alone."""
    async with open_services(Settings(database_path=tmp_path / "haven.db"), metrics=metrics) as s:
        yield s


@pytest.fixture
async def server(console_services: Services, metrics: PrometheusMetrics) -> AsyncIterator[HavenWeb]:
    web = HavenWeb(console_services.health, metrics, port=0)
    await web.start()
    try:
        yield web
    finally:
        await web.stop()


async def test_healthz_answers_while_the_loop_runs(server: HavenWeb) -> None:
    status, _, text = await get(f"{server.url}/healthz")
    assert (status, text) == (200, "ok\n")


async def test_readyz_reports_the_database_and_this_process_scheduler_role(
    server: HavenWeb, console_services: Services
) -> None:
    status, body = await get_json(f"{server.url}/readyz")
    assert status == 200
    assert body == {
        "ready": True,
        "reasons": [],
        "database": "ok",
        "scheduler": "standby",
        "platforms": {},
    }
    scheduler = asyncio.create_task(console_services.scheduler.run())
    try:
        async with asyncio.timeout(5):
            while not console_services.scheduler.is_holder:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        _, body = await get_json(f"{server.url}/readyz")
        assert body["scheduler"] == "holder"
        _, _, text = await get(f"{server.url}/metrics")
        assert 'haven_scheduler_holder{platform="console"} 1.0' in text
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)


async def test_readyz_is_503_with_the_reason_when_the_database_cannot_be_read(
    server: HavenWeb, console_services: Services
) -> None:
    # Another program breaks the schema under the running process.
    with sqlite3.connect(console_services.db.path) as other:
        other.execute("ALTER TABLE communities RENAME TO communities_gone")
    status, body = await get_json(f"{server.url}/readyz")
    assert status == 503
    assert body["ready"] is False
    assert body["reasons"] == ["The database cannot be read (OperationalError)."]
    _, _, text = await get(f"{server.url}/metrics")
    assert "haven_database_reachable 0.0" in text


async def test_readyz_is_503_until_a_configured_platform_connects(
    tmp_path: Path, metrics: PrometheusMetrics
) -> None:
    settings = Settings(database_path=tmp_path / "haven.db", discord_token=Secret("t"))
    async with open_services(settings, metrics=metrics) as services:
        web = HavenWeb(services.health, metrics, port=0)
        await web.start()
        try:
            status, body = await get_json(f"{web.url}/readyz")
        finally:
            await web.stop()
    assert status == 503
    assert body["reasons"] == ["Discord: not connected yet"]
    assert body["platforms"]["discord"]["ready"] is False


async def test_metrics_uses_havens_own_registry(
    server: HavenWeb, metrics: PrometheusMetrics
) -> None:
    status, content_type, text = await get(f"{server.url}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    for name in (
        "haven_interactions_total",
        "haven_scheduled_posts_total",
        "haven_followups_dropped_total",
        "haven_cache_reloads_total",
        "haven_errors_total",
        "haven_scheduler_holder",
        "haven_database_reachable",
    ):
        assert f"# HELP {name.removesuffix('_total')}" in text, name
    # Nothing of Haven's is in the process-wide default registry, and two instances coexist.
    assert "haven_" not in prometheus_client.generate_latest().decode()
    PrometheusMetrics().interaction(Platform.SLACK, "support", InteractionOutcome.OK)


async def test_a_port_in_use_is_refused_with_a_sentence(server: HavenWeb) -> None:
    assert server.port is not None
    taken = HavenWeb(server._health, None, port=server.port)
    with pytest.raises(HttpStartupError, match=r"cannot listen on 127\.0\.0\.1"):
        await taken.start()


def test_command_labels_are_group_and_verb_names_only() -> None:
    known = known_commands([("message", ["add", "list"]), ("schedule", ["add"])])
    assert command_label("/support", known) == "support"
    assert command_label("/support coming-out GB", known) == "support"
    assert command_label("/support-admin message add You are loved", known) == "message add"
    assert command_label("/support-admin schedule add channel:#x", known) == "schedule add"
    assert command_label("/support-admin", known) == "help"
    assert command_label("/support-admin message frobnicate", known) == "message"
    # A forged button line or a typo can never become a label.
    assert command_label("/support-admin U0ASKER secret", known) == "other"
    assert command_label("haven:run:anything at all", known) == "other"


def test_the_rate_warning_comes_back_only_after_the_rate_recovered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = FailureRateWatch(window=200, min_samples=200)
    with caplog.at_level(logging.WARNING):
        for i in range(600):
            failing = i < 400 and i % 50 == 0  # 2 % for 400, then none
            watch.record(
                InteractionOutcome.UNKNOWN_INTERACTION if failing else InteractionOutcome.OK
            )
        for i in range(400):
            watch.record(
                InteractionOutcome.UNKNOWN_INTERACTION if i % 50 == 0 else InteractionOutcome.OK
            )
    warnings = [r for r in caplog.records if "10062" in r.getMessage()]
    assert len(warnings) == 2  # crossed, recovered, crossed again
    assert watch.rate(40060) == 0.0


# ---- Slack on the same port, and privacy of what /metrics shows -----------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as emulator:
        emulator.add_user(ADMIN, is_admin=True, name="Ada Admin")
        yield emulator


async def test_slack_events_are_served_on_the_same_port_and_metrics_name_nobody(
    tmp_path: Path, fake: FakeSlack, metrics: PrometheusMetrics
) -> None:
    settings = slack_settings(tmp_path, fake)
    async with open_services(settings, metrics=metrics) as services:
        web = HavenWeb(services.health, metrics, port=0, slack_events=True)
        await web.start()
        slack_task: asyncio.Task[None] | None = None
        try:
            async with aiohttp.ClientSession() as session:
                sender = SignedSender(f"{web.url}/slack/events", SIGNING_SECRET, fake, session)
                early = await sender.command("/support", "coming-out GB")
                assert early.status == 503  # the route exists; Slack retries until it attaches
                slack_task = asyncio.create_task(run_slack(services, shared=web))
                async with asyncio.timeout(5):
                    while (await get_json(f"{web.url}/readyz"))[0] != 200:  # noqa: ASYNC110
                        await asyncio.sleep(0.02)

                answer = await sender.command(
                    "/support", "coming-out GB secretword", user_id="U0PRIVATE"
                )
                assert answer.status == 200 and answer.json["response_type"] == "ephemeral"
                admin = await sender.command(
                    "/support-admin", "message add topics:coming-out hiddenphrase", user_id=ADMIN
                )
                assert admin.status == 200
                forged = await sender.post(
                    urlencode(fake.slash_command("/support", "x")), signature="v0=" + "0" * 64
                )
                assert forged.status == 401

                status, body = await get_json(f"{web.url}/readyz")
                _, _, text = await get(f"{web.url}/metrics")
        finally:
            if slack_task is not None:
                slack_task.cancel()
                await asyncio.gather(slack_task, return_exceptions=True)
            await web.stop()

    assert status == 200
    assert body["platforms"]["slack"] == {
        "ready": True,
        "detail": "serving /slack/events on Haven's HTTP server",
    }
    assert 'haven_interactions_total{command="support",outcome="ok",platform="slack"} 1.0' in text
    assert (
        'haven_interactions_total{command="message add",outcome="ok",platform="slack"} 1.0' in text
    )
    for private in ("U0PRIVATE", ADMIN, "secretword", "hiddenphrase", "coming-out", fake.base_url):
        assert private not in text, private


def test_settings_read_the_http_port_and_host(tmp_path: Path) -> None:
    from bot.settings import SettingsError, load_settings

    off = load_settings({}, env_file=None)
    assert (off.http_port, off.http_host) == (None, "127.0.0.1")
    on = load_settings({"HAVEN_HTTP_PORT": "9464", "HAVEN_HTTP_HOST": "0.0.0.0"}, env_file=None)
    assert (on.http_port, on.http_host) == (9464, "0.0.0.0")
    with pytest.raises(SettingsError, match="HAVEN_HTTP_PORT"):
        load_settings({"HAVEN_HTTP_PORT": "nine"}, env_file=None)
