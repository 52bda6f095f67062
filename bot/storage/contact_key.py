"""The contact line's block key: HAVEN_CONTACT_KEY, or a key file made beside the SQLite file.

The key turns a blocked sender into a tag (bot/core/contact/keys.py). It is never written to
the database, so a database reader (or a leaked database or backup) cannot test whether a
given person is blocked. With SQLite the key file sits beside the database, mode 0600, made
on first use; `haven db backup` copies the database only. PostgreSQL has no file beside it
that every process shares, so a PostgreSQL Haven must set HAVEN_CONTACT_KEY.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import StorageUnavailable
from bot.settings import Settings
from bot.storage.engine import database_file

log = logging.getLogger(__name__)

NEEDS_KEY = (
    "HAVEN_CONTACT_KEY: a PostgreSQL Haven needs it for the moderator contact line (set "
    "the same long random value, e.g. from `openssl rand -hex 32`, for every process); "
    "until then /support-contact is off."
)


@dataclass(frozen=True, slots=True)
class ContactKey:
    key: bytes | None
    # Why the contact line is off ("" when the key is there).
    unavailable: str = ""


def key_file_for(database: Path) -> Path:
    return database.with_name(database.name + ".contact-key")


def load_contact_key(settings: Settings) -> ContactKey:
    if settings.contact_key is not None:
        return ContactKey(_derive(settings.contact_key.reveal()))
    database = database_file(settings)
    if database is None:
        log.warning(NEEDS_KEY)
        return ContactKey(None, NEEDS_KEY)
    return ContactKey(_derive(_read_or_make(key_file_for(database))))


def _derive(secret: str) -> bytes:
    # Any length of secret becomes a 32-byte HMAC key.
    return hashlib.sha256(b"haven-contact-block\x00" + secret.encode("utf-8")).digest()


# A key file shorter than this was cut short (a full disk, a copy gone wrong): a key derived
# from it would tag blocked senders differently from every other process.
MIN_KEY_CHARACTERS = 32


def _read_or_make(path: Path) -> str:
    if not path.exists():
        _make(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Readable by others: tighten it rather than refuse (it was made by someone copying
        # files by hand; the key itself is still good).
        os.chmod(path, 0o600)
        log.warning("The contact key file was readable by others; it is now mode 0600.")
    secret = path.read_text("utf-8").strip()
    if len(secret) < MIN_KEY_CHARACTERS:
        raise StorageUnavailable(
            f"The contact key file {path} is empty or cut short. Restore it from where you keep "
            "it, or delete it to make a new one (blocks made under the old key then end)."
        )
    return secret


def _make(path: Path) -> None:
    """Write a new key file whole, then link it into place: a process starting at the same
    moment sees no file or a complete one, never an empty one; the first link wins."""
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # another process made it first: theirs is the key
    finally:
        temporary.unlink(missing_ok=True)
