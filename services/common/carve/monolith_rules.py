"""Replaying a delete into the monolith with the effects Django's ORM would have.

Django enforces `on_delete` in Python (its deletion Collector), not in the database: the monolith's
foreign keys are plain constraints. A raw `DELETE FROM catalog_track` is therefore refused while a
listen event references the track, where `Track.delete()` would have deleted the listen events,
the playlist entries and the post links first. So the reverse sync replays deletes through rules
read from Django's model metadata, exactly the relations its Collector follows
(`get_candidate_relations_to_delete`): CASCADE deletes the referencing rows (recursively), SET_NULL
clears the reference, PROTECT and RESTRICT refuse, DO_NOTHING leaves it to the database.

The rules are generated from the monolith's models into monolith_relations.json (one fact, read
from Django, checked by a test to be current), so the services need neither Django nor the
monolith's code at run time:

    DJANGO_SETTINGS_MODULE=vobemusic.settings.test PYTHONPATH=legacy_monolith \\
        python -m services.common.carve.monolith_rules --write
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

from psycopg import sql

RULES_FILE = Path(__file__).with_name("monolith_relations.json")
MAX_DEPTH = 64          # self-referencing cascades (comment threads) are trees; a cycle is a bug


class MonolithRefused(Exception):
    """The monolith's models would refuse this write (PROTECT, RESTRICT, an unsupported rule)."""


def generate() -> dict:
    """The relations Django's deletion Collector follows, per table (Django must be set up)."""
    import django
    from django.apps import apps

    django.setup()
    tables: dict[str, dict] = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.managed or opts.proxy:
            continue
        referenced_by = []
        for rel in opts.get_fields(include_hidden=True):
            if not (rel.auto_created and not rel.concrete and (rel.one_to_one or rel.one_to_many)):
                continue
            child = rel.related_model._meta
            referenced_by.append({"table": child.db_table, "column": rel.field.column, "pk": child.pk.column,
                                  "on_delete": rel.on_delete.__name__})
        tables[opts.db_table] = {"pk": opts.pk.column,
                                 "referenced_by": sorted(referenced_by, key=lambda r: (r["table"], r["column"]))}
    return {"tables": dict(sorted(tables.items()))}


@lru_cache(maxsize=1)
def rules() -> dict:
    return json.loads(RULES_FILE.read_text())["tables"]


def delete_rows(conn, table: str, ids: list, touched: list[tuple[str, int]], depth: int = 0,
                relations: dict | None = None) -> int:
    """Delete `ids` of `table` in the monolith's open transaction as Django would; every row this
    deletes or changes is appended to `touched` as (table, id). Returns the rows of `table` deleted.
    `relations`: the rules per table (default: monolith_relations.json)."""
    if not ids:
        return 0
    if depth > MAX_DEPTH:
        raise MonolithRefused(f"cascade from {table} deeper than {MAX_DEPTH}")
    relations = rules() if relations is None else relations
    spec = relations.get(table, {"pk": "id", "referenced_by": []})
    for rel in spec["referenced_by"]:
        child, column, child_pk, rule = (sql.Identifier(rel["table"]), sql.Identifier(rel["column"]),
                                         sql.Identifier(rel["pk"]), rel["on_delete"])
        if rule == "CASCADE":
            child_ids = [r[0] for r in conn.execute(
                sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(child_pk, child, column), (ids,))]
            delete_rows(conn, rel["table"], child_ids, touched, depth + 1, relations)
        elif rule == "SET_NULL":
            cleared = conn.execute(sql.SQL("UPDATE {} SET {} = NULL WHERE {} = ANY(%s) RETURNING {}").format(
                child, column, column, child_pk), (ids,)).fetchall()
            touched.extend((rel["table"], r[0]) for r in cleared)
        elif rule in ("PROTECT", "RESTRICT"):
            found = conn.execute(sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s) LIMIT 3").format(
                child_pk, child, column), (ids,)).fetchall()
            if found:
                raise MonolithRefused(f"{table} {ids[:5]} is referenced by {rel['table']}.{rel['column']} "
                                      f"{[r[0] for r in found]} (on_delete={rule})")
        elif rule != "DO_NOTHING":
            raise MonolithRefused(f"on_delete={rule} of {rel['table']}.{rel['column']} is not replayed")
    deleted = conn.execute(sql.SQL("DELETE FROM {} WHERE {} = ANY(%s) RETURNING {}").format(
        sql.Identifier(table), sql.Identifier(spec["pk"]), sql.Identifier(spec["pk"])), (ids,)).fetchall()
    touched.extend((table, r[0]) for r in deleted)
    return len(deleted)


def main() -> None:
    document = json.dumps(generate(), indent=1) + "\n"
    if "--write" in sys.argv:
        RULES_FILE.write_text(document)
        print(f"wrote {RULES_FILE}")
    else:
        sys.stdout.write(document)


if __name__ == "__main__":
    main()
