"""btkernel.lru: the bound of the per-process caches keyed by what callers send."""

from __future__ import annotations

import pytest

from btkernel.lru import LRU


def test_the_least_recently_used_goes_first_beyond_the_bound() -> None:
    kept: LRU[str, int] = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # now the most recent: "b" goes next
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    assert len(kept) == 2
    kept.pop("a")
    kept.pop("absent")
    assert len(kept) == 1


def test_a_bound_of_zero_keeps_nothing_and_a_negative_one_is_refused() -> None:
    none: LRU[str, int] = LRU(0)
    none.put("a", 1)
    assert none.get("a") is None
    with pytest.raises(ValueError, match="max_size"):
        LRU(-1)
