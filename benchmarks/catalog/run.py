"""`./dev bench catalog [ARGS]`: the catalog service vs the monolith, side by side (see bench.py)."""
from benchmarks.catalog.bench import main

main()
