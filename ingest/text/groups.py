"""Disjoint sets (union-find) over 0..n-1, for grouping wire copies and stories (pure)."""

from __future__ import annotations


class DisjointSets:
    """Items 0..n-1 in groups; a group is known by its smallest item (its root), so when
    items are numbered oldest first a group is known by its first member."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def root(self, item: int) -> int:
        """The smallest item of `item`'s group."""
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]  # path halving: later look-ups are shorter
            item = parent[item]
        return item

    def join(self, a: int, b: int) -> None:
        """Put `a` and `b` in one group (known by the smaller of their roots)."""
        ra, rb = self.root(a), self.root(b)
        self._parent[max(ra, rb)] = min(ra, rb)
