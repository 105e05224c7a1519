"""Realistic queries drawn from the benchmark's own catalogue: one-, two- and three-word phrases taken
from real track titles (so both engines have hits), and 2-4 letter prefixes for autocomplete."""
from __future__ import annotations

import random
import re

import psycopg

WORD = re.compile(r"[A-Za-z]+")


def sample_titles(database_url: str, count: int, seed: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT setseed(%s)", (seed / 1000,))
        return [row[0] for row in conn.execute(
            "SELECT title FROM catalog_track TABLESAMPLE SYSTEM (1) ORDER BY random() LIMIT %s", (count,))]


def phrases(titles: list[str], words: int, count: int, rng: random.Random) -> list[str]:
    """Runs of `words` consecutive words of real titles (exact substrings of them)."""
    found = []
    for title in titles:
        parts = WORD.findall(title)
        if len(parts) >= words:
            start = rng.randrange(len(parts) - words + 1)
            phrase = " ".join(parts[start:start + words])
            if phrase.lower() in title.lower():  # keep only exact substrings: both engines must find them
                found.append(phrase)
    rng.shuffle(found)
    return (found * (count // max(1, len(found)) + 1))[:count]


def prefixes(titles: list[str], count: int, rng: random.Random) -> list[str]:
    found = []
    for title in titles:
        parts = [w for w in WORD.findall(title) if len(w) >= 4]
        if parts:
            found.append(rng.choice(parts)[: rng.randint(2, 4)])
    rng.shuffle(found)
    return found[:count]


def query_sets(database_url: str, per_class: int, seed: int = 7) -> dict[str, list[str]]:
    rng = random.Random(seed)
    titles = sample_titles(database_url, per_class * 6, seed)
    return {
        "1 word": phrases(titles, 1, per_class, rng),
        "2 words": phrases(titles, 2, per_class, rng),
        "3 words": phrases(titles, 3, per_class, rng),
        "suggest": prefixes(titles, per_class, rng),
    }
