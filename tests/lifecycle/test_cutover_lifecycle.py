"""The catalog cutover cycle on the real pieces under a steady write load: the carve kit's lifecycle
suite (tests/carve_kit/lifecycle.py) with the catalog's routes and write load."""
from tests.carve_kit.lifecycle import Lifecycle, lifecycle_test
from tests.lifecycle.catalog_load import CatalogWrites, catalog_reads

test_reads_then_writes_to_new_and_back_under_write_load = lifecycle_test(Lifecycle(
    read_route="catalog-read", write_route="catalog-write", writes=CatalogWrites, reads=catalog_reads))
