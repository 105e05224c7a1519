"""CDC benchmark: commit -> consumed / applied latency for single-row writes, and sustained
throughput from a bulk write to rows applied in a target database.

Everything is real and started here: a throwaway Postgres cluster (wal_level=logical), the monolith
schema (Django migrations), Tansu, the relay (`python -m cdc.relay`, its own slot) and a
ConsumerRunner applying to a target database. Prints its figures next to the naive relay's
(issue 3: 13 ms p50 / 32 ms p99, ~3,000 rows/s).

    ./dev bench cdc [--writes 300] [--rows 100000]     (or .venv/bin/python benchmarks/cdc/run.py)
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from confluent_kafka import Consumer  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from cdc.broker import EmbeddedBroker  # noqa: E402
from cdc.connector_config import ConnectorConfig, remove_offsets_files  # noqa: E402
from cdc.consumer import ConsumerRunner, TopicMap, consumer_config  # noqa: E402
from cdc.settings import DEFAULT_CONNECTOR_FILE, CdcSettings  # noqa: E402
from cdc.source_setup import drop_slot  # noqa: E402
from cdc.testing import RelayProcess, mirror_tables, seed_listener, table_checksum, wait_until  # noqa: E402
from stack.components.cdc_relay import relay_env  # noqa: E402
from stack.postgres_cluster import PostgresCluster  # noqa: E402
from stack.settings import StackSettings  # noqa: E402
from tests.support.postgres_plugin import free_port  # noqa: E402

NAIVE = {"p50_ms": 13, "p99_ms": 32, "rows_per_s": 3000}
RELAY_POLL_SECS = 0.25   # how often the bulk run asks the relay's /status (was every 50 ms)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class GcPauses:
    """Longest garbage-collector pauses in this process (they stall every thread, consumers included)."""

    def __init__(self):
        self.pauses: list[float] = []
        self.by_generation: dict[int, list[float]] = {}
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase, info) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.pauses.append(pause)
            self.by_generation.setdefault(info["generation"], []).append(pause)

    def reset(self) -> None:
        self.pauses = []
        self.by_generation = {}

    def summary(self) -> str:
        return "; ".join(f"generation {gen}: {len(p)}, total {sum(p) * 1000:.0f} ms, longest {max(p) * 1000:.1f} ms"
                         for gen, p in sorted(self.by_generation.items()))


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(root_pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each named process and its live children (a Postgres
    postmaster's backends, walsenders and writers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    roots = set(root_pids.values())
    totals = {}
    for name, root in root_pids.items():
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            if (fields := _stat(pid)) is not None:
                total += (int(fields[11]) + int(fields[12])) / tick
            stack.extend(c for c in children.get(pid, []) if c not in roots)   # named separately
        totals[name] = total
    return totals


def threads_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds per thread name of a process (JVM threads carry their Java names, truncated)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def thread_cpu_seconds(native_id: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of one thread of this process."""
    on_cpu, waiting, _ = Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def relay_samples(relay: RelayProcess) -> dict:
    with urllib.request.urlopen(relay.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            le = sample.labels.get("le")
            samples[(sample.name, float(le)) if le is not None else sample.name] = sample.value
    return samples


def bucket_percentile(before: dict, after: dict, name: str, q: float) -> float | None:
    """Upper bound (ms) of the histogram bucket holding the q-th percentile of what was observed
    between two scrapes."""
    bounds = sorted(k[1] for k in after if isinstance(k, tuple) and k[0] == f"{name}_bucket")
    counts = [after[(f"{name}_bucket", b)] - before.get((f"{name}_bucket", b), 0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    for bound, cumulative in zip(bounds, counts):
        if cumulative >= q / 100 * counts[-1]:
            return bound * 1000
    return None


def relay_busy(relay: RelayProcess) -> tuple[float, float, float]:
    """(seconds handing records over from the JVM, seconds producing + waiting for acks, batches)
    from the relay's /metrics."""
    samples = relay_samples(relay)
    return (samples.get("cdc_relay_handover_seconds_total", 0.0), samples.get("cdc_relay_batch_delivery_seconds_sum", 0.0),
            samples.get("cdc_relay_batches_total", 0.0))


def consumer_busy(name: str) -> tuple[float, float]:
    """(seconds in decode + apply + commit, batches) of the in-process consumer runner."""
    labels = {"consumer": name}
    return (REGISTRY.get_sample_value("cdc_consumer_batch_seconds_sum", labels) or 0.0,
            REGISTRY.get_sample_value("cdc_consumer_batch_seconds_count", labels) or 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=300, help="single-row commits for the latency run")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between single-row commits")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the bulk write")
    parser.add_argument("--tx-rows", type=int, default=10_000, help="rows per transaction in the bulk write")
    parser.add_argument("--warmup-rows", type=int, default=30_000, help="rows written (and discarded) to warm the JVM")
    parser.add_argument("--async-commit", action="store_true",
                        help="keep the stack cluster's synchronous_commit=off for the source database")
    parser.add_argument("--broker-check-secs", default="1",
                        help="the relay's broker/slot check interval (CDC_BROKER_CHECK_SECS; tests use 1, the stack 2)")
    parser.add_argument("--partitions", default=relay_env(StackSettings())["CDC_TOPIC_PARTITIONS"],
                        help="partitions of each topic the relay creates (CDC_TOPIC_PARTITIONS; default: what the stack "
                             "runs, 1 on the embedded broker; an empty value: the connector file's)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's folder for inspection")
    args = parser.parse_args()
    gc_pauses = GcPauses()

    home = Path(tempfile.mkdtemp(prefix="bench-cdc-", dir=ROOT / ".stack"))
    home.chmod(0o755)   # the Postgres server user must reach the cluster below it
    cluster = PostgresCluster(home / "pg" / "data", free_port(), home / "pg" / "run", home / "pg" / "postgres.log")
    broker = EmbeddedBroker(free_port(), log_file=home / "tansu.log")
    relay = None
    runner = None
    connector = ConnectorConfig.load(DEFAULT_CONNECTOR_FILE)
    slot = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        print("setting up Postgres, schema, Tansu, relay (topics of "
              + (f"{args.partitions} partition(s)" if args.partitions else "the connector file's partitions") + ")...",
              flush=True)
        cluster.initialise()
        cluster.start()
        cluster.wait_ready()
        cluster.ensure_database("vobemusic")
        cluster.ensure_database("target")
        source_url, target_url = cluster.url("vobemusic"), cluster.url("target")
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            # The stack's cluster runs synchronous_commit=off: commits then reach the WAL (and logical
            # decoding) only at the WAL writer's next flush, up to wal_writer_delay (200 ms) later.
            # A production monolith commits synchronously; measure that. (--async-commit to compare.)
            if not args.async_commit:
                conn.execute("ALTER DATABASE vobemusic SET synchronous_commit = on")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT / "legacy_monolith",
                       env={**os.environ, "MONOLITH_DATABASE_URL": source_url}, check=True)
        target = create_engine(target_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=2)
        mirror_tables(source_url, target, connector.data_tables, connector.excluded_columns)
        user_id, track_id = seed_listener(source_url, "bench")
        broker.start()
        relay = RelayProcess(source_url=source_url, bootstrap=broker.bootstrap, port=free_port(), slot=slot,
                             publication=slot, log_file=home / "relay.log",
                             extra_env={"CDC_BROKER_CHECK_SECS": args.broker_check_secs,
                                        "CDC_TOPIC_PARTITIONS": args.partitions})
        relay.start()
        relay.wait_ready()

        # --- consumers: a raw Kafka consumer (commit -> consumed) and the runner (commit -> applied)
        genre_topic = connector.topic_for("catalog_genre")
        consumed: dict[int, float] = {}
        produced: dict[int, float] = {}     # the message's CreateTime: when the relay called produce()
        converted: dict[int, tuple[float, float]] = {}   # (source.ts_ms: commit, ts_ms: Debezium processed it)
        applied: dict[int, float] = {}
        stop = threading.Event()
        raw_stop = threading.Event()   # the raw consumer only serves the latency run

        def raw_consumer() -> None:
            consumer = Consumer(consumer_config(broker.bootstrap, f"bench-raw-{uuid.uuid4().hex[:6]}"))
            consumer.subscribe([genre_topic])
            import orjson
            while not stop.is_set() and not raw_stop.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error() or message.value() is None:
                    continue
                key = orjson.loads(message.key())["id"]
                consumed[key] = time.time()
                produced[key] = message.timestamp()[1] / 1000
                envelope = orjson.loads(message.value())
                converted[key] = (envelope["source"]["ts_ms"] / 1000, envelope["ts_ms"] / 1000)
            consumer.close()

        listen_topic = connector.topic_for("listening_listenevent")
        listen_applied = [0]   # listen events in committed batches (relay re-sends may count twice)

        def on_applied(_result, events) -> None:
            now = time.time()
            for event in events:
                if event.topic == genre_topic and event.key:
                    applied[event.key["id"]] = now
                elif event.topic == listen_topic and not event.is_tombstone:
                    listen_applied[0] += 1

        runner = ConsumerRunner(TopicMap.mirror(connector.topic_prefix, connector.data_tables), target,
                                group_id=f"bench-{uuid.uuid4().hex[:6]}", bootstrap_servers=broker.bootstrap,
                                on_applied=on_applied, freeze_gc=True)   # as a consumer process's entry point does
        raw = threading.Thread(target=raw_consumer, daemon=True)
        raw.start()
        background = runner.start_background()
        # Warm-up: the topics only exist once a first row is written, and a consumer subscribed to
        # a missing topic picks it up at its next metadata refresh plus a rebalance. Measure after.
        with psycopg.connect(source_url, autocommit=True) as conn:
            warm = conn.execute("INSERT INTO catalog_genre (name, slug, description) VALUES ('warm', 'warm', '') "
                                "RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                         "completion_percentage, platform, device_type) VALUES (%s, %s, now(), 1, 1.5, 'web', 'warm')",
                         (user_id, track_id))
        wait_until(lambda: warm in applied and warm in consumed, 120, 0.2, "warm-up event consumed and applied")
        # And a bulk warm-up: a fresh JVM spends its first minute in the JIT compiler.
        with psycopg.connect(source_url, autocommit=True) as conn:
            conn.execute("INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                         "completion_percentage, platform, device_type) SELECT %s, %s, now(), g, 1.5, 'web', 'warm' "
                         "FROM generate_series(1, %s) g", (user_id, track_id, args.warmup_rows))
        with psycopg.connect(target_url) as conn:
            wait_until(lambda: conn.execute("SELECT count(*) FROM listening_listenevent").fetchone()[0] >= args.warmup_rows + 1,
                       600, 0.2, "warm-up rows applied")
        time.sleep(2)

        # --- latency: single-row commits
        print(f"latency: {args.writes} single-row INSERT commits, {args.interval * 1000:.0f} ms apart", flush=True)
        committed: dict[int, float] = {}
        latency_metrics_before = relay_samples(relay)
        gc_pauses.reset()
        with psycopg.connect(source_url, autocommit=True) as conn:
            for i in range(args.writes):
                slug = f"bench-{i}-{uuid.uuid4().hex[:6]}"
                genre_id = conn.execute("INSERT INTO catalog_genre (name, slug, description) VALUES (%s, %s, '') "
                                        "RETURNING id", (slug, slug)).fetchone()[0]
                committed[genre_id] = time.time()   # autocommit: the INSERT has committed when it returns
                time.sleep(args.interval)
        wait_until(lambda: all(k in applied and k in consumed for k in committed), 120, 0.2, "all single-row writes")
        latency_metrics_after = relay_samples(relay)
        latency_gc = sorted(gc_pauses.pauses)
        to_consumed = [(consumed[k] - t) * 1000 for k, t in committed.items()]
        to_applied = [(applied[k] - t) * 1000 for k, t in committed.items()]
        to_produced = [(produced[k] - t) * 1000 for k, t in committed.items()]
        produced_to_consumed = [(consumed[k] - produced[k]) * 1000 for k in committed]
        # The raw consumer is closed before the bulk window: its idle fetches (librdkafka's threads
        # in this process, fetch handling in Tansu) are the benchmark's, not the pipeline's.
        raw_stop.set()
        raw.join(10)

        # --- throughput: bulk write -> rows applied
        print(f"throughput: {args.rows} listen-event rows in transactions of {args.tx_rows}", flush=True)
        processes = {"relay (JVM + Python)": relay.process.pid, "Tansu": broker.process.pid,
                     "Postgres (source + target)": int((home / "pg" / "data" / "postmaster.pid").read_text().split()[0]),
                     "this process (consumers)": os.getpid()}
        cpu_before = cpu_seconds(processes)
        runner_cpu_before = thread_cpu_seconds(background.thread.native_id)
        relay_threads_before = threads_cpu_seconds(relay.process.pid)
        own_threads_before = threads_cpu_seconds(os.getpid())
        delivered_before = relay.status()["events_delivered"]
        relay_before, consumer_before = relay_busy(relay), consumer_busy(runner.name)
        gc_pauses.reset()
        relay_done: list[float] = []
        watcher_cpu = [0.0]   # the watcher's own CPU seconds (time.thread_time), not the consumers'
        main_cpu_before = time.thread_time()

        def watch_relay() -> None:
            # Asks the relay's /status every RELAY_POLL_SECS (each answer costs this process ~1-2 ms
            # of CPU: urllib + JSON) and interpolates linearly between the last two answers for the
            # moment the broker had acknowledged all rows, so polling less often keeps the accuracy.
            cpu_start = time.thread_time()
            previous = (time.time(), 0)
            try:
                while not relay_done and not stop.is_set():
                    delivered = relay.status().get("events_delivered", 0) - delivered_before
                    now = time.time()
                    if delivered >= args.rows:
                        (t0, d0), share = previous, 1.0
                        if delivered > d0:
                            share = (args.rows - d0) / (delivered - d0)
                        relay_done.append(t0 + share * (now - t0))
                    previous = (now, delivered)
                    time.sleep(RELAY_POLL_SECS)
            finally:
                watcher_cpu[0] = time.thread_time() - cpu_start
        watcher = threading.Thread(target=watch_relay, daemon=True)
        started = time.time()
        watcher.start()
        with psycopg.connect(source_url, autocommit=True) as conn:
            for offset in range(0, args.rows, args.tx_rows):
                conn.execute(
                    "INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                    "completion_percentage, platform, device_type) SELECT %s, %s, now(), g, (g %% 10000) / 100.0, "
                    "'web', 'bench' FROM generate_series(1, %s) g", (user_id, track_id, min(args.tx_rows, args.rows - offset)))
        written = time.time()

        def target_rows() -> int:
            with psycopg.connect(target_url) as conn:
                return conn.execute("SELECT count(*) FROM listening_listenevent").fetchone()[0]
        # Count in the runner's callback and ask the target only then: a count(*) every few ms would
        # compete with the apply it measures.
        expected = args.rows + args.warmup_rows + 1
        wait_until(lambda: listen_applied[0] >= expected and target_rows() >= expected, 600, 0.01, "bulk rows applied")
        done = time.time()
        main_cpu = time.thread_time() - main_cpu_before   # the write loop + the wait_until polls
        bulk_gc, bulk_gc_generations = list(gc_pauses.pauses), gc_pauses.summary()
        cpu_after = cpu_seconds(processes)
        watcher.join(2 * RELAY_POLL_SECS + 5)
        bench_cpu = watcher_cpu[0] + main_cpu
        # The benchmark's own threads are not the consumers' work: their CPU is taken out of this
        # process's figure and printed on its own.
        cpu_after["this process (consumers)"] -= bench_cpu
        runner_cpu, runner_queued = (a - b for a, b in zip(thread_cpu_seconds(background.thread.native_id),
                                                            runner_cpu_before))
        relay_threads = threads_cpu_seconds(relay.process.pid)
        own_threads = threads_cpu_seconds(os.getpid())
        own_threads = {n: c - own_threads_before.get(n, 0.0) for n, c in own_threads.items()}
        relay_threads = {n: c - relay_threads_before.get(n, 0.0) for n, c in relay_threads.items()}
        relay_after, consumer_after = relay_busy(relay), consumer_busy(runner.name)
        assert table_checksum(source_url, "listening_listenevent") == table_checksum(target_url, "listening_listenevent")
        stop.set()
        background.stop()
        runner = None

        p50c, p99c = percentile(to_consumed, 50), percentile(to_consumed, 99)
        p50a, p99a = percentile(to_applied, 50), percentile(to_applied, 99)
        rate = args.rows / (done - started)
        print()
        print("CDC benchmark (Postgres -> Debezium relay -> Tansu -> consumer runtime -> Postgres target)")
        print(f"  commit -> consumed   p50 {p50c:6.1f} ms   p99 {p99c:6.1f} ms   max {max(to_consumed):6.1f} ms"
              f"   (naive relay: p50 {NAIVE['p50_ms']} ms, p99 {NAIVE['p99_ms']} ms; target p99 < 50 ms)")
        print(f"  commit -> applied    p50 {p50a:6.1f} ms   p99 {p99a:6.1f} ms   max {max(to_applied):6.1f} ms"
              f"   mean {statistics.mean(to_applied):.1f} ms")
        print(f"    of which source commit -> relay produce() (message CreateTime): p50 {percentile(to_produced, 50):.1f} ms, "
              f"p99 {percentile(to_produced, 99):.1f} ms; produce() -> consumed: p50 "
              f"{percentile(produced_to_consumed, 50):.1f} ms, p99 {percentile(produced_to_consumed, 99):.1f} ms")
        commit_to_debezium = [(converted[k][1] - t) * 1000 for k, t in committed.items()]
        debezium_to_produce = [(produced[k] - converted[k][1]) * 1000 for k in committed]
        print(f"    of which commit -> Debezium's envelope ts_ms: p50 {percentile(commit_to_debezium, 50):.1f} ms, "
              f"p99 {percentile(commit_to_debezium, 99):.1f} ms; envelope ts_ms -> produce(): p50 "
              f"{percentile(debezium_to_produce, 50):.1f} ms, p99 {percentile(debezium_to_produce, 99):.1f} ms")
        start0 = min(committed.values())
        slow = sorted((t - start0, 1000 * (produced[k] - converted[k][1])) for k, t in committed.items()
                      if produced[k] - converted[k][1] > 0.05)
        print(f"    events with envelope -> produce() over 50 ms: {len(slow)} of {len(committed)}: " +
              ", ".join(f"{at:.2f}s:{ms:.0f}" for at, ms in slow))
        ack = [bucket_percentile(latency_metrics_before, latency_metrics_after, "cdc_relay_commit_to_ack_seconds", q)
               for q in (50, 99)]
        if ack[0] is not None:
            print(f"    of which source commit -> broker ack (relay /metrics, by histogram bucket): p50 <= {ack[0]:.0f} ms, "
                  f"p99 <= {ack[1]:.0f} ms")
        if latency_gc:
            print(f"    garbage collections in this process meanwhile: {len(latency_gc)}, longest "
                  f"{latency_gc[-1] * 1000:.1f} ms, total {sum(latency_gc) * 1000:.0f} ms")
        print(f"  bulk write of {args.rows} rows: written in {written - started:.2f} s, all applied after "
              f"{done - started:.2f} s -> {rate:,.0f} rows/s applied (naive: ~{NAIVE['rows_per_s']:,} rows/s; target >= 10,000)")
        if relay_done:
            print(f"  relay: all {args.rows} events acknowledged by the broker after {relay_done[0] - started:.2f} s "
                  f"-> {args.rows / (relay_done[0] - started):,.0f} events/s through the relay (its /status asked every "
                  f"{RELAY_POLL_SECS * 1000:.0f} ms, the moment interpolated between two answers)")
        window = done - started
        handover, delivery, batches = (a - b for a, b in zip(relay_after, relay_before))
        applying, applied_batches = (a - b for a, b in zip(consumer_after, consumer_before))
        print(f"  where the time went during the bulk run ({window:.2f} s):")
        print(f"    relay: {batches:.0f} batches; JVM records -> Python {handover:.2f} s, produce + broker acks "
              f"{delivery:.2f} s (busy {100 * (handover + delivery) / window:.0f} % of the window; the rest is "
              f"Debezium reading the WAL and converting to JSON)")
        if applying:
            print(f"    consumer: {applied_batches:.0f} batches of ~{args.rows / max(applied_batches, 1):,.0f} events; "
                  f"decode + apply + commit {applying:.2f} s (busy {100 * applying / window:.0f} %) -> "
                  f"{args.rows / applying:,.0f} rows/s while applying")
        print(f"    the benchmark's own threads (relay watcher polling every {RELAY_POLL_SECS * 1000:.0f} ms, main thread "
              f"writing and waiting): {100 * bench_cpu / window:.1f} % of a core ({1e6 * bench_cpu / args.rows:.1f} us "
              "per event), not counted below; the raw latency consumer was closed before this window")
        print("    CPU during the bulk window (2 cores = 200 %): " + ", ".join(
            f"{name} {100 * (cpu_after[name] - cpu_before[name]) / window:.0f} %" for name in processes)
              + f"; the runner's thread: on a CPU {100 * runner_cpu / window:.0f} %, runnable but waiting for a CPU "
              f"{100 * runner_queued / window:.0f} % of the window")
        per_event = {name: 1e6 * (cpu_after[name] - cpu_before[name]) / args.rows for name in processes}
        print(f"    CPU per event: whole pipeline {sum(per_event.values()):.0f} us (" + ", ".join(
            f"{name} {us:.0f} us" for name, us in per_event.items())
              + f"); the runner's thread alone {1e6 * runner_cpu / args.rows:.1f} us")
        if bulk_gc:
            print(f"    garbage collections in this process during the bulk window: {len(bulk_gc)}, "
                  f"total {sum(bulk_gc) * 1000:.0f} ms, longest {max(bulk_gc) * 1000:.1f} ms ({bulk_gc_generations})")
        busiest = sorted(relay_threads.items(), key=lambda item: -item[1])[:6]
        print("    relay threads: " + ", ".join(f"{name} {100 * cpu / window:.0f} %" for name, cpu in busiest))
        # librdkafka's threads (rdk:...) fetch and parse for the runner; the raw consumer's are idle here.
        busiest = sorted(own_threads.items(), key=lambda item: -item[1])[:6]
        print("    this process's threads: " + ", ".join(f"{name} {100 * cpu / window:.0f} %" for name, cpu in busiest))
        print("  source and target checksums of listening_listenevent match")
    finally:
        if runner is not None:
            runner.close()
        if relay is not None:
            relay.stop()
        try:
            drop_slot(cluster.url("vobemusic"), slot)
        except Exception:
            pass
        remove_offsets_files(CdcSettings().state_dir, slot)
        broker.stop()
        cluster.stop("immediate")
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
