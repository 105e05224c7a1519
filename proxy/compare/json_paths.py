"""JSON path patterns for compare profiles, and the concrete locations they match.

A pattern is written the way people read JSON:
    $                    the document root
    $.results            key `results` of the root object
    $.results[*].title   `title` of every element of `results`
    $.*.id               `id` of every member of the root object
    $..updated_at        `updated_at` at any depth

A concrete location is a tuple of steps: `str` for an object key, `int` for an array index and
`ItemKey` for an array element that a profile compares by key (`results[id=7]`). `[*]` matches both
kinds of array element, so one pattern keeps working when a profile starts keying an array.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence, Union


class ItemKey(str):
    """An array element identified by its key field rather than its position, e.g. `id=7`."""

    __slots__ = ()


Step = Union[str, int, ItemKey]
Location = tuple  # tuple[Step, ...]

_ANY_INDEX = ("index",)
_ANY_KEY = ("any",)
_DESCEND = ("descend",)

_TOKEN = re.compile(
    r"""
    \.\.(?P<deep>[A-Za-z_][\w\-]*|\*)?   # recursive descent, optionally with the key that follows
  | \.(?P<name>[A-Za-z_][\w\-]*)
  | \.\*
  | \[\*\]
  | \[(?P<index>\d+)\]
  | \[(?P<quoted>'[^']*'|"[^"]*")\]
    """,
    re.VERBOSE,
)


_IDENTIFIER = re.compile(r"[A-Za-z_][\w\-]*")


class PathSyntaxError(ValueError):
    pass


@lru_cache(maxsize=1024)
def parse_pattern(pattern: str) -> tuple:
    """Parse `$.a[*].b` into matcher tokens; raises PathSyntaxError with the offending position."""
    if not pattern.startswith("$"):
        raise PathSyntaxError(f"JSON path {pattern!r} must start with '$'")
    tokens: list = []
    pos = 1
    while pos < len(pattern):
        match = _TOKEN.match(pattern, pos)
        if not match:
            raise PathSyntaxError(f"JSON path {pattern!r}: cannot parse at position {pos}: {pattern[pos:]!r}")
        text = match.group(0)
        if text.startswith(".."):
            tokens.append(_DESCEND)
            deep = match.group("deep")
            if deep == "*":
                tokens.append(_ANY_KEY)
            elif deep:
                tokens.append(("key", deep))
        elif text == ".*":
            tokens.append(_ANY_KEY)
        elif text == "[*]":
            tokens.append(_ANY_INDEX)
        elif match.group("name") is not None:
            tokens.append(("key", match.group("name")))
        elif match.group("index") is not None:
            tokens.append(("at", int(match.group("index"))))
        else:
            tokens.append(("key", match.group("quoted")[1:-1]))
        pos = match.end()
    if tokens and tokens[-1] is _DESCEND:
        raise PathSyntaxError(f"JSON path {pattern!r} cannot end with '..'")
    return tuple(tokens)


def _step_matches(token: tuple, step: Step) -> bool:
    kind = token[0]
    if kind == "key":
        return isinstance(step, str) and not isinstance(step, ItemKey) and step == token[1]
    if kind == "index":
        return isinstance(step, (int, ItemKey))
    if kind == "any":
        return isinstance(step, str) and not isinstance(step, ItemKey)
    if kind == "at":
        return isinstance(step, int) and step == token[1]
    return False


def _matches(tokens: Sequence[tuple], location: Sequence[Step]) -> bool:
    if not tokens:
        return not location
    head = tokens[0]
    if head is _DESCEND:
        rest = tokens[1:]
        return any(_matches(rest, location[i:]) for i in range(len(location)))
    return bool(location) and _step_matches(head, location[0]) and _matches(tokens[1:], location[1:])


class PathSet:
    """A set of patterns; `contains(location)` says whether any pattern matches the location."""

    def __init__(self, patterns: Iterable[str] = ()):
        self.patterns = tuple(patterns)
        self._compiled = tuple(parse_pattern(p) for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def contains(self, location: Sequence[Step]) -> bool:
        return any(_matches(tokens, location) for tokens in self._compiled)

    def value_for(self, location: Sequence[Step], mapping: dict):
        """The value that `mapping` (pattern -> value) gives the first pattern matching `location`."""
        for pattern, tokens in zip(self.patterns, self._compiled):
            if _matches(tokens, location):
                return mapping[pattern]
        return None


def render_location(location: Sequence[Step], generalise: bool = False) -> str:
    """`('results', ItemKey('id=7'), 'title')` -> `$.results[id=7].title`.

    With `generalise`, every array element becomes `[*]` (`$.results[*].title`): differences are
    aggregated by field, so a report says "results[*].title differs in 40% of requests" instead of
    listing each element."""
    parts = ["$"]
    for step in location:
        if isinstance(step, (int, ItemKey)):
            parts.append("[*]" if generalise else f"[{step}]")
        elif _IDENTIFIER.fullmatch(step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{step!r}]")
    return "".join(parts)


def render_field(location: Sequence[Step]) -> str:
    return render_location(location, generalise=True)
