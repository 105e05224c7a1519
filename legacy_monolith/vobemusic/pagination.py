"""The one page envelope the public API has used since v1: {count, next, previous, results}."""
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
