"""What the benchmarks measure the same way: a process's resident memory, percentiles, and how
many communities a benchmarked Haven has stored so far."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path


def rss_mib(pid: int) -> float:
    """Resident memory of a running process, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


async def count_communities(db_path: Path) -> int:
    """Communities in a SQLite database another process is writing; -1 while unreadable."""

    def count() -> int:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM communities").fetchone()[0])

    try:
        return await asyncio.to_thread(count)
    except sqlite3.Error:
        return -1
