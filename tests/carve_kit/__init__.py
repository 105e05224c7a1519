"""The carve kit's test kit: what a carved domain's tests on the real pieces use, so that a
domain's lifecycle test is its write load and a few lines.

- service.py: CarvedDomain (declaration module + run module; the rest follows from the kit's
  conventions), the service's database, `start_service` / CarvedService (the process and the
  kit's internal endpoints: sync status, caught up, outbox, write ownership, the kit's CLI);
- fixtures.py: session fixtures (monolith database with demo data, broker, relay, the service's
  database and process) and per-test ones (the monolith's HTTP server, the proxy: `carve_stack`);
- proxy.py: the proxy on a copy of proxy/routes.yaml, flips through its CLI, per-upstream figures,
  the shadow report;
- load.py: steady writes (the domain's WriteLoad) and reads through the proxy;
- tables.py: row counts and checksums of every declared table on both databases;
- lifecycle.py: the lifecycle suite (`lifecycle_test(Lifecycle(...))`)."""
