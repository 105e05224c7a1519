-- CDC-owned objects in the monolith database. Idempotent: cdc/source_setup.py runs it before every
-- relay start (and `python -m cdc setup-source` runs it by hand). Django migrations never touch these.

CREATE SCHEMA IF NOT EXISTS cdc;

-- Written by Debezium's heartbeat.action.query. The monolith database shares its Postgres cluster
-- with other databases; without a write here a quiet monolith would never move the slot forward
-- while WAL from the other databases piles up behind it.
CREATE TABLE IF NOT EXISTS cdc.heartbeat (
    id      integer PRIMARY KEY,
    beat_at timestamptz NOT NULL DEFAULT now()
);

-- Debezium's source signalling channel (`cdc snapshot TABLE` inserts an execute-snapshot row here).
-- Column layout is the one Debezium expects: id, type, data.
CREATE TABLE IF NOT EXISTS cdc.debezium_signal (
    id   varchar(64) PRIMARY KEY,
    type varchar(32) NOT NULL,
    data varchar(2048)
);
