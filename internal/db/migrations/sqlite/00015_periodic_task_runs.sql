-- Periodic task heartbeats and leases; see postgres/00015_periodic_task_runs.sql
-- for the story. Same table and rules on SQLite (times are text in one
-- format, so text order is time order).

-- +goose Up
CREATE TABLE periodic_task_runs (
    task             TEXT PRIMARY KEY
                     CONSTRAINT periodic_task_runs_task_chk CHECK (length(task) > 0 AND task NOT GLOB '*[^a-z0-9_]*' AND substr(task, 1, 1) BETWEEN 'a' AND 'z'),
    every_ms         INTEGER NOT NULL
                     CONSTRAINT periodic_task_runs_every_chk CHECK (typeof(every_ms) = 'integer' AND every_ms > 0),
    created_at       TIMESTAMP NOT NULL,
    last_started_at  TIMESTAMP,
    last_finished_at TIMESTAMP,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_until      TIMESTAMP,
    CONSTRAINT periodic_task_runs_lease_chk CHECK ((lease_owner IS NULL) = (lease_until IS NULL)),
    CONSTRAINT periodic_task_runs_lease_owner_chk CHECK (lease_owner IS NULL OR lease_owner <> ''),
    CONSTRAINT periodic_task_runs_lease_started_chk CHECK (lease_until IS NULL OR (last_started_at IS NOT NULL AND lease_until > last_started_at)),
    CONSTRAINT periodic_task_runs_finished_chk CHECK (last_finished_at IS NULL OR last_started_at IS NOT NULL)
    -- No order is required between the times of different passes: they
    -- come from different processes, whose clocks may differ a little.
);

-- +goose Down
DROP TABLE periodic_task_runs;
