"""Noise detection as Diffy does it: fields that differ between two answers of the legacy system
itself (timestamps, random tokens, counters moving under concurrent writes) are noise, not
regressions of the candidate."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

MATCH, NOISE, MISMATCH = "match", "noise", "mismatch"


class NoiseModel:
    """Per route: how often each field differed between two legacy answers to the same request."""

    def __init__(self, min_hits: int = 1):
        self.min_hits = min_hits
        self.samples = 0
        self.hits: Counter[str] = Counter()

    def observe(self, fields: Iterable[str]) -> None:
        """Record one legacy-vs-legacy comparison by the fields that differed."""
        self.samples += 1
        self.hits.update(set(fields))

    def noisy_fields(self) -> frozenset[str]:
        return frozenset(f for f, hits in self.hits.items() if hits >= self.min_hits)

    def classify(self, fields: Iterable[str]) -> str:
        """`match` when nothing differs, `noise` when every differing field is known noise,
        otherwise `mismatch`."""
        fields = set(fields)
        if not fields:
            return MATCH
        return NOISE if fields <= self.noisy_fields() else MISMATCH

    def to_dict(self) -> dict:
        return {
            "samples": self.samples,
            "fields": {f: {"hits": n, "rate": round(n / self.samples, 4) if self.samples else 0.0}
                       for f, n in self.hits.most_common()},
        }
