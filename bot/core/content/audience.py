"""Audiences and age ranges: read as moderators and pack authors write them, shown as labels.

An age-limited service must say so where a person reads it ("for people under 19"), so that
an adult in crisis is never left with a children's line as the only number they see.
"""

from __future__ import annotations

import re

from bot.core.errors import ValidationFailed
from bot.core.i18n import ENGLISH, Words
from bot.core.models import Audience

MAX_AGE = 120
_UNDER = re.compile(r"^(?:under|<)\s*(\d{1,3})$", re.I)
_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})$", re.I)
_OVER = re.compile(r"^(\d{1,3})\s*(?:\+|and over|or over|and older)$", re.I)
AGES_HINT = 'Write the ages like "under 19", "5-25" or "18+".'
_AUDIENCE_HINT = "Audiences: " + ", ".join(a.value for a in Audience) + "."


def parse_audience(field: str, value: str) -> Audience:
    """An audience from its name; spaces for dashes and a trailing s are forgiven."""
    typed = value.strip().lower().replace(" ", "-").replace("_", "-")
    for audience in Audience:
        if typed in (audience.value, audience.value.rstrip("s"), audience.name.lower()):
            return audience
    if typed in ("all", "all-ages", "anyone"):
        return Audience.EVERYONE
    if typed in ("youth", "young", "children", "kids"):
        return Audience.YOUNG_PEOPLE
    if typed in ("family", "families", "parents"):
        return Audience.PARENTS_AND_FAMILIES
    raise ValidationFailed([f"{field}: '{value.strip()[:40]}' is not an audience."], _AUDIENCE_HINT)


def parse_ages(field: str, value: str) -> tuple[int | None, int | None]:
    """(youngest, oldest), both inclusive: "under 19" -> (None, 18); "" or "none" -> no range."""
    text = value.strip()
    if not text or text.lower() in ("none", "all", "any"):
        return None, None
    if match := _UNDER.match(text):
        limit = int(match.group(1))
        if 1 < limit <= MAX_AGE:
            return None, limit - 1
    elif match := _RANGE.match(text):
        low, high = int(match.group(1)), int(match.group(2))
        if 0 <= low <= high <= MAX_AGE:
            return low, high
    elif match := _OVER.match(text):
        low = int(match.group(1))
        if 0 < low <= MAX_AGE:
            return low, None
    raise ValidationFailed([f"{field}: '{text[:40]}' is not an age range."], AGES_HINT)


def ages_text(age_min: int | None, age_max: int | None) -> str:
    """The form parse_ages reads back: "under 19", "5-25", "18+", or ""."""
    if age_min is not None and age_max is not None:
        return f"{age_min}-{age_max}"
    if age_max is not None:
        return f"under {age_max + 1}"
    if age_min is not None:
        return f"{age_min}+"
    return ""


def audience_label(
    audience: Audience, age_min: int | None, age_max: int | None, words: Words = ENGLISH
) -> str:
    """What a reader is told about who a service is for, in their language; "" for everyone."""
    if age_min is not None and age_max is not None:
        return words.gettext("for ages {low} to {high}").format(low=age_min, high=age_max)
    if age_max is not None:
        return words.gettext("for people under {age}").format(age=age_max + 1)
    if age_min is not None:
        return words.gettext("for people {age} and over").format(age=age_min)
    if audience is Audience.YOUNG_PEOPLE:
        return words.gettext("for young people")
    if audience is Audience.PARENTS_AND_FAMILIES:
        return words.gettext("for parents and families")
    if audience is Audience.ALLIES:
        return words.gettext("for allies")
    return ""
