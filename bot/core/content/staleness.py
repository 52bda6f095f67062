"""Which resources nobody has checked for a year, oldest first: for `haven pack check` and
`/support-admin resource stale` alike (helplines change numbers and hours; the oldest check is
the likeliest to be wrong)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.core.models import Resource

# Helplines change numbers and hours; a resource nobody has checked for a year is flagged.
STALE_AFTER_MONTHS = 12


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or that month's last day (29 February, 31 April)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class StaleResource:
    resource: Resource
    # Days since the last check; None when it was never checked.
    age_days: int | None

    def line(self) -> str:
        r = self.resource
        when = (
            f"last checked {r.last_verified.isoformat()} ({self.age_days} days ago)"
            if r.last_verified is not None
            else "never checked"
        )
        return f"{r.key} — {r.title} [{', '.join(r.regions)}]: {when}"


def stale_resources(resources: Iterable[Resource], today: date) -> list[StaleResource]:
    """Resources not verified in STALE_AFTER_MONTHS months, never-checked ones first, then
    the oldest check first."""
    cutoff = months_before(today, STALE_AFTER_MONTHS)
    found = [
        StaleResource(r, (today - r.last_verified).days if r.last_verified else None)
        for r in resources
        if r.last_verified is None or r.last_verified < cutoff
    ]
    found.sort(key=lambda s: (s.age_days is not None, -(s.age_days or 0), s.resource.key))
    return found
