"""The search service: a CDC-fed search index over tracks, artists, albums and posts.

Reading order: `documents` (what is indexed and what a hit looks like), `replica` (the rows the
documents are built from), `apply_change` (CDC event -> replica -> index), `index_backend` (the one
interface), `tantivy_backend` / `elasticsearch_backend`, `query_parser` + `views` (the HTTP side).
See docs/search.md.
"""
