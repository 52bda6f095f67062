"""What Haven reports about itself: Prometheus counts (the Metrics port) and live readiness.

- `PrometheusMetrics` implements `bot.core.ports.Metrics` on its own CollectorRegistry (never
  prometheus-client's global default, so two instances in one process, as in the tests, do not
  collide, and nothing a library registers globally leaks into Haven's /metrics). Labels come
  only from fixed sets: a command is reduced to a known group/verb name (`command_label`), so
  whatever someone typed or a forged button carries can never become a label.
- `FailureRateWatch` warns when Discord's 10062 (unknown interaction) or 40060 (already
  acknowledged) passes 0.5 % of the last 1,000 interactions: a small rate is normal noise
  upstream; more means answers are late or a second process answers on the same token.
- `Health` gathers what /readyz, /metrics and the logs say about this process: the database
  (one cheap read), each platform's connection (adapters register a status function), and
  whether this process runs the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.models import Platform
from bot.core.ports import InteractionOutcome, StatusReader

log = logging.getLogger(__name__)

# The label for any command that is not one of Haven's own group/verb names.
OTHER_COMMAND = "other"
# Labels beyond the verb tables: /support and its menus and DM button on Discord.
EXTRA_COMMANDS = (
    "support",
    "support topic menu",
    "support region menu",
    "support report",
    "dm copy",
    "help",
)

FAILURE_CODES: Mapping[InteractionOutcome, int] = {
    InteractionOutcome.UNKNOWN_INTERACTION: 10062,
    InteractionOutcome.ALREADY_ACKNOWLEDGED: 40060,
}
FAILURE_NAMES: Mapping[int, str] = {10062: "Unknown interaction", 40060: "already acknowledged"}
# Discord's own advice is to budget for a small failure rate; over this, someone should look.
FAILURE_RATE_LIMIT = 0.005
FAILURE_WINDOW = 1000
# A rate over a handful of interactions is noise (one failure among ten is 10 %).
FAILURE_MIN_SAMPLES = 200
# How long a status function may take before the platform counts as not answering.
STATUS_TIMEOUT = 2.0


def command_label(what: str, known: Collection[str]) -> str:
    """The counter label for a command: the longest known group/verb name it starts with
    ("/support-admin message add" -> "message add", "/support coming-out GB" -> "support"),
    else "other". Never anything typed after the verb."""
    words = what.strip().lower().lstrip("/").split()
    if words and words[0] == "support-admin":
        words = words[1:] or ["help"]
    for size in (3, 2, 1):
        candidate = " ".join(words[:size])
        if len(words) >= size and candidate in known:
            return candidate
    return OTHER_COMMAND


def known_commands(tables: Iterable[tuple[str, Iterable[str]]]) -> frozenset[str]:
    """Every label `command_label` may return, from (group, verb names) pairs."""
    names = set(EXTRA_COMMANDS)
    for group, verbs in tables:
        names.add(group)
        names.update(f"{group} {verb}" for verb in verbs if verb)
    return frozenset(names)


class FailureRateWatch:
    """The share of 10062 and 40060 answers among the last `window` Discord interactions,
    with one warning each time a code's share rises past `limit` (not one per failure)."""

    def __init__(
        self,
        *,
        window: int = FAILURE_WINDOW,
        limit: float = FAILURE_RATE_LIMIT,
        min_samples: int = FAILURE_MIN_SAMPLES,
        logger: logging.Logger = log,
    ) -> None:
        self._window = window
        self._limit = limit
        self._min_samples = min(min_samples, window)
        self._log = logger
        self._recent: deque[int] = deque()  # a failure code, or 0 for any other outcome
        self._counts: Counter[int] = Counter()
        self._warned: set[int] = set()

    def record(self, outcome: InteractionOutcome) -> None:
        code = FAILURE_CODES.get(outcome, 0)
        self._recent.append(code)
        self._counts[code] += 1
        if len(self._recent) > self._window:
            self._counts[self._recent.popleft()] -= 1
        if len(self._recent) < self._min_samples:
            return
        for failure in FAILURE_CODES.values():
            self._check(failure)

    def rate(self, code: int) -> float:
        return self._counts[code] / len(self._recent) if self._recent else 0.0

    def _check(self, code: int) -> None:
        rate = self.rate(code)
        if rate <= self._limit:
            self._warned.discard(code)  # back to normal: warn again if it rises once more
            return
        if code in self._warned:
            return
        self._warned.add(code)
        self._log.warning(
            "Discord answered %d of the last %d interactions with %d (%s): %.1f %%, over "
            "%.1f %%. Answers may be too slow, or a second process may be answering with the "
            "same token.",
            self._counts[code],
            len(self._recent),
            code,
            FAILURE_NAMES[code],
            rate * 100,
            self._limit * 100,
        )


@dataclass(frozen=True, slots=True)
class PlatformStatus:
    """One platform connection as its adapter sees it."""

    ready: bool
    detail: str
    # Discord only: gateway shards connected, and the heartbeat round trip (their average).
    shards_connected: int | None = None
    latency_seconds: float | None = None
    # Discord only: the shards this process holds, those ready, the total count, and each
    # open shard's heartbeat round trip.
    shards: tuple[int, ...] = ()
    shards_ready: tuple[int, ...] = ()
    shard_count: int | None = None
    shard_latencies: Mapping[int, float] = field(default_factory=dict)


StatusSource = Callable[[], Awaitable[PlatformStatus]]


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: tuple[str, ...]
    database: str
    scheduler: str
    platforms: Mapping[Platform, PlatformStatus] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "reasons": list(self.reasons),
            "database": self.database,
            "scheduler": self.scheduler,
            "platforms": {
                platform.value: {
                    "ready": status.ready,
                    "detail": status.detail,
                    **(
                        {"shards_connected": status.shards_connected}
                        if status.shards_connected is not None
                        else {}
                    ),
                    **(
                        {"latency_seconds": round(status.latency_seconds, 4)}
                        if status.latency_seconds is not None
                        else {}
                    ),
                    **(
                        {
                            "shards": list(status.shards),
                            "shards_ready": list(status.shards_ready),
                            "shard_count": status.shard_count,
                        }
                        if status.shards
                        else {}
                    ),
                }
                for platform, status in self.platforms.items()
            },
        }


class Health:
    """Readiness of this process: storage, the platforms it serves, its scheduler role."""

    def __init__(
        self,
        probe: StatusReader,
        expected: Collection[Platform],
        scheduler_holder: Callable[[], bool],
        scheduler_platforms: Callable[[], Collection[Platform]] = tuple,
    ) -> None:
        self._probe = probe
        self._expected = tuple(expected)
        self._holder = scheduler_holder
        self._scheduler_platforms = scheduler_platforms
        self._sources: dict[Platform, StatusSource] = {}
        self.last: Readiness | None = None

    def register(self, platform: Platform, source: StatusSource) -> None:
        """An adapter's status function (a new connection replaces the one before)."""
        self._sources[platform] = source

    @property
    def scheduler_role(self) -> str:
        return "holder" if self._holder() else "standby"

    @property
    def scheduled_platforms(self) -> tuple[Platform, ...]:
        """The platforms whose scheduled posts this process leads or stands by for."""
        return tuple(sorted(self._scheduler_platforms(), key=lambda platform: platform.value))

    async def check(self) -> Readiness:
        reasons: list[str] = []
        try:
            await asyncio.wait_for(self._probe.ping(), STATUS_TIMEOUT)
            database = "ok"
        except Exception as error:
            database = f"unreachable ({type(error).__name__})"
            reasons.append(f"The database cannot be read ({type(error).__name__}).")
        platforms: dict[Platform, PlatformStatus] = {}
        for platform in self._expected:
            status = await self._platform(platform)
            platforms[platform] = status
            if not status.ready:
                reasons.append(f"{platform.value.capitalize()}: {status.detail}")
        self.last = Readiness(
            ready=not reasons,
            reasons=tuple(reasons),
            database=database,
            scheduler=self.scheduler_role,
            platforms=platforms,
        )
        return self.last

    async def _platform(self, platform: Platform) -> PlatformStatus:
        source = self._sources.get(platform)
        if source is None:
            return PlatformStatus(False, "not connected yet")
        try:
            return await asyncio.wait_for(source(), STATUS_TIMEOUT)
        except Exception as error:
            return PlatformStatus(False, f"its status could not be read ({type(error).__name__})")


class _HealthCollector(Collector):
    """Gauges from the latest readiness check (the /metrics handler runs one first)."""

    def __init__(self, health: Health) -> None:
        self._health = health

    def collect(self) -> Iterator[Metric]:
        # Per platform: each platform's posts have one leader, so over all processes the sum
        # for a platform is 1 (a Slack-only process leads Slack while another leads Discord).
        holder = GaugeMetricFamily(
            "haven_scheduler_holder",
            "1 when this process leads the platform's scheduled posts, 0 on standby",
            labels=["platform"],
        )
        leads = 1.0 if self._health.scheduler_role == "holder" else 0.0
        for platform in self._health.scheduled_platforms:
            holder.add_metric([platform.value], leads)
        yield holder
        last = self._health.last
        if last is None:
            return
        database = GaugeMetricFamily(
            "haven_database_reachable", "1 when the last readiness read of the database worked"
        )
        database.add_metric([], 1.0 if last.database == "ok" else 0.0)
        yield database
        ready = GaugeMetricFamily(
            "haven_platform_ready", "1 when the platform connection is ready", labels=["platform"]
        )
        shards = GaugeMetricFamily("haven_discord_shards_connected", "Discord shards connected")
        # Labelled by shard id (0..count-1): a fixed, small set that names no one.
        latency = GaugeMetricFamily(
            "haven_discord_gateway_latency_seconds",
            "Discord gateway heartbeat round trip, per shard this process holds",
            labels=["shard"],
        )
        for platform, status in last.platforms.items():
            ready.add_metric([platform.value], 1.0 if status.ready else 0.0)
            if platform is Platform.DISCORD:
                shards.add_metric([], float(status.shards_connected or 0))
                for shard_id, seconds in sorted(status.shard_latencies.items()):
                    if math.isfinite(seconds):
                        latency.add_metric([str(shard_id)], seconds)
        yield ready
        if Platform.DISCORD in last.platforms:
            yield shards
            yield latency


class PrometheusMetrics:
    """The Metrics port on its own registry; `watch` adds the live gauges from Health."""

    def __init__(self, *, failure_watch: FailureRateWatch | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._known: frozenset[str] = frozenset(EXTRA_COMMANDS)
        self._watch = failure_watch or FailureRateWatch()
        self._health: Health | None = None
        self._interactions = PromCounter(
            "haven_interactions",
            "Commands, buttons and forms answered, by platform, command and outcome",
            ["platform", "command", "outcome"],
            registry=self.registry,
        )
        self._discord_failures = PromCounter(
            "haven_discord_interaction_failures",
            "Discord interactions that could not be answered, by error code (never retried)",
            ["code"],
            registry=self.registry,
        )
        for code in FAILURE_CODES.values():
            self._discord_failures.labels(str(code))  # present at 0 from the start
        self._posts = PromCounter(
            "haven_scheduled_posts",
            "Scheduled slots finished, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self._fallbacks = PromCounter(
            "haven_followup_fallbacks",
            "Follow-ups delivered another private way (Slack: chat.postEphemeral)",
            ["platform"],
            registry=self.registry,
        )
        self._dropped = PromCounter(
            "haven_followups_dropped",
            "Follow-ups not delivered because no private way was left, by reason",
            ["platform", "reason"],
            registry=self.registry,
        )
        self._reloads = PromCounter(
            "haven_cache_reloads",
            "Community libraries loaded from storage into memory",
            registry=self.registry,
        )
        self._invalidations = PromCounter(
            "haven_cache_invalidations",
            "Cached community state dropped on a change announced through the database, by "
            "scope (community: one community changed; all: the feed reconnected)",
            ["scope"],
            registry=self.registry,
        )
        self._errors = PromCounter(
            "haven_errors",
            "Unexpected failures, by exception type",
            ["kind"],
            registry=self.registry,
        )

    def watch(self, health: Health, commands: Collection[str]) -> None:
        """Called by the composition root once the verb tables and Health exist."""
        self._known = frozenset(commands) | frozenset(EXTRA_COMMANDS)
        if self._health is None:
            self.registry.register(_HealthCollector(health))
        self._health = health

    # ---- the Metrics port ------------------------------------------------------------------

    def interaction(self, platform: Platform, command: str, outcome: InteractionOutcome) -> None:
        label = command_label(command, self._known)
        self._interactions.labels(platform.value, label, outcome.value).inc()
        if platform is Platform.DISCORD:
            code = FAILURE_CODES.get(outcome)
            if code is not None:
                self._discord_failures.labels(str(code)).inc()
            self._watch.record(outcome)

    def scheduled_post(self, outcome: str) -> None:
        self._posts.labels(outcome).inc()

    def followup_fallback(self, platform: Platform) -> None:
        self._fallbacks.labels(platform.value).inc()

    def followup_dropped(self, platform: Platform, reason: str) -> None:
        self._dropped.labels(platform.value, reason).inc()

    def cache_reload(self) -> None:
        self._reloads.inc()

    def cache_invalidation(self, scope: str) -> None:
        self._invalidations.labels(scope).inc()

    def error(self, kind: str) -> None:
        self._errors.labels(kind).inc()
