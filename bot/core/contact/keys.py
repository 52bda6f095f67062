"""The secrets of the contact line: the person's reply key, the block tag, and what lives only
in this process's memory (the link from a request to its sender, the cooldown).

- The reply key is 128 random bits given to the person only; the database keeps its SHA-256.
  A key that random needs no slow hash: nobody can guess one to test against the hashes.
- A block is HMAC(contact key, community + user): the contact key is never in the database,
  so a database reader cannot test whether someone is blocked; an operator with both can.
- The link and the cooldown are dictionaries in memory: a restart forgets them, on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from datetime import datetime, timedelta

from bot.core.ports import Clock

TOKEN_BYTES = 16


def new_token() -> str:
    """A reply key: 22 URL-safe characters (fits a Discord custom_id with room to spare)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def block_tag(key: bytes, community_id: str, user_id: str) -> str:
    message = f"{community_id}\x00{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _stream(key: bytes, label: str, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, f"{label}\x00{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return out[:length]


def seal(key: bytes, label: str, value: str) -> str:
    """`value` hidden from whoever lacks `key`: XOR with an HMAC keystream that is unique to
    `label` (one request's inbox message), as hex. For a platform message id, which tells the
    time it was posted (a Discord snowflake, a Slack ts): the database must not say when a
    request was sent, and only the inbox message's edits need the id back."""
    data = value.encode("utf-8")
    return bytes(a ^ b for a, b in zip(data, _stream(key, label, len(data)), strict=True)).hex()


def unseal(key: bytes, label: str, sealed: str) -> str:
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, _stream(key, label, len(data)), strict=True)).decode()


class SenderLinks:
    """Request -> the person who sent it, in this process only: so Haven can tell them about
    a reply, and a moderator can block the sender without learning who it is. Bounded: the
    oldest links go first (that person still reads replies with their key)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._links: OrderedDict[tuple[str, int], str] = OrderedDict()

    def remember(self, community_id: str, number: int, user_id: str) -> None:
        self._links[(community_id, number)] = user_id
        self._links.move_to_end((community_id, number))
        while len(self._links) > self._capacity:
            self._links.popitem(last=False)

    def get(self, community_id: str, number: int) -> str | None:
        return self._links.get((community_id, number))

    def forget(self, community_id: str, number: int) -> None:
        self._links.pop((community_id, number), None)

    def __len__(self) -> int:
        return len(self._links)


class Cooldown:
    """One new request per person and community per `every`, with no identity kept: people
    are told apart by an HMAC under a key made at start-up and never written anywhere, so
    the table means nothing outside this process, and a restart empties it."""

    PRUNE_AT = 4096

    def __init__(self, clock: Clock, every: timedelta) -> None:
        self._clock = clock
        self._every = every
        self._key = secrets.token_bytes(32)
        self._until: dict[bytes, datetime] = {}

    def _who(self, community_id: str, user_id: str) -> bytes:
        message = f"{community_id}\x00{user_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:16]

    def peek(self, community_id: str, user_id: str) -> timedelta | None:
        """How long until this person may send, without starting a wait (None: now)."""
        now = self._clock.now()
        until = self._until.get(self._who(community_id, user_id))
        return until - now if until is not None and until > now else None

    def take(self, community_id: str, user_id: str) -> timedelta | None:
        """None when the person may send now (and the wait starts); else how long to wait."""
        now = self._clock.now()
        who = self._who(community_id, user_id)
        until = self._until.get(who)
        if until is not None and until > now:
            return until - now
        self._until[who] = now + self._every
        if len(self._until) > self.PRUNE_AT:
            self._until = {k: at for k, at in self._until.items() if at > now}
        return None

    def give_back(self, community_id: str, user_id: str) -> None:
        """The request did not go out: the person may try again at once."""
        self._until.pop(self._who(community_id, user_id), None)
