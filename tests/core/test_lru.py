"""LruCache: bounded, forgets the least recently used, keeps None values apart from misses."""

from __future__ import annotations

import pytest

from bot.core.lru import LruCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_a_stored_none_is_found() -> None:
    cache: LruCache[str, int | None] = LruCache(1)
    assert cache.lookup("x") == (False, None)
    cache.put("x", None)
    assert cache.lookup("x") == (True, None)
    cache.pop("x")
    cache.pop("x")  # popping what is gone is harmless
    assert cache.lookup("x") == (False, None)


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LruCache(0)
