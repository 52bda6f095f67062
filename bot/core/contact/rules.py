"""The rules of the contact line in one place: kinds, statuses, limits, the command lines."""

from __future__ import annotations

import enum
from datetime import timedelta

CONTACT_COMMAND = "support-contact"
CONTACT_GROUP = "contact"  # `/support-admin contact ...`: the moderators' verbs

# What a person writes: far inside a Discord modal (4000) and a Slack view (3000), and short
# enough that the request and a few replies fit one inbox message (an embed holds 4096).
TEXT_MAX = 1500
# A thread longer than this is closed to new lines: a conversation that long belongs
# somewhere other than an anonymous inbox, and each line must fit the inbox message.
THREAD_MAX = 40
# Lines of the thread shown in the inbox message (the newest; the rest are counted).
THREAD_SHOWN = 8
DEFAULT_RETENTION_DAYS = 30
DEFAULT_BLOCK_DAYS = 30
DEFAULT_COOLDOWN = timedelta(minutes=10)
AUDIT_SHOWN = 20


class RequestKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    MYSELF = "myself"  # the moderators see who wrote
    CHECK_IN = "check-in"  # "I'm struggling right now": anonymous, text optional

    @property
    def anonymous(self) -> bool:
        return self is not RequestKind.MYSELF


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DELETED = "deleted"  # by the sender: text and thread gone, number kept until the purge


def person_line(verb: str, token: str = "") -> str:
    """The line a person's button runs (`/support-contact open <key>`)."""
    return f"/{CONTACT_COMMAND} {verb} {token}".strip()


def moderator_line(verb: str, number: int) -> str:
    """The line an inbox button runs (`/support-admin contact reply number:12`)."""
    return f"/support-admin {CONTACT_GROUP} {verb} number:{number}"
