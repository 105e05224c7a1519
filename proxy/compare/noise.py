"""Noise detection as Diffy does it.

A field (by path template, `$.results[*].updated_at`) is noise only while the rate at which it
differs between two answers of the legacy system itself is close to the rate at which it differs
between legacy and the candidate. Both rates are measured over a sliding window of the last
`window` comparisons of each kind, and nothing is noise before both windows hold `min_samples`
comparisons. A field whose candidate rate is clearly above its legacy-vs-legacy rate (by more than
`absolute_threshold` AND by more than `relative_threshold` of the larger rate, Diffy's rule) is a
regression of the candidate, not noise, however often legacy itself disagrees on it.

Verdicts are given when a comparison is made, with the model as it is then: a field that turns out
to be noise later does not re-classify earlier mismatches, and one that stops being noise stops
hiding differences at once.
"""
from __future__ import annotations

from collections import Counter, deque
from typing import Iterable, Optional

from pydantic import BaseModel, ConfigDict, Field

MATCH, NOISE, MISMATCH = "match", "noise", "mismatch"


class NoiseSettings(BaseModel):
    """A compare profile's `noise:` options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relative_threshold: float = Field(
        0.20, ge=0, description="a field is a real difference only when (candidate rate - legacy rate) exceeds "
                                "this share of the larger of the two rates (Diffy's default 20 %)")
    absolute_threshold: float = Field(
        0.03, ge=0, le=1, description="... and exceeds this absolute difference of rates (Diffy's default 0.03)")
    window: int = Field(1000, ge=1, description="comparisons of each kind (legacy-vs-legacy, legacy-vs-candidate) "
                                                "the rates are measured over, newest kept")
    min_samples: int = Field(20, ge=1, description="comparisons of each kind needed in the window before any "
                                                   "field can be noise")


class NoiseModel:
    """Per route: how often each field differed between two legacy answers (the noise window) and
    between legacy and the candidate (the candidate window)."""

    def __init__(self, min_hits: int = 1, settings: Optional[NoiseSettings] = None):
        self.min_hits = max(1, min_hits)  # legacy-vs-legacy differences of a field needed, within the window
        self.settings = settings or NoiseSettings()
        self._noise = _Window(self.settings.window)
        self._candidate = _Window(self.settings.window)

    def configure(self, settings: Optional[NoiseSettings]) -> None:
        """Apply a profile's settings (a no-op when they are unchanged); the windows are kept, cut
        to the new size."""
        if settings is None or settings == self.settings:
            return
        self.settings = settings
        self._noise.resize(settings.window)
        self._candidate.resize(settings.window)

    @property
    def samples(self) -> int:
        """Legacy-vs-legacy comparisons in the window."""
        return len(self._noise)

    @property
    def candidate_samples(self) -> int:
        return len(self._candidate)

    def observe(self, fields: Iterable[str]) -> None:
        """Record one legacy-vs-legacy comparison by the fields that differed."""
        self._noise.add(fields)

    def observe_candidate(self, fields: Iterable[str]) -> None:
        """Record one legacy-vs-candidate comparison by the fields that differed."""
        self._candidate.add(fields)

    def noise_rate(self, field: str) -> Optional[float]:
        return self._noise.rate(field)

    def candidate_rate(self, field: str) -> Optional[float]:
        return self._candidate.rate(field)

    def is_noise(self, field: str) -> bool:
        settings = self.settings
        if len(self._noise) < settings.min_samples or len(self._candidate) < settings.min_samples:
            return False
        if self._noise.hits[field] < self.min_hits:
            return False
        noise, raw = self._noise.rate(field) or 0.0, self._candidate.rate(field) or 0.0
        excess = raw - noise
        larger = max(raw, noise)
        regression = (excess > settings.absolute_threshold
                      and larger > 0 and excess / larger > settings.relative_threshold)
        return not regression

    def noisy_fields(self) -> frozenset[str]:
        return frozenset(f for f in self._noise.hits if self.is_noise(f))

    def classify(self, fields: Iterable[str]) -> str:
        """`match` when nothing differs, `noise` when every differing field is noise now,
        otherwise `mismatch`."""
        fields = set(fields)
        if not fields:
            return MATCH
        return NOISE if all(self.is_noise(f) for f in fields) else MISMATCH

    def field_rates(self, field: str) -> dict:
        return {"noise_rate": _round(self._noise.rate(field)), "noise_hits": self._noise.hits[field],
                "noise_samples": len(self._noise),
                "candidate_rate": _round(self._candidate.rate(field)), "candidate_hits": self._candidate.hits[field],
                "candidate_samples": len(self._candidate), "noisy": self.is_noise(field)}

    def to_dict(self) -> dict:
        return {
            "samples": len(self._noise),
            "candidate_samples": len(self._candidate),
            "settings": self.settings.model_dump(),
            "fields": {f: self.field_rates(f) for f, _ in self._noise.hits.most_common()},
        }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


class _Window:
    """The differing-field sets of the last `size` comparisons, with a running count per field."""

    def __init__(self, size: int):
        self.size = size
        self.entries: deque[frozenset[str]] = deque()
        self.hits: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, fields: Iterable[str]) -> None:
        entry = frozenset(fields)
        self.entries.append(entry)
        self.hits.update(entry)
        self._trim()

    def resize(self, size: int) -> None:
        self.size = size
        self._trim()

    def _trim(self) -> None:
        while len(self.entries) > self.size:
            old = self.entries.popleft()
            self.hits.subtract(old)
            for name in old:
                if self.hits[name] <= 0:
                    del self.hits[name]

    def rate(self, field: str) -> Optional[float]:
        return self.hits[field] / len(self.entries) if self.entries else None
