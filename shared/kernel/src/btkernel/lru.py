"""A dict of at most `max_size` entries that drops the least recently used first: the bound on every per-process
cache whose keys come from callers (tokens, user names), so that no stream of new keys grows memory without end.
What makes an entry still good (a token's expiry, a read's age) is the cache's own business, not this map's."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, max_size: int) -> None:
        if max_size < 0:
            raise ValueError("max_size must be 0 or more")
        self.max_size = max_size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry, now the most recently used; None when absent."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` as the most recently used; the least recently used go beyond `max_size` (0 keeps none)."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)
