"""The Slack adapter's in-memory cache of user facts and locales: an entry (a user id) is gone
from memory once its time is up, whether or not anyone reads it again."""

from __future__ import annotations

from bot.adapters.slack.context import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_leaves_memory_when_its_time_is_up_even_unread() -> None:
    clock = Clock()
    cache = TtlCache(clock)
    cache.put("T1:U0PERSON", "es-ES", 180)
    cache.put("T1:U0OTHER", "fr-FR", 30)
    assert cache.get("T1:U0PERSON") == "es-ES" and len(cache) == 2
    clock.now += 31
    assert len(cache) == 1  # the 30 s entry went without being read
    clock.now += 150
    cache.put("T1:U0THIRD", "de", 180)  # a put sweeps too
    assert "T1:U0PERSON" not in cache._items  # what memory holds is the point
    assert cache.get("T1:U0PERSON") is None and len(cache) == 1


def test_a_renewed_entry_keeps_its_new_time() -> None:
    clock = Clock()
    cache = TtlCache(clock)
    cache.put("k", "old", 10)
    clock.now += 5
    cache.put("k", "new", 10)
    clock.now += 6  # past the first expiry, within the second
    assert cache.get("k") == "new"
    clock.now += 5
    assert cache.get("k") is None


def test_a_full_cache_starts_again_instead_of_growing() -> None:
    clock = Clock()
    cache = TtlCache(clock, max_entries=3)
    for n in range(3):
        cache.put(f"k{n}", n, 100)
    cache.put("k3", 3, 100)
    assert len(cache) == 1 and cache.get("k3") == 3
