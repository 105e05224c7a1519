"""How text becomes searchable words, in one place for indexing and querying.

Words are split on anything that is not a letter or digit, lower-cased and folded to ASCII
("Björk" -> "bjork"), so accents and case never decide whether something is found. No stemming: titles
and names are short and often not English, and a stemmer would merge distinct names; typo tolerance
and prefix matching give the recall instead. Elasticsearch is configured with the equivalent chain
(standard tokenizer, lowercase, asciifolding; see elasticsearch_mappings.py).
"""
from __future__ import annotations

import tantivy

MAX_WORD_CHARS = 40      # longer "words" are noise (hashes, URLs) and are dropped
MAX_PREFIX_CHARS = 20    # autocomplete matches on word prefixes up to this length

ANALYZER_NAME = "vobe_text"


def build_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


_analyzer = build_analyzer()


def words(text: str) -> list[str]:
    return _analyzer.analyze(text)


def word_prefixes(text: str) -> str:
    """Every prefix of every word, space separated (edge n-grams computed here rather than by an
    n-gram tokenizer, which would run over the whole string instead of each word)."""
    grams: list[str] = []
    for word in dict.fromkeys(words(text)):
        grams.extend(word[:end] for end in range(1, min(len(word), MAX_PREFIX_CHARS) + 1))
    return " ".join(grams)


def prefix_term(word: str) -> str:
    return word[:MAX_PREFIX_CHARS]
