"""Run the demo-data command quietly and dump tables, for determinism checks."""
from django.core.management import call_command
from django.db import connection


def generate(**options):
    call_command("generate_demo_data", reset=True, stdout=open("/dev/null", "w"), **options)


def snapshot(tables):
    """Every row of each table, ordered by id."""
    with connection.cursor() as cursor:
        dump = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')
            dump[table] = cursor.fetchall()
        return dump
