"""The cutover lifecycle every carved domain runs, on the real pieces and under steady traffic:

    read route:  legacy -> shadow -> canary 50 -> new
    write route: legacy -> new (the proxy CLI hands write ownership to the service: it waits until
                 caught up per partition and aligns its sequences; service writes flow back to the
                 monolith through the outbox) -> legacy (ownership handed back, outbox drained)
    read route:  -> legacy

Flips go through `python -m proxy.cli set`. No request through the proxy may fail; every stage
checks which side answered (the proxy's per-upstream figures); the shadow stage checks that the
comparisons show no unexplained mismatch; at the end every declared table has the same row count
and checksum on both databases. Reads never pause; writes pause only around the write flips, as
the cutover runbook's freeze (caught up, outbox empty).

A domain's test names what is specific to it (tests/lifecycle/test_cutover_lifecycle.py):

    test_lifecycle = lifecycle_test(Lifecycle(read_route="catalog-read", write_route="catalog-write",
                                              writes=CatalogWrites, reads=catalog_reads))

with the domain itself (declaration and run module) named once by its conftest's `carved` fixture
(tests/carve_kit/fixtures.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import httpx
import pytest

from proxy.compare import ResponseSnapshot, compare_responses, load_profiles_file
from tests.carve_kit.load import Load, WriteLoad
from tests.carve_kit.proxy import flip, route_info, served, shadow_records, wait_shadow_settled
from tests.carve_kit.tables import assert_tables_equal

LEGACY = "legacy"


@dataclass(frozen=True)
class Lifecycle:
    read_route: str                         # e.g. "catalog-read" in proxy/routes.yaml
    write_route: str                        # its single-writer route (write_owner: <domain>)
    writes: Callable[[str], WriteLoad]      # monolith database URL -> the write load
    reads: Callable[[str], Sequence[str]]   # monolith database URL -> read paths (rows the load leaves alone)
    ops_per_stage: int = 15                 # write steps in every stage before the next flip


@dataclass
class Stage:
    """Which upstream answered how many requests of a route during one stage."""
    route: str
    before: dict
    after: dict

    def count(self, upstream: str) -> int:
        return self.after.get(upstream, 0) - self.before.get(upstream, 0)

    def __repr__(self) -> str:
        sides = sorted(self.before.keys() | self.after.keys())
        return f"{self.route}: " + ", ".join(f"{s} +{self.count(s)}" for s in sides)


class Run:
    """One lifecycle run: the load, the proxy, and the stage checks."""

    def __init__(self, spec: Lifecycle, stack):
        self.spec, self.stack = spec, stack
        self.proxy, self.service = stack.proxy, stack.service
        self.target = route_info(self.proxy, spec.read_route)["target"]
        assert route_info(self.proxy, spec.write_route)["target"] == self.target
        self.load: Load | None = None

    def stage(self, answered_by: dict[str, str], ops: int | None = None) -> dict[str, Stage]:
        """Run the load for a stage and check who answered each route: answered_by maps a route to
        "legacy", the target's name, or "both"."""
        self.load.settle()
        before = {route: served(self.proxy, route) for route in answered_by}
        self.load.run_for(ops or self.spec.ops_per_stage)
        self.load.settle()
        stages = {route: Stage(route, before[route], served(self.proxy, route)) for route in answered_by}
        print("lifecycle stage:", "; ".join(map(repr, stages.values())))     # shown when the test fails
        for route, side in answered_by.items():
            stage = stages[route]
            expected = {LEGACY, self.target} if side == "both" else {side}
            for upstream in (LEGACY, self.target):
                if upstream in expected:
                    assert stage.count(upstream) > 0, f"{upstream} answered nothing: {stage}"
                else:
                    assert stage.count(upstream) == 0, f"{upstream} answered while it should not: {stage}"
        return stages

    def explain_mismatches(self, records: list[dict]) -> list[dict]:
        """A shadow mismatch is explained when both sides answer the request alike once the replica
        has caught up: the difference was replication lag behind a write of the load. Returns the
        unexplained ones (with the differences still found)."""
        profile_name = route_info(self.proxy, self.spec.read_route)["compare"]
        profile = load_profiles_file(self.proxy.routes_file)[profile_name]
        # The same Host for both, as the proxy sends it (DRF's absolute links are built from it).
        headers = {"Host": self.proxy.url.removeprefix("http://")}
        unexplained = []
        with httpx.Client(timeout=30, headers=headers) as client:
            for request in {(r["request"]["method"], r["request"]["path"], r["request"]["query"]): r
                            for r in records}.values():
                method, path, query = request["request"]["method"], request["request"]["path"], request["request"]["query"]
                target = path + (f"?{query}" if query else "")
                answers = [client.request(method, base + target) for base in (self.stack.monolith.url, self.service.url)]
                legacy, candidate = (ResponseSnapshot(a.status_code, tuple((k.lower(), v) for k, v in a.headers.items()),
                                                      a.content) for a in answers)
                comparison = compare_responses(legacy, candidate, profile)
                if comparison.differences:
                    unexplained.append({"request": target, "at_shadow_time": request.get("differences"),
                                        "now": [d.to_dict() for d in comparison.differences]})
        return unexplained

    def run(self) -> None:
        spec, proxy, service = self.spec, self.proxy, self.service
        flip(proxy, spec.read_route, LEGACY)
        flip(proxy, spec.write_route, LEGACY)
        assert service.write_owner() == "monolith"
        service.wait_outbox_empty()
        service.wait_caught_up()
        outbox_before = self.outbox_entries()

        reads = spec.reads(self.stack.monolith_url)
        with Load(proxy.url, spec.writes(self.stack.monolith_url), reads) as self.load:
            load = self.load
            self.stage({spec.read_route: LEGACY, spec.write_route: LEGACY})

            flip(proxy, spec.read_route, "shadow")
            shadowed = self.stage({spec.read_route: LEGACY, spec.write_route: LEGACY})[spec.read_route]
            flip(proxy, spec.read_route, "canary", 50)
            self.stage({spec.read_route: "both", spec.write_route: LEGACY})
            flip(proxy, spec.read_route, "new")
            self.stage({spec.read_route: self.target, spec.write_route: LEGACY})

            # Writes: freeze, flip (the CLI hands write ownership over first), resume.
            load.pause_writes()
            service.wait_outbox_empty()
            flip(proxy, spec.write_route, "new")
            assert service.write_owner() == "service"
            load.resume_writes()
            self.stage({spec.read_route: self.target, spec.write_route: self.target})
            assert self.outbox_entries() > outbox_before, "writes on new did not go through the service's outbox"

            # Back: freeze, flip writes (ownership handed back, outbox drained), resume; then reads.
            load.pause_writes()
            flip(proxy, spec.write_route, LEGACY)
            assert service.write_owner() == "monolith"
            service.wait_outbox_empty()
            # The load goes on changing rows the service created while it owned the writes: those
            # monolith changes must not be taken for echoes of the service's writes.
            load.resume_writes()
            self.stage({spec.read_route: self.target, spec.write_route: LEGACY})
            flip(proxy, spec.read_route, LEGACY)
            self.stage({spec.read_route: LEGACY, spec.write_route: LEGACY})
        assert not load.failures, load.failures[:10]
        assert load.reads > 0 and load.writes >= 6 * spec.ops_per_stage

        service.wait_outbox_empty()
        service.wait_caught_up()
        assert_tables_equal(self.stack.carved, self.stack.monolith_url, service.database_url)

        # Shadow: every mirrored read was compared, and no mismatch is left unexplained.
        report = wait_shadow_settled(proxy, spec.read_route, shadowed.count(LEGACY))
        assert report["compared"] > 0, report
        mismatches = shadow_records(proxy, spec.read_route, "mismatch")
        # A record keeps the result it had when compared; the report may since count it as noise.
        assert len(mismatches) >= report["results"].get("mismatch", 0), (report, len(mismatches))
        unexplained = self.explain_mismatches(mismatches)
        print(f"shadow: {report['compared']} compared, {report['results']}, {len(mismatches)} mismatches "
              f"re-checked (fields {sorted({d['field'] for r in mismatches for d in r.get('differences') or ()})}), "
              f"{len(unexplained)} unexplained")
        assert not unexplained, unexplained[:5]

    def outbox_entries(self) -> int:
        import psycopg

        with psycopg.connect(self.service.database_url) as conn:
            return conn.execute(f"SELECT count(*) FROM {self.stack.carved.domain.sync_table('outbox')}").fetchone()[0]


def lifecycle_test(spec: Lifecycle):
    """The lifecycle as a test function for a domain's test module (fixtures: tests/carve_kit/fixtures.py)."""
    @pytest.mark.slow
    def test_reads_then_writes_to_new_and_back_under_write_load(carve_stack):
        Run(spec, carve_stack).run()

    return test_reads_then_writes_to_new_and_back_under_write_load
