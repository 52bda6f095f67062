"""Services: everything an adapter needs, built once by the composition root (bot/app.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.commands.router import CommandRouter
from bot.core.communities import CommunityService
from bot.core.contact.commands import ContactCommands
from bot.core.content.curation import CurationService
from bot.core.content.releases import ReleaseService
from bot.core.dashboard import DashboardAccess
from bot.core.deliveries import DeliveryLedger
from bot.core.models import Platform
from bot.core.ports import (
    NO_METRICS,
    Clock,
    ContactPlatform,
    IdentifyGate,
    MemberDirectory,
    MetaRepository,
    Metrics,
    Publisher,
    Storage,
)
from bot.core.scheduling.schedules import ScheduleService
from bot.core.support import SupportService
from bot.core.usage import UsageService
from bot.metrics import Health
from bot.scheduler import PostScheduler
from bot.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    # The open database (either engine); adapters reach data only through the services.
    db: Storage
    clock: Clock
    communities: CommunityService
    support: SupportService
    curation: CurationService
    router: CommandRouter
    meta: MetaRepository
    schedules: ScheduleService
    scheduler: PostScheduler
    # Adapters register their scheduler publisher here (one per platform).
    register_publisher: Callable[[Publisher], None]
    # And their member directory (roles, user groups, members) for the moderator settings.
    register_directory: Callable[[MemberDirectory], None]
    # The shipped pack's release: its notices to each community's log channel.
    releases: ReleaseService
    # The publishers registered so far, by platform (read by the release notices).
    publishers: Mapping[Platform, Publisher]
    # Readiness facts for /readyz and /metrics: adapters register their connection status.
    health: Health
    # Platform events that may arrive more than once (Slack's retries), handled once.
    deliveries: DeliveryLedger
    # Sign-in to the moderator dashboard and its check of the moderator on every request.
    dashboard: DashboardAccess
    # What moderators see of /support use (aggregates, small buckets hidden) and reports.
    usage: UsageService
    # Counts for operators (no person in them); NO_METRICS in the console and most tests.
    metrics: Metrics = NO_METRICS
    # Discord's IDENTIFY turns shared by every process on this database (None: each process
    # keeps discord.py's own 5 s wait between its shards).
    identify_gate: IdentifyGate | None = None
    # The moderator contact line (/support-contact, /support-admin contact), and where each
    # adapter registers how it posts to the inbox and tells a person privately.
    contact: ContactCommands | None = None
    register_contact: Callable[[ContactPlatform], None] = lambda platform: None
