"""Shadow mode: the serving processes' link to the shadow worker, the worker itself, the
exchanges it runs, the comparisons and the records."""
