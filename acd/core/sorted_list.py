"""A minimal sorted list (bisect on a Python list): O(log n) search, memmove insert/remove.

At the sizes the ACD sees (a few thousand entries per list) a memmove is a few microseconds,
cheaper than any pointer-based tree in pure Python.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=tuple[Any, ...])


class SortedList(Generic[K]):
    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[K] = []

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __getitem__(self, index: int) -> K:
        return self._items[index]

    def add(self, item: K) -> None:
        insort(self._items, item)

    def remove(self, item: K) -> None:
        index = bisect_left(self._items, item)
        if index >= len(self._items) or self._items[index] != item:
            raise KeyError(item)
        del self._items[index]

    def index_of(self, item: K) -> int:
        """0-based rank of ``item`` (the count of smaller items), present or not."""
        return bisect_left(self._items, item)

    def first(self) -> K:
        return self._items[0]
