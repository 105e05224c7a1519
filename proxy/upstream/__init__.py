"""Talking to upstreams: the pooled HTTP/1.1 client and its connections, aiohttp for https, the
per-upstream pool with health probes and circuit breakers."""
