-- Account health monitor (docs/health.md#health-checking): per-account check scheduling,
-- the mass-404 burst guard and the mass-disconnect limiter's ledger.
-- SQLite's 00003_health.sql holds the same tables and rules.
--
-- account_health is scheduling and evidence only. The strike count and the
-- copy stay in linkedin_accounts (written by account.UpdateSoft/Flip); the
-- strike times here say when each live strike was added, so a tripped burst
-- guard can take back exactly the strikes its window added.

-- +goose Up
CREATE TABLE account_health (
    account_id           text PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_check_at        timestamptz NOT NULL,
    -- Set while a sweep holds the account (next_check_at is then the lease
    -- end, so a crashed checker's accounts come due again by themselves).
    claim_token          text,
    last_checked_at      timestamptz,
    last_ok_at           timestamptz,
    last_404_at          timestamptz,
    last_outcome         text
                         CONSTRAINT account_health_last_outcome_chk CHECK (last_outcome IN
                           ('ok', 'provider_status', 'not_found', 'unreachable', 'restricted',
                            'verification', 'reconnect_needed', 'unrecognized')),
    source_status        text,
    unreachable_since    timestamptz,
    strike1_at           timestamptz,
    strike2_at           timestamptz,
    restart_requested_at timestamptz,
    CONSTRAINT account_health_strike_order_chk
        CHECK (strike2_at IS NULL OR (strike1_at IS NOT NULL AND strike2_at >= strike1_at)),
    CONSTRAINT account_health_ok_checked_chk
        CHECK (last_ok_at IS NULL OR (last_checked_at IS NOT NULL AND last_ok_at <= last_checked_at)),
    CONSTRAINT account_health_404_checked_chk
        CHECK (last_404_at IS NULL OR (last_checked_at IS NOT NULL AND last_404_at <= last_checked_at)),
    CONSTRAINT account_health_outcome_checked_chk
        CHECK ((last_outcome IS NULL) = (last_checked_at IS NULL))
);
CREATE INDEX account_health_due_idx ON account_health (next_check_at);
CREATE INDEX account_health_checked_idx ON account_health (last_checked_at);
CREATE INDEX account_health_claim_idx ON account_health (claim_token) WHERE claim_token IS NOT NULL;

-- The burst guard of the one Unipile tenant this installation talks to: a
-- single row, shared by every process. Half-open is not stored: it is
-- "open and reopen_at has passed".
CREATE TABLE health_guard (
    id         integer PRIMARY KEY CONSTRAINT health_guard_singleton_chk CHECK (id = 1),
    state      text NOT NULL CONSTRAINT health_guard_state_chk CHECK (state IN ('closed', 'open')),
    trips      bigint NOT NULL DEFAULT 0 CONSTRAINT health_guard_trips_chk CHECK (trips >= 0),
    opened_at  timestamptz,
    reopen_at  timestamptz,
    probes_ok  integer NOT NULL DEFAULT 0 CONSTRAINT health_guard_probes_chk CHECK (probes_ok >= 0),
    updated_at timestamptz,
    CONSTRAINT health_guard_open_chk CHECK (
        (state = 'closed' AND opened_at IS NULL AND reopen_at IS NULL AND probes_ok = 0)
        OR (state = 'open' AND opened_at IS NOT NULL AND reopen_at IS NOT NULL AND trips > 0 AND reopen_at >= opened_at))
);
INSERT INTO health_guard (id, state) VALUES (1, 'closed');

-- Every provider-driven flip to disconnected, applied or held. The limiter
-- counts applied rows in its window (the ledger is the counter); held rows
-- wait for a later window and are never dropped silently: they end applied,
-- canceled (the provider said OK again, or the burst guard took back the
-- 404s behind them) or superseded (the account was disconnected otherwise).
CREATE TABLE health_disconnects (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   text NOT NULL REFERENCES linkedin_accounts (id),
    state        text NOT NULL
                 CONSTRAINT health_disconnects_state_chk CHECK (state IN ('held', 'applied', 'canceled', 'superseded')),
    source       text NOT NULL,
    reason       text NOT NULL CONSTRAINT health_disconnects_reason_chk CHECK (reason <> ''),
    actor        text NOT NULL DEFAULT '',
    copy_code    text NOT NULL,
    copy_text    text NOT NULL CONSTRAINT health_disconnects_copy_chk CHECK (copy_text <> ''),
    strikes      integer CONSTRAINT health_disconnects_strikes_chk CHECK (strikes IS NULL OR strikes BETWEEN 0 AND 3),
    requested_at timestamptz NOT NULL,
    decided_at   timestamptz,
    CONSTRAINT health_disconnects_decided_chk CHECK ((state = 'held') = (decided_at IS NULL)),
    CONSTRAINT health_disconnects_decided_order_chk CHECK (decided_at IS NULL OR decided_at >= requested_at)
);
-- At most one held disconnect per account.
CREATE UNIQUE INDEX health_disconnects_one_held_idx ON health_disconnects (account_id) WHERE state = 'held';
CREATE INDEX health_disconnects_held_idx ON health_disconnects (requested_at) WHERE state = 'held';
CREATE INDEX health_disconnects_applied_idx ON health_disconnects (decided_at) WHERE state = 'applied';

-- A decision is final: only a held row may change, only its state and
-- decided_at, and never back to held.
-- +goose StatementBegin
CREATE FUNCTION health_disconnects_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'health_disconnects_final: the disconnect ledger is append-only'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'health_disconnects_final';
    END IF;
    IF OLD.state <> 'held' OR NEW.state = 'held'
       OR (NEW.id, NEW.account_id, NEW.source, NEW.reason, NEW.actor, NEW.copy_code, NEW.copy_text, NEW.strikes, NEW.requested_at)
          IS DISTINCT FROM
          (OLD.id, OLD.account_id, OLD.source, OLD.reason, OLD.actor, OLD.copy_code, OLD.copy_text, OLD.strikes, OLD.requested_at) THEN
        RAISE EXCEPTION 'health_disconnects_final: only a held disconnect may be decided, once'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'health_disconnects_final';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER health_disconnects_final
    BEFORE UPDATE OR DELETE ON health_disconnects
    FOR EACH ROW EXECUTE FUNCTION health_disconnects_final();

-- +goose Down
DROP TABLE health_disconnects;
DROP FUNCTION health_disconnects_final();
DROP TABLE health_guard;
DROP TABLE account_health;
