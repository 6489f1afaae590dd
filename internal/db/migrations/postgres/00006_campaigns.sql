-- Campaigns, their sender accounts, prospects and enrollments (docs/campaigns.md#campaigns-and-steps).
-- Every rule that can live in the database does, on both engines:
-- sqlite/00006_campaigns.sql holds the same tables, constraints and triggers.
--
-- Workspace consistency is carried by composite foreign keys: a sender, a
-- prospect and an enrollment each name the workspace of the campaign they
-- belong to, and the (id, workspace_id) pairs they reference must exist, so
-- no row can tie one workspace's campaign to another workspace's account or
-- prospect.

-- +goose Up

-- The target of the (account, workspace) foreign keys below. id alone is
-- already unique, so this index refuses nothing; it only lets the pair be
-- referenced.
CREATE UNIQUE INDEX linkedin_accounts_id_workspace_uidx ON linkedin_accounts (id, workspace_id);

CREATE TABLE campaigns (
    id                 text PRIMARY KEY,
    workspace_id       text NOT NULL REFERENCES workspaces (id),
    name               text NOT NULL
                       CONSTRAINT campaigns_name_chk CHECK (length(trim(name)) BETWEEN 1 AND 200),
    status             text NOT NULL DEFAULT 'draft'
                       CONSTRAINT campaigns_status_chk CHECK (status IN ('draft', 'running', 'paused', 'completed', 'archived')),
    paused_reason      text
                       CONSTRAINT campaigns_paused_reason_chk CHECK (paused_reason IN
                         ('manual', 'account_disconnected', 'account_restricted', 'account_error',
                          'needs_verification', 'high_failure_rate', 'template_error')),
    -- The step graph as authored, a JSON array validated by the application
    -- on every save; the database only insists it is a non-empty array.
    steps              text NOT NULL
                       CONSTRAINT campaigns_steps_chk CHECK (jsonb_typeof(steps::jsonb) = 'array' AND jsonb_array_length(steps::jsonb) > 0),
    cap_invite         integer NOT NULL,
    cap_message        integer NOT NULL,
    cap_inmail         integer NOT NULL,
    cap_view_profile   integer NOT NULL,
    stop_on_reply      boolean NOT NULL DEFAULT true,
    late_accept_policy text NOT NULL DEFAULT 'follow_up'
                       CONSTRAINT campaigns_late_accept_policy_chk CHECK (late_accept_policy IN ('follow_up', 'record_only')),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- A paused campaign always says why, and only a paused one has a reason.
    CONSTRAINT campaigns_paused_iff_reason_chk CHECK ((status = 'paused') = (paused_reason IS NOT NULL)),
    CONSTRAINT campaigns_daily_caps_chk CHECK (cap_invite >= 0 AND cap_message >= 0 AND cap_inmail >= 0 AND cap_view_profile >= 0),
    CONSTRAINT campaigns_id_workspace_key UNIQUE (id, workspace_id)
);
CREATE INDEX campaigns_workspace_idx ON campaigns (workspace_id, id);
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- A campaign's sender accounts, in the order they were listed. A sender
-- taken off a campaign keeps its row (removed_at set) so that the
-- enrollments it worked on still point at a sender of that campaign.
CREATE TABLE campaign_accounts (
    campaign_id  text NOT NULL,
    account_id   text NOT NULL,
    workspace_id text NOT NULL,
    position     integer NOT NULL CONSTRAINT campaign_accounts_position_chk CHECK (position >= 0),
    added_at     timestamptz NOT NULL,
    removed_at   timestamptz,
    PRIMARY KEY (campaign_id, account_id),
    CONSTRAINT campaign_accounts_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT campaign_accounts_account_fk FOREIGN KEY (account_id, workspace_id) REFERENCES linkedin_accounts (id, workspace_id),
    CONSTRAINT campaign_accounts_removed_chk CHECK (removed_at IS NULL OR removed_at >= added_at)
);
CREATE INDEX campaign_accounts_account_idx ON campaign_accounts (account_id);

-- Prospects belong to a workspace and may be enrolled in several of its
-- campaigns. Each has at least one way to reach it on LinkedIn: a public
-- profile slug (linkedin_url is the canonical /in/ URL built from it), a
-- Sales Navigator lead id, or a provider (member) id.
CREATE TABLE prospects (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    linkedin_url  text,
    public_slug   text CONSTRAINT prospects_public_slug_chk CHECK (length(public_slug) BETWEEN 1 AND 200),
    sales_nav_id  text CONSTRAINT prospects_sales_nav_id_chk CHECK (length(sales_nav_id) BETWEEN 1 AND 200),
    provider_id   text CONSTRAINT prospects_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    company       text NOT NULL DEFAULT '',
    custom_fields text NOT NULL DEFAULT '{}'
                  CONSTRAINT prospects_custom_fields_chk CHECK (jsonb_typeof(custom_fields::jsonb) = 'object'),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT prospects_identifier_chk CHECK (public_slug IS NOT NULL OR sales_nav_id IS NOT NULL OR provider_id IS NOT NULL),
    CONSTRAINT prospects_linkedin_url_chk CHECK ((linkedin_url IS NULL) = (public_slug IS NULL)
        AND (linkedin_url IS NULL OR substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/')),
    CONSTRAINT prospects_id_workspace_key UNIQUE (id, workspace_id)
);
-- One prospect per person per workspace, whichever identifier names them.
CREATE UNIQUE INDEX prospects_public_slug_uidx ON prospects (workspace_id, public_slug) WHERE public_slug IS NOT NULL;
CREATE UNIQUE INDEX prospects_sales_nav_id_uidx ON prospects (workspace_id, sales_nav_id) WHERE sales_nav_id IS NOT NULL;
CREATE UNIQUE INDEX prospects_provider_id_uidx ON prospects (workspace_id, provider_id) WHERE provider_id IS NOT NULL;

-- One row per prospect per campaign: where that prospect is in the step
-- graph, which sender works it, and how it ended.
CREATE TABLE enrollments (
    id             text PRIMARY KEY,
    workspace_id   text NOT NULL,
    campaign_id    text NOT NULL,
    prospect_id    text NOT NULL,
    account_id     text NOT NULL,
    state          text NOT NULL DEFAULT 'pending'
                   CONSTRAINT enrollments_state_chk CHECK (state IN
                     ('pending', 'active', 'soft_paused', 'completed', 'replied', 'ended', 'failed')),
    step_id        text,
    next_action_at timestamptz,
    ended_reason   text,
    last_error     text,
    failures       integer NOT NULL DEFAULT 0
                   CONSTRAINT enrollments_failures_chk CHECK (failures BETWEEN 0 AND 3),
    accepted_at    timestamptz,
    replied_at     timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT enrollments_campaign_prospect_key UNIQUE (campaign_id, prospect_id),
    CONSTRAINT enrollments_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT enrollments_prospect_fk FOREIGN KEY (prospect_id, workspace_id) REFERENCES prospects (id, workspace_id),
    -- The sender is (or was) one of the campaign's senders.
    CONSTRAINT enrollments_sender_fk FOREIGN KEY (campaign_id, account_id) REFERENCES campaign_accounts (campaign_id, account_id),
    -- Not started yet: no step, no due time.
    CONSTRAINT enrollments_pending_chk CHECK (state <> 'pending' OR (step_id IS NULL AND next_action_at IS NULL)),
    -- Working (or waiting for its sender): it is at a step.
    CONSTRAINT enrollments_step_chk CHECK (state NOT IN ('active', 'soft_paused') OR step_id IS NOT NULL),
    -- Active means the scheduler knows when to look at it again.
    CONSTRAINT enrollments_active_next_action_chk CHECK (state <> 'active' OR next_action_at IS NOT NULL),
    -- An ended prospect shows why; only ended ones carry a reason.
    CONSTRAINT enrollments_ended_reason_chk CHECK ((state = 'ended') = (ended_reason IS NOT NULL AND length(ended_reason) > 0)),
    -- A failed prospect shows the provider's error.
    CONSTRAINT enrollments_failed_error_chk CHECK (state <> 'failed' OR (last_error IS NOT NULL AND length(last_error) > 0)),
    CONSTRAINT enrollments_replied_chk CHECK (state <> 'replied' OR replied_at IS NOT NULL)
);
CREATE INDEX enrollments_campaign_idx ON enrollments (campaign_id, state);
CREATE INDEX enrollments_sender_idx ON enrollments (account_id, state);
CREATE INDEX enrollments_prospect_idx ON enrollments (prospect_id);
-- The scheduler's question: which active enrollments are due?
CREATE INDEX enrollments_due_idx ON enrollments (next_action_at) WHERE state = 'active';

-- A live enrollment (pending, active, soft-paused) must be worked by a
-- current sender of its campaign, never by one taken off it.
-- +goose StatementBegin
CREATE FUNCTION enrollments_sender_current() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IN ('pending', 'active', 'soft_paused') AND EXISTS (
        SELECT 1 FROM campaign_accounts
         WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id AND removed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'enrollments_sender_current: enrollment % is live but account % was taken off campaign %',
            NEW.id, NEW.account_id, NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollments_sender_current';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER enrollments_sender_current
    BEFORE INSERT OR UPDATE OF state, account_id ON enrollments
    FOR EACH ROW EXECUTE FUNCTION enrollments_sender_current();

-- +goose StatementBegin
CREATE FUNCTION campaign_accounts_removal_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM enrollments
                WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id
                  AND state IN ('pending', 'active', 'soft_paused')) THEN
        RAISE EXCEPTION 'enrollments_sender_current: account % still works live enrollments of campaign %; move or end them first',
            NEW.account_id, NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollments_sender_current';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER campaign_accounts_removal_guard
    BEFORE UPDATE OF removed_at ON campaign_accounts
    FOR EACH ROW WHEN (NEW.removed_at IS NOT NULL AND OLD.removed_at IS NULL)
    EXECUTE FUNCTION campaign_accounts_removal_guard();

-- +goose Down
DROP TABLE enrollments;
DROP TABLE prospects;
DROP TABLE campaign_accounts;
DROP TABLE campaigns;
DROP FUNCTION campaign_accounts_removal_guard();
DROP FUNCTION enrollments_sender_current();
DROP INDEX linkedin_accounts_id_workspace_uidx;
