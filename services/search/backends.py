"""Which search backend the settings ask for."""
from __future__ import annotations

from services.search.index_backend import SearchBackend
from services.search.settings import SearchSettings


def backend_from_settings(settings: SearchSettings) -> SearchBackend:
    if settings.backend == "tantivy":
        from services.search.tantivy_backend import TantivyBackend

        return TantivyBackend(settings.index_dir)
    if settings.backend == "elasticsearch":
        from services.search.elasticsearch_backend import ElasticsearchBackend

        if not settings.elasticsearch_url:
            raise ValueError("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL")
        return ElasticsearchBackend.from_url(settings.elasticsearch_url, settings.elasticsearch_index_prefix)
    raise ValueError(f"unknown SEARCH_BACKEND {settings.backend!r} (tantivy or elasticsearch)")
