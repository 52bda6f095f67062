"""Writing a file Haven was asked for (an exported pack, a backup) without harming its database.

Both the console (`pack export file:PATH`) and the CLI (`haven pack export -o`, `haven db
backup`) write files an operator or moderator names. A name can be the live database itself or
one of SQLite's side files: writing there destroys Haven's data, so it is refused. A file is
written beside its target and renamed into place, so a full disk never leaves half of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# SQLite keeps these beside the database while it is open.
DATABASE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def is_database_file(target: Path, database: Path) -> bool:
    """Whether `target` is the database or one of its side files (through links too)."""
    live = database.resolve()
    if target.resolve() in {live.with_name(live.name + suffix) for suffix in DATABASE_SIDE_FILES}:
        return True
    return target.exists() and live.exists() and os.path.samefile(target, live)


def write_replacing(target: Path, content: bytes) -> None:
    """Write `content` to `target` through a temporary file beside it, synced, then renamed:
    either the whole file is there or the old one is untouched. Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
