"""Renders docs/cdc-topics.md from the connector config, the source database's columns
(information_schema) and one real event per topic read from the broker, so the catalog follows
the monolith's schema instead of a hand-kept list:

    python -m cdc.topic_catalog > docs/cdc-topics.md      (stack running, demo data loaded)
"""
from __future__ import annotations

import json
import sys
import time
import uuid

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from cdc.connector_config import ConnectorConfig
from cdc.source_setup import REPLICA_IDENTITY_FULL
from cdc.settings import CdcSettings

JSON_TYPES = {
    "bigint": ("integer", ""), "integer": ("integer", ""), "smallint": ("integer", ""),
    "boolean": ("boolean", ""), "double precision": ("number", "IEEE double; NaN/Infinity as strings"),
    "real": ("number", ""), "numeric": ("string", "exact decimal as a string, e.g. \"9.99\" (decimal.handling.mode=string)"),
    "character varying": ("string", ""), "text": ("string", ""), "uuid": ("string", ""),
    "timestamp with time zone": ("string", "ISO-8601 UTC, e.g. 2024-02-29T10:11:12.123456Z"),
    "timestamp without time zone": ("string", "ISO-8601 local, no zone (time.precision.mode=isostring)"),
    "date": ("string", "ISO date, e.g. 2024-02-29 (time.precision.mode=isostring)"),
    "time without time zone": ("string", "ISO time, e.g. 10:11:12.5"),
    "interval": ("string", "ISO-8601 duration, e.g. P1DT2H (interval.handling.mode=string)"),
    "jsonb": ("string", "the JSON document as a string"), "json": ("string", "the JSON document as a string"),
    "bytea": ("string", "base64"),
}


def columns(conn, table: str, excluded: set[str]) -> list[tuple]:
    schema, name = table.split(".", 1)
    rows = conn.execute(
        "SELECT c.column_name, c.data_type, c.is_nullable, c.numeric_precision, c.numeric_scale, "
        "c.character_maximum_length, (SELECT true FROM information_schema.key_column_usage k JOIN "
        "information_schema.table_constraints t USING (constraint_schema, constraint_name) WHERE "
        "t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
        "AND k.column_name = c.column_name) FROM information_schema.columns c WHERE c.table_schema = %s "
        "AND c.table_name = %s ORDER BY c.ordinal_position", (schema, name)).fetchall()
    return [r for r in rows if f"{table}.{r[0]}" not in excluded]


def first_events(bootstrap: str, topics: list[str], wait: float = 30) -> dict[str, tuple]:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"catalog-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False})
    assignment = [TopicPartition(t, p, OFFSET_BEGINNING) for t in topics if t in metadata.topics
                  for p in metadata.topics[t].partitions]
    found: dict[str, tuple] = {}
    if assignment:
        consumer.assign(assignment)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and len(found) < len({a.topic for a in assignment}):
            m = consumer.poll(0.5)
            if m is None or m.error():
                continue
            raw_value, raw_key, topic = m.value(), m.key(), m.topic()
            if raw_value is None or topic is None:
                continue
            value = json.loads(raw_value)
            # Prefer a streamed change (op c/u) over a snapshot read as the example.
            if topic not in found or (found[topic][1].get("op") == "r" and value.get("op") in ("c", "u")):
                found[topic] = (json.loads(raw_key) if raw_key else None, value)
    consumer.close()
    return found


def render(connector: ConnectorConfig, database_url: str, bootstrap: str) -> str:
    excluded = set(connector.excluded_columns)
    topics = [connector.topic_for(t) for t in connector.tables]
    examples = first_events(bootstrap, topics)
    out = [HEADER.format(prefix=connector.topic_prefix, slot=connector.slot_name,
                         publication=connector.publication_name, dlq=connector.dead_letter_topic,
                         hb=int(connector.config["heartbeat.interval.ms"]) // 1000)]
    out.append("| topic | source table | key | before image |\n|---|---|---|---|")
    with psycopg.connect(database_url) as conn:
        specs = {t: columns(conn, t, excluded) for t in connector.tables}
    for table in connector.tables:
        keys = [c[0] for c in specs[table] if c[6]]
        before = "full row" if table in REPLICA_IDENTITY_FULL else ("key only" if not table.startswith("cdc.") else "key only")
        out.append(f"| `{connector.topic_for(table)}` | `{table}` | `{{{', '.join(repr(k).strip(chr(39)) for k in keys)}}}` | {before} |")
    out.append("")
    for table in connector.tables:
        topic = connector.topic_for(table)
        out.append(f"## `{topic}`\n")
        out.append(f"Source `{table}`. " + DESCRIPTIONS.get(table, "") + "\n")
        if table in {t.rsplit(".", 1)[0] for t in excluded}:
            hidden = [c.rsplit(".", 1)[1] for c in excluded if c.startswith(table + ".")]
            out.append(f"Never on the topic: {', '.join(f'`{h}`' for h in hidden)} (column.exclude.list).\n")
        out.append("| field | JSON type | source type | null | notes |\n|---|---|---|---|---|")
        for name, data_type, nullable, precision, scale, length, is_key in specs[table]:
            json_type, note = JSON_TYPES.get(data_type, ("string", ""))
            source_type = data_type
            if data_type == "numeric" and precision:
                source_type = f"numeric({precision},{scale})"
            elif length:
                source_type = f"{data_type}({length})"
            notes = "; ".join(x for x in ("key" if is_key else "", note) if x)
            out.append(f"| `{name}` | {json_type} | {source_type} | {'yes' if nullable == 'YES' else 'no'} | {notes} |")
        example = examples.get(topic)
        if example:
            key, value = example
            out.append("\nExample (key, value) captured from the local stack:\n")
            out.append("```json\n" + json.dumps(key) + "\n" + json.dumps(value, indent=2) + "\n```\n")
        else:
            out.append("\n(No example captured: the table had no rows when this page was generated.)\n")
    return "\n".join(out)


DESCRIPTIONS = {
    "public.accounts_user": "Users. `last_login` is streamed (not a secret; excluding it would not save events, "
                            "an update of it still emits one).",
    "public.accounts_profile": "One profile per user (`user_id`).",
    "public.catalog_genre": "Genres.", "public.catalog_artist": "Artists (`user_id` is the owning account, nullable).",
    "public.catalog_album": "Albums of an artist.", "public.catalog_track": "Tracks: the catalogue's main table.",
    "public.content_post": "Editorial posts.",
    "public.content_post_artists": "Post <-> artist links (M2M). A delete's `before` names both sides.",
    "public.content_post_tracks": "Post <-> track links (M2M). A delete's `before` names both sides.",
    "public.comments_comment": "Threaded comments (`parent_id`, `depth`); soft-deleted rows have `is_deleted=true`.",
    "public.feedback_ticket": "Feedback tickets and their status workflow.",
    "public.playlists_playlist": "Playlists.",
    "public.playlists_playlisttrack": "Playlist entries (`position` is unique per playlist, deferred).",
    "public.listening_listenevent": "Listen events (append-mostly, the largest table). REPLICA IDENTITY DEFAULT: "
                                    "a delete's `before` carries only `id`; other fields are null/defaults.",
    "cdc.heartbeat": "Written by Debezium's heartbeat action query every few seconds; its events keep the slot "
                     "moving and give consumers a freshness signal. Not domain data.",
    "cdc.debezium_signal": "Debezium's signal table (`cdc snapshot TABLE` writes here). Not domain data.",
}

HEADER = """# CDC topics

Generated by `python -m cdc.topic_catalog` from `cdc/connectors/monolith-postgres.json`, the monolith
database's `information_schema` and one real event per topic. Regenerate after schema changes.

The Debezium Postgres connector (pgoutput, slot `{slot}`, publication `{publication}`) streams every
committed row change of the monolith's domain tables to one topic per table, `{prefix}.<schema>.<table>`.

## Envelope

Key: a JSON object of the table's primary key, e.g. `{{"id": 5}}` (the partition is chosen from it, so all
changes of one row are in one partition, in commit order).

Value: a JSON object (JSON converter, schemas disabled):

| field | meaning |
|---|---|
| `op` | `c` insert, `u` update, `d` delete, `r` read by a snapshot (initial, re-snapshot or `cdc snapshot`) |
| `before` | the row before an update/delete (full row for REPLICA IDENTITY FULL tables, else key only), null on `c`/`r` |
| `after` | the row after an insert/update/snapshot read, null on `d` |
| `source.lsn` | WAL position of the change: order of changes to one row; consumers skip events older than what they applied |
| `source.ts_ms` | commit time at the source (ms since epoch): lag is measured from it |
| `source.txId` | Postgres transaction id (several tables changed in one transaction share it) |
| `source.snapshot` | `false` for streamed changes; `true`/`first`/`last`/`incremental` for snapshot reads |
| `source.schema`, `source.table` | the source table |
| `ts_ms` | when Debezium processed the event |

A delete (`op=d`) is followed by a **tombstone**: same key, null value (for log compaction). Truncates
are not streamed (`skipped.operations=t`). Types: decimals are exact strings (`"9.99"`), dates,
times and timestamps are ISO-8601 strings (`time.precision.mode=isostring`), intervals ISO-8601
durations, binary base64.

## Delivery guarantees

At least once, in order per key. The relay (or Kafka Connect) commits its source position only
after the broker acknowledged the events, so a crash re-sends the last events: consumers must be
idempotent (the `cdc.consumer` runtime upserts by key and skips events whose `source.lsn` is older
than the row's). The embedded broker keeps topics in memory: when it restarts, the relay starts a
new *epoch* (topic `{prefix}.relay-epoch`) and snapshots every table again (`op=r`); consumers of
the runtime re-read from the beginning automatically. The relay creates every topic (`CDC_TOPIC_PARTITIONS`
partitions: 1 in the local stack; the connector file's 4 when unset, as Kafka Connect does) when it enters an epoch,
so a topic exists before its first event; the broker never auto-creates them.

## Other topics

| topic | what |
|---|---|
| `__debezium-heartbeat.{prefix}` | Debezium heartbeats every {hb} s: key `{{"serverName": "{prefix}"}}`, value `{{"ts_ms": ...}}` |
| `{prefix}.relay-epoch` | the relay's epoch marker (one record per broker incarnation) |
| `{dlq}` | dead letters: consumers' poison events with the original key/value and headers `dlq.reason`, `dlq.detail`, `dlq.source.topic`, `dlq.source.partition`, `dlq.source.offset`, `dlq.consumer`, `dlq.failed_at` |

## Reading the topics

- `python -m cdc topics`, `python -m cdc tail catalog_track --op u --key id=5 --where genre_id=3`,
  `python -m cdc lag`, `python -m cdc status` (see `python -m cdc --help`).
- kcat: `kcat -b 127.0.0.1:59092 -C -t {prefix}.public.catalog_track -o beginning -e -f '%k %s\\n'` works
  against a Kafka cluster as is. Against the embedded Tansu broker, Debian 12's kcat 1.7.1 fails with
  `ApiVersionRequest failed: Local: Read underflow` (its librdkafka 2.0.2 cannot parse Tansu's
  ApiVersions v3 reply); `cdc/bin/kcat` runs the same kcat with the newer librdkafka that ships in the
  confluent-kafka wheel, and then it reads every topic (verified: `-L` metadata and `-C` consume).

## Topics by table
"""


def main() -> None:
    settings = CdcSettings()
    connector = ConnectorConfig.load(settings.connector_file)
    sys.stdout.write(render(connector, settings.source_database_url, settings.bootstrap_servers))


if __name__ == "__main__":
    main()
