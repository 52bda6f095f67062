"""Database size of 1,000 new communities: content in layers vs a full copy per community.

Two SQLite databases are built in the same run, both migrated to this Haven's schema:

- layers:    the shipped pack stored once (as start-up does), then N communities joined as
             CommunityService joins them now (a settings row, nothing else);
- full copy: N communities each seeded with the whole default pack, the way Haven seeded them
             before layers (pack_to_changes into the community's own tables).

Each file is checkpointed and VACUUMed, and its size printed with the ratio (aim: the layers
database at least 20x smaller).

    python bench/layers_size.py            # 1,000 communities
    python bench/layers_size.py --quick    # 50 communities, a few seconds (CI smoke)
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import migrate_and_ship  # noqa: E402
from bot.core.content.packs import load_default_pack, pack_to_changes  # noqa: E402
from bot.core.models import Community, Platform  # noqa: E402
from bot.storage.database import Database  # noqa: E402
from bot.storage.repositories import SqlCommunityRepository  # noqa: E402


async def _build(path: Path, communities: int, full_copy: bool) -> None:
    database = await Database.open(path)
    try:
        await migrate_and_ship(database)
        repository = SqlCommunityRepository(database)
        seed = pack_to_changes(load_default_pack()) if full_copy else None
        if full_copy:
            # The old way: no shared layer, every community holds its own copy.
            async with database.write() as conn:
                for table in ("topics", "messages", "resources", "emergency_numbers"):
                    await conn.execute(f"DELETE FROM shipped_{table}")
        for n in range(communities):
            community = Community(
                id=f"discord:{10**17 + n}", platform=Platform.DISCORD, name=f"Server {n}"
            )
            await repository.create_if_missing(community, seed)
    finally:
        await database.close()


def _size(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
    return sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 communities (CI smoke)")
    parser.add_argument("--communities", type=int, default=None)
    args = parser.parse_args()
    count = args.communities or (50 if args.quick else 1000)
    with tempfile.TemporaryDirectory() as directory:
        layers, full = Path(directory, "layers", "haven.db"), Path(directory, "full", "haven.db")
        layers.parent.mkdir()
        full.parent.mkdir()
        await _build(layers, count, full_copy=False)
        await _build(full, count, full_copy=True)
        layered_bytes, full_bytes = _size(layers), _size(full)
    ratio = full_bytes / layered_bytes
    print(f"{count} new communities, SQLite, after VACUUM:")
    print(f"  full copy per community: {full_bytes / 1e6:9.2f} MB")
    print(f"  content in layers:       {layered_bytes / 1e6:9.2f} MB")
    print(f"  layers are {ratio:.1f}x smaller (aim: at least 20x)")


if __name__ == "__main__":
    asyncio.run(main())
