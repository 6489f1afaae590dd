-- The send ledger (docs/sending.md#the-send-ledger): one row per provider action, moving
-- intent -> dispatched -> confirmed | failed | unknown (and unknown ->
-- confirmed | failed once reconciled; intent -> cancelled when a gate
-- closes between claim and dispatch). Caps are counted from these rows,
-- in-flight ones included, never from a separate counter.

-- +goose Up
CREATE TABLE sends (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    account_id    text NOT NULL REFERENCES linkedin_accounts (id),
    campaign_id   text NOT NULL REFERENCES campaigns (id),
    enrollment_id text NOT NULL REFERENCES enrollments (id),
    prospect_id   text NOT NULL REFERENCES prospects (id),
    step_id       text NOT NULL,
    action        text NOT NULL
                  CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile')),
    state         text NOT NULL DEFAULT 'intent'
                  CONSTRAINT sends_state_chk CHECK (state IN ('intent', 'dispatched', 'confirmed', 'failed', 'unknown', 'cancelled')),
    with_note     boolean NOT NULL DEFAULT false,
    claimed_at    timestamptz NOT NULL,
    dispatched_at timestamptz,
    finished_at   timestamptz,
    provider_ref  text,
    chat_id       text,
    error_kind    text,
    error         text,
    parked_at     timestamptz,
    -- A message or InMail counts as delivered only with the provider's chat.
    CONSTRAINT sends_confirmed_chat_chk CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL),
    CONSTRAINT sends_dispatched_at_chk CHECK (state IN ('intent', 'cancelled') OR dispatched_at IS NOT NULL),
    CONSTRAINT sends_failed_error_chk CHECK (state NOT IN ('failed', 'cancelled') OR (error IS NOT NULL AND length(error) > 0)),
    CONSTRAINT sends_finished_chk CHECK ((state IN ('confirmed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT sends_parked_chk CHECK (parked_at IS NULL OR state = 'unknown')
);
-- Never the same step to the same person twice, whichever account would
-- send it: only a row known not to have reached LinkedIn frees the step.
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id) WHERE state NOT IN ('failed', 'cancelled');
CREATE INDEX sends_account_action_idx ON sends (account_id, action, claimed_at);
CREATE INDEX sends_campaign_action_idx ON sends (campaign_id, action, claimed_at);
CREATE INDEX sends_open_idx ON sends (state, claimed_at) WHERE state IN ('intent', 'dispatched', 'unknown');

-- +goose StatementBegin
CREATE FUNCTION sends_state_machine() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ((OLD.state = 'intent' AND NEW.state IN ('dispatched', 'cancelled'))
         OR (OLD.state = 'dispatched' AND NEW.state IN ('confirmed', 'failed', 'unknown'))
         OR (OLD.state = 'unknown' AND NEW.state IN ('confirmed', 'failed'))) THEN
        RAISE EXCEPTION 'sends_state_machine: send % cannot move % -> %', NEW.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_state_machine';
    END IF;
    IF (NEW.id, NEW.account_id, NEW.campaign_id, NEW.enrollment_id, NEW.prospect_id, NEW.step_id, NEW.action, NEW.claimed_at)
       IS DISTINCT FROM (OLD.id, OLD.account_id, OLD.campaign_id, OLD.enrollment_id, OLD.prospect_id, OLD.step_id, OLD.action, OLD.claimed_at) THEN
        RAISE EXCEPTION 'sends_state_machine: a send''s identity cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_state_machine';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER sends_state_machine
    BEFORE UPDATE ON sends
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.account_id IS DISTINCT FROM NEW.account_id
                       OR OLD.claimed_at IS DISTINCT FROM NEW.claimed_at OR OLD.action IS DISTINCT FROM NEW.action)
    EXECUTE FUNCTION sends_state_machine();
-- +goose StatementBegin
CREATE FUNCTION sends_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sends are a ledger: rows cannot be deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_append_only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER sends_no_delete BEFORE DELETE ON sends FOR EACH ROW EXECUTE FUNCTION sends_no_delete();

-- Cooldowns (provider limit signals) and breakers (InMail credits) per
-- account and action: while until is in the future that action waits.
CREATE TABLE send_blocks (
    account_id text NOT NULL REFERENCES linkedin_accounts (id),
    action     text NOT NULL CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile')),
    kind       text NOT NULL CONSTRAINT send_blocks_kind_chk CHECK (kind IN ('cooldown', 'credits')),
    until      timestamptz NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, action, kind)
);

-- One row per account: the earliest instant its next action may be
-- claimed. Claims lock it, which serialises them per account.
CREATE TABLE account_pacing (
    account_id      text PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_allowed_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE account_pacing;
DROP TABLE send_blocks;
DROP TABLE sends;
DROP FUNCTION sends_no_delete();
DROP FUNCTION sends_state_machine();
