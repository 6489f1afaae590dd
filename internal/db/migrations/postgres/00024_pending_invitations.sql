-- Pending invitations and their withdrawal (docs/sending.md#pending-invitations,
-- docs/sending.md#withdrawals).
--
-- Each account gets a cap on its pending invitations (ceiling 700), a
-- daily cap on withdrawals (ceiling 100) and the age after which Keel
-- withdraws an invitation (0 = never, else 7-180 days).
--
-- invitations holds one row per invitation the account has outstanding
-- or had: Keel's own (send_id, prospect_id), opened when an invite send is
-- confirmed, and those made outside Keel that the provider's sent list
-- shows (provider_invitation_id only). pending = state 'pending'. A
-- withdrawal is a ledger row (action 'withdraw') of the same campaign, step
-- and prospect as the confirmed invitation it withdraws; the trigger
-- refuses one without it.

-- +goose Up
ALTER TABLE linkedin_accounts
    ADD COLUMN cap_invite_pending integer NOT NULL DEFAULT 400
        CONSTRAINT linkedin_accounts_cap_invite_pending_chk CHECK (cap_invite_pending BETWEEN 0 AND 700),
    ADD COLUMN cap_withdraw_daily integer NOT NULL DEFAULT 50
        CONSTRAINT linkedin_accounts_cap_withdraw_daily_chk CHECK (cap_withdraw_daily BETWEEN 0 AND 100),
    ADD COLUMN withdraw_after_days integer NOT NULL DEFAULT 21
        CONSTRAINT linkedin_accounts_withdraw_after_days_chk CHECK (withdraw_after_days = 0 OR withdraw_after_days BETWEEN 7 AND 180);

ALTER TABLE account_pacing ADD COLUMN spread_withdraw_until timestamptz;

ALTER TABLE sends DROP CONSTRAINT sends_action_chk;
ALTER TABLE sends ADD CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw'));
-- A limit signal on a withdrawal cools withdrawals down.
ALTER TABLE send_blocks DROP CONSTRAINT send_blocks_action_chk;
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw'));
DROP INDEX sends_one_per_step_uidx;
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id, action) WHERE state NOT IN ('failed', 'cancelled');

-- +goose StatementBegin
CREATE FUNCTION sends_withdraw_of_invite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = NEW.campaign_id AND s.step_id = NEW.step_id
                   AND s.prospect_id = NEW.prospect_id AND s.account_id = NEW.account_id
                   AND s.action = 'invite' AND s.state = 'confirmed'
                   AND s.state NOT IN ('failed', 'cancelled')) THEN
        RAISE EXCEPTION 'sends_withdraw_of_invite: a withdrawal needs the confirmed invitation it withdraws'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_withdraw_of_invite';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sends_withdraw_of_invite BEFORE INSERT ON sends
    FOR EACH ROW WHEN (NEW.action = 'withdraw') EXECUTE FUNCTION sends_withdraw_of_invite();

CREATE TABLE invitations (
    id                     text PRIMARY KEY,
    workspace_id           text NOT NULL REFERENCES workspaces (id),
    account_id             text NOT NULL REFERENCES linkedin_accounts (id),
    send_id                text UNIQUE REFERENCES sends (id),
    prospect_id            text REFERENCES prospects (id),
    provider_invitation_id text CONSTRAINT invitations_provider_invitation_id_chk
                           CHECK (length(provider_invitation_id) BETWEEN 1 AND 200),
    invited_provider_id    text CONSTRAINT invitations_invited_provider_id_chk
                           CHECK (length(invited_provider_id) BETWEEN 1 AND 200),
    sent_at                timestamptz NOT NULL,
    state                  text NOT NULL DEFAULT 'pending'
                           CONSTRAINT invitations_state_chk CHECK (state IN ('pending', 'accepted', 'withdrawn', 'gone')),
    closed_at              timestamptz,
    withdraw_at            timestamptz,
    seen_at                timestamptz,
    CONSTRAINT invitations_closed_chk CHECK ((state = 'pending') = (closed_at IS NULL)),
    CONSTRAINT invitations_origin_chk CHECK ((send_id IS NULL) = (prospect_id IS NULL)
        AND (send_id IS NOT NULL OR provider_invitation_id IS NOT NULL)),
    CONSTRAINT invitations_withdrawn_chk CHECK (state <> 'withdrawn' OR send_id IS NOT NULL),
    CONSTRAINT invitations_withdraw_at_chk CHECK (withdraw_at IS NULL OR (state = 'pending' AND send_id IS NOT NULL))
);
CREATE UNIQUE INDEX invitations_provider_uidx ON invitations (account_id, provider_invitation_id)
    WHERE provider_invitation_id IS NOT NULL;
CREATE INDEX invitations_pending_idx ON invitations (account_id, sent_at) WHERE state = 'pending';
CREATE INDEX invitations_withdraw_due_idx ON invitations (withdraw_at) WHERE withdraw_at IS NOT NULL;
CREATE INDEX invitations_prospect_idx ON invitations (prospect_id, state) WHERE prospect_id IS NOT NULL;

-- When each account's sent list is next read, and what the last read found.
CREATE TABLE invitation_syncs (
    account_id text PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_at    timestamptz NOT NULL,
    synced_at  timestamptz,
    listed     integer CONSTRAINT invitation_syncs_listed_chk CHECK (listed >= 0),
    outside    integer CONSTRAINT invitation_syncs_outside_chk CHECK (outside >= 0),
    last_error text
);

-- Keel's confirmed invitations not accepted yet are pending until the
-- first read of the sent list says otherwise; their withdrawal time is set
-- by that read.
INSERT INTO invitations (id, workspace_id, account_id, send_id, prospect_id, sent_at)
SELECT s.id, s.workspace_id, s.account_id, s.id, s.prospect_id, COALESCE(s.dispatched_at, s.claimed_at)
  FROM sends s JOIN enrollments en ON en.id = s.enrollment_id
 WHERE s.action = 'invite' AND s.state = 'confirmed' AND en.accepted_at IS NULL;

-- +goose Down
DROP TABLE invitation_syncs;
DROP TABLE invitations;
DROP TRIGGER sends_withdraw_of_invite ON sends;
DROP FUNCTION sends_withdraw_of_invite();
DROP INDEX sends_one_per_step_uidx;
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id) WHERE state NOT IN ('failed', 'cancelled');
ALTER TABLE sends DROP CONSTRAINT sends_action_chk;
ALTER TABLE sends ADD CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile'));
ALTER TABLE send_blocks DROP CONSTRAINT send_blocks_action_chk;
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile'));
ALTER TABLE account_pacing DROP COLUMN spread_withdraw_until;
ALTER TABLE linkedin_accounts DROP COLUMN withdraw_after_days, DROP COLUMN cap_withdraw_daily, DROP COLUMN cap_invite_pending;
