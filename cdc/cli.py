"""Data-team CLI: `python -m cdc topics | tail TOPIC | lag | status | snapshot TABLE | ...`.

Reads the same environment as the relay (KAFKA_BOOTSTRAP_SERVERS, CDC_SOURCE_DATABASE_URL or
MONOLITH_DATABASE_URL, CDC_RELAY_PORT, CDC_CONNECTOR_FILE, CDC_SLOT_NAME)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import click
import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.json import JSON
from rich.table import Table

from cdc.connector_config import ConnectorConfig
from cdc.lsn import lsn_to_int
from cdc.settings import CdcSettings

console = Console()


class Context:
    def __init__(self, bootstrap: str | None, database: str | None, relay: str | None):
        self.settings = CdcSettings()
        self.bootstrap = bootstrap or self.settings.bootstrap_servers
        self.database = database or self.settings.source_database_url
        self.relay = relay or self.settings.relay_url
        self.connector = ConnectorConfig.load(self.settings.connector_file).with_overrides(
            slot_name=self.settings.slot_name, publication_name=self.settings.publication_name)

    def topic(self, name: str) -> str:
        """Accept a full topic name, schema.table or a bare table name."""
        prefix = self.connector.topic_prefix
        if name.startswith(prefix + ".") or name.startswith("__"):
            return name
        return self.connector.topic_for(name)

    def relay_get(self, path: str) -> dict | None:
        try:
            with urllib.request.urlopen(self.relay + path, timeout=3) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read() or b"{}")
        except OSError:
            return None


@click.group()
@click.option("--bootstrap", envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
@click.option("--database", help="Source (monolith) database URL.")
@click.option("--relay", help="Relay base URL (default http://127.0.0.1:$CDC_RELAY_PORT).")
@click.pass_context
def main(ctx, bootstrap, database, relay):
    """Change data capture of the VobeMusic monolith: topics, events, lag and snapshots."""
    ctx.obj = Context(bootstrap, database, relay)


def _kind(ctx: Context, topic: str) -> str:
    prefix = ctx.connector.topic_prefix
    if topic == ctx.connector.dead_letter_topic:
        return "dead letters"
    if topic.startswith("__debezium-heartbeat"):
        return "heartbeat"
    if topic.startswith(f"{prefix}.relay-"):
        return "relay internal"
    if topic.startswith(f"{prefix}.cdc."):
        return "cdc bookkeeping"
    if topic.startswith(prefix + "."):
        return "table changes"
    return "other"


@main.command()
@click.pass_obj
def topics(ctx: Context):
    """List the broker's topics with their partitions and what they carry."""
    metadata = AdminClient({"bootstrap.servers": ctx.bootstrap}).list_topics(timeout=10)
    table = Table("topic", "partitions", "carries", "source table")
    for name in sorted(metadata.topics):
        kind = _kind(ctx, name)
        source = name.split(".", 1)[1] if kind == "table changes" else ""
        table.add_row(name, str(len(metadata.topics[name].partitions)), kind, source)
    console.print(table)
    captured = {ctx.connector.topic_for(t) for t in ctx.connector.data_tables}
    missing = sorted(captured - set(metadata.topics))
    if missing:
        console.print(f"[yellow]no topic yet (no rows/changes since the last snapshot):[/] {', '.join(missing)}")


def _parse_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected field=value, got {pair!r}")
        field, value = pair.split("=", 1)
        out[field] = value
    return out


def _matches(doc: dict | None, wanted: dict[str, str]) -> bool:
    if not wanted:
        return True
    if not isinstance(doc, dict):
        return False
    return all(field in doc and ("null" if doc[field] is None else str(doc[field])) == value
               for field, value in wanted.items())


@main.command()
@click.argument("topic")
@click.option("--op", "ops", multiple=True, type=click.Choice(["c", "r", "u", "d", "tombstone"]),
              help="Only these operations (repeatable).")
@click.option("--key", "keys", multiple=True, help="Key field filter, e.g. --key id=5 (repeatable).")
@click.option("--where", "wheres", multiple=True,
              help="Row field filter on after (before for deletes), e.g. --where status=open.")
@click.option("--follow/--no-follow", "-f", default=False, help="Keep waiting for new events.")
@click.option("--limit", "-n", type=int, default=0, help="Stop after N matching events.")
@click.option("--idle", type=float, default=3.0, help="Without --follow: stop after this many idle seconds.")
@click.option("--raw", is_flag=True, help="One compact JSON line per event (for jq).")
@click.pass_obj
def tail(ctx: Context, topic, ops, keys, wheres, follow, limit, idle, raw):
    """Print a topic's events from the beginning as pretty JSON, with filters."""
    topic = ctx.topic(topic)
    key_filter, where_filter = _parse_pairs(keys), _parse_pairs(wheres)
    metadata = AdminClient({"bootstrap.servers": ctx.bootstrap}).list_topics(topic=None, timeout=10)
    if topic not in metadata.topics:
        raise click.ClickException(f"topic {topic} does not exist (yet); see `cdc topics`")
    consumer = Consumer({"bootstrap.servers": ctx.bootstrap, "group.id": f"cdc-cli-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    # Assign every partition at offset 0 (no group join, no reliance on the broker's watermarks).
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.topics[topic].partitions])
    shown, last_message = 0, time.monotonic()
    try:
        while follow or time.monotonic() - last_message < idle:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            last_message = time.monotonic()
            raw_key, raw_value = message.key(), message.value()
            key = json.loads(raw_key) if raw_key else None
            value = json.loads(raw_value) if raw_value is not None else None
            op = value.get("op", "?") if isinstance(value, dict) else "tombstone"
            if ops and op not in ops:
                continue
            if not _matches(key, key_filter):
                continue
            row = (value.get("before") if op == "d" else value.get("after")) if isinstance(value, dict) else None
            if where_filter and not _matches(row, where_filter):
                continue
            event = {"partition": message.partition(), "offset": message.offset(), "key": key, "op": op, "value": value}
            headers = dict(message.headers() or [])
            if headers:
                event["headers"] = {k: v.decode(errors="replace") if isinstance(v, bytes) else v
                                    for k, v in headers.items()}
            if raw:
                click.echo(json.dumps(event, separators=(",", ":")))
            else:
                console.print(JSON.from_data(event))
            shown += 1
            if limit and shown >= limit:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


@main.command()
@click.option("--target", "targets", multiple=True,
              help="A consumer's target database URL (repeatable): shows its applied LSN per topic.")
@click.pass_obj
def lag(ctx: Context, targets):
    """Lag from the source's point of view: WAL bytes and seconds behind, relay and consumers."""
    from cdc.source_setup import slot_info

    slot = slot_info(ctx.database, ctx.connector.slot_name)
    with psycopg.connect(ctx.database) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    if row is None:
        raise click.ClickException("pg_current_wal_lsn() returned no row")
    current = row[0]
    current_int = lsn_to_int(current)
    status = ctx.relay_get("/status") or {}
    table = Table("stage", "position (LSN)", "behind (bytes)", "behind (s)", "detail")
    table.add_row("source", current, "0", "", "pg_current_wal_lsn()")
    if slot:
        table.add_row(f"slot {slot['slot_name']}", slot["confirmed_flush_lsn"], str(slot["behind_bytes"]), "",
                      "active" if slot["active"] else "[red]inactive[/] (WAL held!)")
    else:
        table.add_row(f"slot {ctx.connector.slot_name}", "-", "-", "", "[yellow]no slot[/]")
    last = status.get("last_event") or {}
    if last.get("lsn") is not None:
        table.add_row("relay (delivered)", str(last["lsn"]), str(max(0, current_int - int(last["lsn"]))),
                      str(status.get("source_lag_seconds")), f"epoch {status.get('epoch')}")
    elif not status:
        table.add_row("relay", "-", "-", "-", "[red]not reachable[/]")
    for target in targets:
        with psycopg.connect(target) as conn:
            rows = conn.execute(
                "SELECT consumer, max(lsn), max(source_ts_ms), max(applied_at) FROM cdc_consumer_progress "
                "GROUP BY consumer ORDER BY consumer").fetchall()
        for consumer, applied_lsn, ts_ms, applied_at in rows:
            seconds = round(time.time() - ts_ms / 1000, 3) if ts_ms else ""
            behind = str(max(0, current_int - applied_lsn)) if applied_lsn else "-"
            table.add_row(f"consumer {consumer}", str(applied_lsn), behind, str(seconds), f"applied at {applied_at:%H:%M:%S}")
    console.print(table)
    console.print("[dim]Seconds are now - source commit time of the newest delivered/applied event; heartbeats "
                  f"(every {int(ctx.connector.config.get('heartbeat.interval.ms', 0)) // 1000}s) bound them when idle. "
                  "Broker watermarks are not used (Tansu's are wrong).[/]")


@main.command()
@click.pass_obj
def status(ctx: Context):
    """Relay state, broker epoch, slot and publication."""
    ready = ctx.relay_get("/readyz")
    state = ctx.relay_get("/status")
    if state is None:
        console.print(f"[red]relay not reachable at {ctx.relay}[/]")
    else:
        console.print(JSON.from_data({"readyz": ready, **state}))
    with psycopg.connect(ctx.database) as conn:
        tables = [f"{s}.{t}" for s, t in conn.execute(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s ORDER BY 1, 2",
            (ctx.connector.publication_name,))]
        identity: dict[str, str] = dict(conn.execute(
            "SELECT n.nspname || '.' || c.relname, c.relreplident FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r'").fetchall())
    table = Table(f"publication {ctx.connector.publication_name}", "replica identity", "topic")
    for name in tables:
        replident = identity.get(name) or "?"
        table.add_row(name, {"f": "full", "d": "default"}.get(replident, replident),
                      ctx.connector.topic_for(name))
    console.print(table)


@main.command()
@click.argument("tables", nargs=-1, required=True)
@click.option("--type", "kind", type=click.Choice(["incremental", "blocking"]), default="incremental")
@click.pass_obj
def snapshot(ctx: Context, tables, kind):
    """Re-snapshot TABLE(s) through Debezium's signal table (incremental: streaming continues)."""
    collections = []
    for table in tables:
        qualified = table if "." in table else f"public.{table}"
        if qualified not in ctx.connector.data_tables:
            raise click.ClickException(f"{qualified} is not captured (table.include.list)")
        collections.append(qualified)
    signal_id = str(uuid.uuid4())
    schema, name = ctx.connector.signal_table.split(".", 1)
    data = json.dumps({"data-collections": collections, "type": kind})
    with psycopg.connect(ctx.database, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("INSERT INTO {} (id, type, data) VALUES (%s, 'execute-snapshot', %s)").format(
            psycopg.sql.Identifier(schema, name)), (signal_id, data))
    console.print(f"signal {signal_id}: {kind} snapshot of {', '.join(collections)} requested; "
                  "rows arrive as op=r events on the tables' topics.")


@main.command("setup-source")
@click.pass_obj
def setup_source_command(ctx: Context):
    """Create/refresh the CDC-owned objects in the source database (idempotent)."""
    from cdc.source_setup import setup_source

    setup_source(ctx.database, ctx.connector)
    console.print(f"publication {ctx.connector.publication_name}: {len(ctx.connector.tables)} tables; "
                  "cdc.heartbeat and cdc.debezium_signal present; replica identities set.")


@main.command("drop-slot")
@click.argument("slot")
@click.option("--yes", is_flag=True, help="Really drop it (consumers of this slot must re-snapshot).")
@click.pass_obj
def drop_slot_command(ctx: Context, slot, yes):
    """Drop a replication slot left behind (it holds WAL forever). Stop its relay first."""
    from cdc.connector_config import remove_offsets_files
    from cdc.source_setup import drop_slot, slot_info

    info = slot_info(ctx.database, slot)
    if info is None:
        raise click.ClickException(f"no slot {slot}")
    console.print(JSON.from_data(info))
    if not yes:
        raise click.ClickException("not dropped: pass --yes")
    drop_slot(ctx.database, slot)
    remove_offsets_files(ctx.settings.state_dir, slot)
    console.print(f"slot {slot} dropped (and the relay's offsets files for it)")


@main.command()
@click.pass_obj
def connector(ctx: Context):
    """Show the connector file and the keys the embedded relay overrides."""
    from cdc.connector_config import RELAY_OVERRIDES

    console.print(f"[bold]{ctx.settings.connector_file}[/] ({ctx.connector.name})")
    console.print(JSON.from_data(ctx.connector.config))
    table = Table("key overridden by the relay", "value")
    for key, value in RELAY_OVERRIDES.items():
        table.add_row(key, value)
    console.print(table)


if __name__ == "__main__":
    main()
