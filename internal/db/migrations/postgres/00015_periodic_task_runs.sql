-- One row per periodic task (campaign scheduler, health sweep, webhook
-- inbox…): its heartbeat and its lease. A pass takes the lease before it
-- runs and gives it back when it ends; a pass whose process died leaves the
-- lease to expire (lease_until), after which any process may run the task
-- again. last_finished_at is the last pass that completed, which readiness
-- and the campaign diagnosis read to tell a stalled task. See
-- docs/operations.md ("Periodic work").

-- +goose Up
CREATE TABLE periodic_task_runs (
    task             text PRIMARY KEY
                     CONSTRAINT periodic_task_runs_task_chk CHECK (task ~ '^[a-z][a-z0-9_]*$'),
    -- The interval the last process to run the task was configured with.
    every_ms         bigint NOT NULL
                     CONSTRAINT periodic_task_runs_every_chk CHECK (every_ms > 0),
    created_at       timestamptz NOT NULL,
    last_started_at  timestamptz,
    last_finished_at timestamptz,
    last_error       text,
    lease_owner      text,
    lease_until      timestamptz,
    CONSTRAINT periodic_task_runs_lease_chk CHECK ((lease_owner IS NULL) = (lease_until IS NULL)),
    CONSTRAINT periodic_task_runs_lease_owner_chk CHECK (lease_owner IS NULL OR lease_owner <> ''),
    CONSTRAINT periodic_task_runs_lease_started_chk CHECK (lease_until IS NULL OR (last_started_at IS NOT NULL AND lease_until > last_started_at)),
    CONSTRAINT periodic_task_runs_finished_chk CHECK (last_finished_at IS NULL OR last_started_at IS NOT NULL)
    -- No order is required between the times of different passes: they
    -- come from different processes, whose clocks may differ a little.
);

-- +goose Down
DROP TABLE periodic_task_runs;
