-- The schema Keel's SQLite migrations produce; checked by TestSchemaSnapshot.

-- table account_health (on account_health)
CREATE TABLE account_health (
    account_id           TEXT PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_check_at        TIMESTAMP NOT NULL,
    -- Set while a sweep holds the account (next_check_at is then the lease
    -- end, so a crashed checker's accounts come due again by themselves).
    claim_token          TEXT,
    last_checked_at      TIMESTAMP,
    last_ok_at           TIMESTAMP,
    last_404_at          TIMESTAMP,
    last_outcome         TEXT
                         CONSTRAINT account_health_last_outcome_chk CHECK (last_outcome IN
                           ('ok', 'provider_status', 'not_found', 'unreachable', 'restricted',
                            'verification', 'reconnect_needed', 'unrecognized')),
    source_status        TEXT,
    unreachable_since    TIMESTAMP,
    strike1_at           TIMESTAMP,
    strike2_at           TIMESTAMP,
    restart_requested_at TIMESTAMP,
    CONSTRAINT account_health_strike_order_chk
        CHECK (strike2_at IS NULL OR (strike1_at IS NOT NULL AND strike2_at >= strike1_at)),
    CONSTRAINT account_health_ok_checked_chk
        CHECK (last_ok_at IS NULL OR (last_checked_at IS NOT NULL AND last_ok_at <= last_checked_at)),
    CONSTRAINT account_health_404_checked_chk
        CHECK (last_404_at IS NULL OR (last_checked_at IS NOT NULL AND last_404_at <= last_checked_at)),
    CONSTRAINT account_health_outcome_checked_chk
        CHECK ((last_outcome IS NULL) = (last_checked_at IS NULL))
);

-- table account_pacing (on account_pacing)
CREATE TABLE account_pacing (
    account_id      TEXT PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_allowed_at TIMESTAMP NOT NULL
, spread_invite_until TIMESTAMP, spread_message_until TIMESTAMP, spread_inmail_until TIMESTAMP, spread_view_profile_until TIMESTAMP, spread_withdraw_until TIMESTAMP);

-- table account_tags (on account_tags)
CREATE TABLE account_tags (
    account_id  TEXT NOT NULL REFERENCES linkedin_accounts (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL
                CONSTRAINT account_tags_tag_chk CHECK (length(tag) BETWEEN 1 AND 32
                    AND tag GLOB '[a-z0-9]*' AND tag NOT GLOB '*[^a-z0-9_-]*'),
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL CONSTRAINT account_tags_created_by_chk CHECK (created_by <> ''),
    PRIMARY KEY (account_id, tag)
);

-- table account_tier_changes (on account_tier_changes)
CREATE TABLE account_tier_changes (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES linkedin_accounts (id),
    from_tier         TEXT NOT NULL,
    to_tier           TEXT NOT NULL,
    changed_by        TEXT NOT NULL,
    changed_at        TIMESTAMP NOT NULL,
    -- What the provider reported when the change was made (NULL: nothing).
    provider_features TEXT
);

-- table admin_alerts (on admin_alerts)
CREATE TABLE admin_alerts (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT REFERENCES workspaces (id),
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL CONSTRAINT admin_alerts_severity_chk CHECK (severity IN ('info', 'warning', 'critical')),
    subject_type    TEXT CONSTRAINT admin_alerts_subject_type_chk CHECK (subject_type IN ('account', 'campaign')),
    subject_id      TEXT,
    message         TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    occurrences     INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    CONSTRAINT admin_alerts_subject_chk CHECK ((subject_type IS NULL) = (subject_id IS NULL)),
    CONSTRAINT admin_alerts_ack_chk CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);

-- table api_tokens (on api_tokens)
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    token_hash   TEXT NOT NULL UNIQUE CONSTRAINT api_tokens_hash_chk CHECK (length(token_hash) = 64),
    name         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
, expires_at TIMESTAMP, role TEXT NOT NULL DEFAULT 'admin'
    CONSTRAINT api_tokens_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer')));

-- table campaign_accounts (on campaign_accounts)
CREATE TABLE campaign_accounts (
    campaign_id  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    position     INTEGER NOT NULL CONSTRAINT campaign_accounts_position_chk CHECK (position >= 0),
    added_at     TIMESTAMP NOT NULL,
    removed_at   TIMESTAMP,
    PRIMARY KEY (campaign_id, account_id),
    CONSTRAINT campaign_accounts_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT campaign_accounts_account_fk FOREIGN KEY (account_id, workspace_id) REFERENCES linkedin_accounts (id, workspace_id),
    CONSTRAINT campaign_accounts_removed_chk CHECK (removed_at IS NULL OR removed_at >= added_at)
);

-- table campaign_send_counts (on campaign_send_counts)
CREATE TABLE campaign_send_counts (
    id INTEGER PRIMARY KEY,
    campaign_id text NOT NULL,
    scope text NOT NULL CONSTRAINT campaign_send_counts_scope_chk CHECK (scope IN ('step', 'sender', 'campaign')),
    key text NOT NULL,
    action text NOT NULL,
    measure text NOT NULL CONSTRAINT campaign_send_counts_measure_chk CHECK (
        (scope IN ('step', 'sender') AND measure IN ('sent', 'accepted', 'replied'))
        OR (scope = 'campaign' AND measure IN ('invited', 'accepted', 'messaged', 'replied'))),
    n integer NOT NULL CONSTRAINT campaign_send_counts_n_chk CHECK (n <> 0),
    CONSTRAINT campaign_send_counts_key_chk CHECK ((scope = 'step') = (action <> '') AND (scope = 'campaign') = (key = ''))
);

-- table campaigns (on campaigns)
CREATE TABLE campaigns (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    name               TEXT NOT NULL
                       CONSTRAINT campaigns_name_chk CHECK (length(trim(name)) BETWEEN 1 AND 200),
    status             TEXT NOT NULL DEFAULT 'draft'
                       CONSTRAINT campaigns_status_chk CHECK (status IN ('draft', 'running', 'paused', 'completed', 'archived')),
    paused_reason      TEXT
                       CONSTRAINT campaigns_paused_reason_chk CHECK (paused_reason IN
                         ('manual', 'account_disconnected', 'account_restricted', 'account_error',
                          'needs_verification', 'high_failure_rate', 'template_error')),
    steps              TEXT NOT NULL
                       CONSTRAINT campaigns_steps_chk CHECK (json_valid(steps) AND json_type(steps) = 'array' AND json_array_length(steps) > 0),
    cap_invite         INTEGER NOT NULL,
    cap_message        INTEGER NOT NULL,
    cap_inmail         INTEGER NOT NULL,
    cap_view_profile   INTEGER NOT NULL,
    stop_on_reply      INTEGER NOT NULL DEFAULT 1
                       CONSTRAINT campaigns_stop_on_reply_chk CHECK (stop_on_reply IN (0, 1)),
    late_accept_policy TEXT NOT NULL DEFAULT 'follow_up'
                       CONSTRAINT campaigns_late_accept_policy_chk CHECK (late_accept_policy IN ('follow_up', 'record_only')),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL, updated_by TEXT
    CONSTRAINT campaigns_updated_by_chk CHECK (updated_by IS NULL OR length(updated_by) BETWEEN 1 AND 300),
    CONSTRAINT campaigns_paused_iff_reason_chk CHECK ((status = 'paused') = (paused_reason IS NOT NULL)),
    CONSTRAINT campaigns_daily_caps_chk CHECK (cap_invite >= 0 AND cap_message >= 0 AND cap_inmail >= 0 AND cap_view_profile >= 0),
    CONSTRAINT campaigns_id_workspace_key UNIQUE (id, workspace_id)
);

-- table conversation_messages (on conversation_messages)
CREATE TABLE conversation_messages (
    id                  text PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations (id),
    provider_message_id text NOT NULL CONSTRAINT conversation_messages_provider_message_id_chk
                        CHECK (length(provider_message_id) BETWEEN 1 AND 200),
    from_self           INTEGER NOT NULL CONSTRAINT conversation_messages_from_self_chk CHECK (from_self IN (0, 1)),
    sender_provider_id  text CONSTRAINT conversation_messages_sender_chk CHECK (length(sender_provider_id) BETWEEN 1 AND 200),
    text                text NOT NULL DEFAULT '' CONSTRAINT conversation_messages_text_chk CHECK (length(text) <= 20000),
    sent_at             TIMESTAMP NOT NULL,
    stored_at           TIMESTAMP NOT NULL,
    CONSTRAINT conversation_messages_provider_key UNIQUE (conversation_id, provider_message_id)
);

-- table conversations (on conversations)
CREATE TABLE conversations (
    id                   text PRIMARY KEY,
    workspace_id         text NOT NULL REFERENCES workspaces (id),
    account_id           text NOT NULL REFERENCES linkedin_accounts (id),
    provider_chat_id     text NOT NULL CONSTRAINT conversations_provider_chat_id_chk CHECK (length(provider_chat_id) BETWEEN 1 AND 200),
    attendee_provider_id text CONSTRAINT conversations_attendee_provider_id_chk CHECK (length(attendee_provider_id) BETWEEN 1 AND 200),
    attendee_name        text NOT NULL DEFAULT '' CONSTRAINT conversations_attendee_name_chk CHECK (length(attendee_name) <= 300),
    prospect_id          text REFERENCES prospects (id),
    campaign_id          text REFERENCES campaigns (id),
    last_message_at      TIMESTAMP,
    last_message_text    text NOT NULL DEFAULT '',
    unread               integer NOT NULL DEFAULT 0 CONSTRAINT conversations_unread_chk CHECK (unread >= 0),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    CONSTRAINT conversations_chat_key UNIQUE (account_id, provider_chat_id),
    CONSTRAINT conversations_campaign_chk CHECK (campaign_id IS NULL OR prospect_id IS NOT NULL)
);

-- table do_not_contact (on do_not_contact)
CREATE TABLE do_not_contact (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    linkedin_url TEXT CONSTRAINT do_not_contact_linkedin_url_chk
                 CHECK (substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/'),
    public_slug  TEXT CONSTRAINT do_not_contact_public_slug_chk CHECK (length(public_slug) BETWEEN 1 AND 200),
    provider_id  TEXT CONSTRAINT do_not_contact_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    company_url  TEXT CONSTRAINT do_not_contact_company_url_chk
                 CHECK (substr(company_url, 1, 33) = 'https://www.linkedin.com/company/'),
    reason       TEXT NOT NULL DEFAULT '' CONSTRAINT do_not_contact_reason_chk CHECK (length(reason) <= 1000),
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT NOT NULL CONSTRAINT do_not_contact_created_by_chk CHECK (length(created_by) > 0),
    CONSTRAINT do_not_contact_one_key_chk CHECK (
        (CASE WHEN linkedin_url IS NULL THEN 0 ELSE 1 END) + (CASE WHEN provider_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN company_url IS NULL THEN 0 ELSE 1 END) = 1),
    CONSTRAINT do_not_contact_slug_chk CHECK ((linkedin_url IS NULL) = (public_slug IS NULL))
);

-- table do_not_contact_removals (on do_not_contact_removals)
CREATE TABLE do_not_contact_removals (
    entry_id     TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    entry        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    removed_by   TEXT NOT NULL CONSTRAINT do_not_contact_removals_removed_by_chk CHECK (length(removed_by) BETWEEN 1 AND 300),
    removed_at   TIMESTAMP NOT NULL
);

-- table enrollment_state_counts (on enrollment_state_counts)
CREATE TABLE enrollment_state_counts (
    id INTEGER PRIMARY KEY,
    campaign_id text NOT NULL,
    state text NOT NULL,
    n integer NOT NULL CONSTRAINT enrollment_state_counts_n_chk CHECK (n <> 0)
);

-- table enrollment_step_counts (on enrollment_step_counts)
CREATE TABLE enrollment_step_counts (
    id INTEGER PRIMARY KEY,
    campaign_id text NOT NULL,
    account_id text NOT NULL,
    step_id text NOT NULL,
    n integer NOT NULL CONSTRAINT enrollment_step_counts_n_chk CHECK (n <> 0)
);

-- table enrollments (on enrollments)
CREATE TABLE enrollments (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    prospect_id    TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending'
                   CONSTRAINT enrollments_state_chk CHECK (state IN
                     ('pending', 'active', 'soft_paused', 'completed', 'replied', 'ended', 'failed')),
    step_id        TEXT,
    next_action_at TIMESTAMP,
    ended_reason   TEXT,
    last_error     TEXT,
    failures       INTEGER NOT NULL DEFAULT 0
                   CONSTRAINT enrollments_failures_chk CHECK (failures BETWEEN 0 AND 3),
    accepted_at    TIMESTAMP,
    replied_at     TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL, parked_by TEXT
    CONSTRAINT enrollments_parked_by_chk
    CHECK (parked_by IS NULL OR (state IN ('active', 'soft_paused') AND next_action_at IS NOT NULL AND length(parked_by) > 0)), ended_at TIMESTAMP
    CONSTRAINT enrollments_ended_at_chk CHECK (ended_at IS NULL OR state NOT IN ('pending', 'active', 'soft_paused')),
    CONSTRAINT enrollments_campaign_prospect_key UNIQUE (campaign_id, prospect_id),
    CONSTRAINT enrollments_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT enrollments_prospect_fk FOREIGN KEY (prospect_id, workspace_id) REFERENCES prospects (id, workspace_id),
    CONSTRAINT enrollments_sender_fk FOREIGN KEY (campaign_id, account_id) REFERENCES campaign_accounts (campaign_id, account_id),
    CONSTRAINT enrollments_pending_chk CHECK (state <> 'pending' OR (step_id IS NULL AND next_action_at IS NULL)),
    CONSTRAINT enrollments_step_chk CHECK (state NOT IN ('active', 'soft_paused') OR step_id IS NOT NULL),
    CONSTRAINT enrollments_active_next_action_chk CHECK (state <> 'active' OR next_action_at IS NOT NULL),
    CONSTRAINT enrollments_ended_reason_chk CHECK ((state = 'ended') = (ended_reason IS NOT NULL AND length(ended_reason) > 0)),
    CONSTRAINT enrollments_failed_error_chk CHECK (state <> 'failed' OR (last_error IS NOT NULL AND length(last_error) > 0)),
    CONSTRAINT enrollments_replied_chk CHECK (state <> 'replied' OR replied_at IS NOT NULL)
);

-- table health_disconnects (on health_disconnects)
CREATE TABLE health_disconnects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL REFERENCES linkedin_accounts (id),
    state        TEXT NOT NULL
                 CONSTRAINT health_disconnects_state_chk CHECK (state IN ('held', 'applied', 'canceled', 'superseded')),
    source       TEXT NOT NULL,
    reason       TEXT NOT NULL CONSTRAINT health_disconnects_reason_chk CHECK (reason <> ''),
    actor        TEXT NOT NULL DEFAULT '',
    copy_code    TEXT NOT NULL,
    copy_text    TEXT NOT NULL CONSTRAINT health_disconnects_copy_chk CHECK (copy_text <> ''),
    strikes      INTEGER CONSTRAINT health_disconnects_strikes_chk CHECK (strikes IS NULL OR strikes BETWEEN 0 AND 3),
    requested_at TIMESTAMP NOT NULL,
    decided_at   TIMESTAMP,
    CONSTRAINT health_disconnects_decided_chk CHECK ((state = 'held') = (decided_at IS NULL)),
    CONSTRAINT health_disconnects_decided_order_chk CHECK (decided_at IS NULL OR decided_at >= requested_at)
);

-- table health_guard (on health_guard)
CREATE TABLE health_guard (
    id         INTEGER PRIMARY KEY CONSTRAINT health_guard_singleton_chk CHECK (id = 1),
    state      TEXT NOT NULL CONSTRAINT health_guard_state_chk CHECK (state IN ('closed', 'open')),
    trips      INTEGER NOT NULL DEFAULT 0 CONSTRAINT health_guard_trips_chk CHECK (trips >= 0),
    opened_at  TIMESTAMP,
    reopen_at  TIMESTAMP,
    probes_ok  INTEGER NOT NULL DEFAULT 0 CONSTRAINT health_guard_probes_chk CHECK (probes_ok >= 0),
    updated_at TIMESTAMP,
    CONSTRAINT health_guard_open_chk CHECK (
        (state = 'closed' AND opened_at IS NULL AND reopen_at IS NULL AND probes_ok = 0)
        OR (state = 'open' AND opened_at IS NOT NULL AND reopen_at IS NOT NULL AND trips > 0 AND reopen_at >= opened_at))
);

-- table hosted_auth_failures (on hosted_auth_failures)
CREATE TABLE hosted_auth_failures (
    link_id       TEXT PRIMARY KEY REFERENCES hosted_auth_links (id),
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    kind          TEXT NOT NULL CONSTRAINT hosted_auth_failures_kind_chk CHECK (kind IN ('expired', 'failed')),
    detail        TEXT NOT NULL CONSTRAINT hosted_auth_failures_detail_chk CHECK (detail <> ''),
    created_at    TIMESTAMP NOT NULL
);

-- table hosted_auth_links (on hosted_auth_links)
CREATE TABLE hosted_auth_links (
    id                  TEXT PRIMARY KEY,
    token_hash          TEXT NOT NULL
                        CONSTRAINT hosted_auth_links_token_hash_key UNIQUE
                        CONSTRAINT hosted_auth_links_token_hash_chk CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    link_type           TEXT NOT NULL
                        CONSTRAINT hosted_auth_links_type_chk CHECK (link_type IN ('create', 'reconnect')),
    account_id          TEXT REFERENCES linkedin_accounts (id),
    provider_account_id TEXT,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    used_at             TIMESTAMP,
    result_status       TEXT
                        CONSTRAINT hosted_auth_links_result_chk CHECK (result_status IN ('CREATION_SUCCESS', 'RECONNECTED', 'OK')),
    CONSTRAINT hosted_auth_links_expiry_chk CHECK (expires_at > created_at),
    CONSTRAINT hosted_auth_links_reconnect_chk CHECK (
        link_type <> 'reconnect' OR (account_id IS NOT NULL AND provider_account_id IS NOT NULL)),
    CONSTRAINT hosted_auth_links_create_chk CHECK (link_type <> 'create' OR provider_account_id IS NULL),
    CONSTRAINT hosted_auth_links_used_chk CHECK (
        (used_at IS NULL) = (result_status IS NULL)
        AND (used_at IS NULL OR (account_id IS NOT NULL AND used_at >= created_at AND used_at <= expires_at)))
);

-- table inbox_backfill_chats (on inbox_backfill_chats)
CREATE TABLE inbox_backfill_chats (
    account_id       text NOT NULL REFERENCES linkedin_accounts (id),
    provider_chat_id text NOT NULL,
    messages_cursor  text,
    done             INTEGER NOT NULL DEFAULT 0 CONSTRAINT inbox_backfill_chats_done_chk CHECK (done IN (0, 1)),
    PRIMARY KEY (account_id, provider_chat_id)
);

-- table inbox_backfills (on inbox_backfills)
CREATE TABLE inbox_backfills (
    account_id   text PRIMARY KEY REFERENCES linkedin_accounts (id),
    chats_cursor text,
    chats_done   INTEGER NOT NULL DEFAULT 0 CONSTRAINT inbox_backfills_chats_done_chk CHECK (chats_done IN (0, 1)),
    done_at      TIMESTAMP,
    next_at      TIMESTAMP NOT NULL,
    requests     integer NOT NULL DEFAULT 0 CONSTRAINT inbox_backfills_requests_chk CHECK (requests >= 0),
    last_error   text,
    CONSTRAINT inbox_backfills_done_chk CHECK (done_at IS NULL OR chats_done = 1)
);

-- table inmail_top_ups (on inmail_top_ups)
CREATE TABLE inmail_top_ups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES linkedin_accounts (id),
    cleared_by TEXT NOT NULL CONSTRAINT inmail_top_ups_cleared_by_chk CHECK (length(cleared_by) > 0),
    source     TEXT NOT NULL CONSTRAINT inmail_top_ups_source_chk CHECK (source IN ('manual', 'balance_check')),
    balance    INTEGER CONSTRAINT inmail_top_ups_balance_chk CHECK (balance IS NULL OR balance > 0),
    cleared_at TIMESTAMP NOT NULL,
    CONSTRAINT inmail_top_ups_balance_source_chk CHECK (source = 'manual' OR balance IS NOT NULL)
);

-- table invitation_syncs (on invitation_syncs)
CREATE TABLE invitation_syncs (
    account_id TEXT PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_at    TIMESTAMP NOT NULL,
    synced_at  TIMESTAMP,
    listed     INTEGER CONSTRAINT invitation_syncs_listed_chk CHECK (listed >= 0),
    outside    INTEGER CONSTRAINT invitation_syncs_outside_chk CHECK (outside >= 0),
    last_error TEXT
);

-- table invitations (on invitations)
CREATE TABLE invitations (
    id                     TEXT PRIMARY KEY,
    workspace_id           TEXT NOT NULL REFERENCES workspaces (id),
    account_id             TEXT NOT NULL REFERENCES linkedin_accounts (id),
    send_id                TEXT UNIQUE REFERENCES sends (id),
    prospect_id            TEXT REFERENCES prospects (id),
    provider_invitation_id TEXT CONSTRAINT invitations_provider_invitation_id_chk
                           CHECK (length(provider_invitation_id) BETWEEN 1 AND 200),
    invited_provider_id    TEXT CONSTRAINT invitations_invited_provider_id_chk
                           CHECK (length(invited_provider_id) BETWEEN 1 AND 200),
    sent_at                TIMESTAMP NOT NULL,
    state                  TEXT NOT NULL DEFAULT 'pending'
                           CONSTRAINT invitations_state_chk CHECK (state IN ('pending', 'accepted', 'withdrawn', 'gone')),
    closed_at              TIMESTAMP,
    withdraw_at            TIMESTAMP,
    seen_at                TIMESTAMP,
    CONSTRAINT invitations_closed_chk CHECK ((state = 'pending') = (closed_at IS NULL)),
    CONSTRAINT invitations_origin_chk CHECK ((send_id IS NULL) = (prospect_id IS NULL)
        AND (send_id IS NOT NULL OR provider_invitation_id IS NOT NULL)),
    CONSTRAINT invitations_withdrawn_chk CHECK (state <> 'withdrawn' OR send_id IS NOT NULL),
    CONSTRAINT invitations_withdraw_at_chk CHECK (withdraw_at IS NULL OR (state = 'pending' AND send_id IS NOT NULL))
);

-- table linkedin_account_status_audit (on linkedin_account_status_audit)
CREATE TABLE "linkedin_account_status_audit" (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES linkedin_accounts (id),
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    source          TEXT NOT NULL,
    actor           TEXT NOT NULL DEFAULT '',
    strikes         INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    -- The copy the flip showed; NULL on rows from before this migration.
    last_error      TEXT,
    CONSTRAINT linkedin_account_status_audit_status_chk CHECK (
        (from_status IS NULL OR from_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error'))
        AND to_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    CONSTRAINT linkedin_account_status_audit_change_chk CHECK (from_status IS NOT to_status)
);

-- table linkedin_accounts (on linkedin_accounts)
CREATE TABLE linkedin_accounts (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    provider_account_id TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL
                        CONSTRAINT linkedin_accounts_status_chk CHECK (status IN
                          ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    last_error          TEXT,
    disconnected_at     TIMESTAMP,
    disconnected_by     TEXT,
    strikes             INTEGER NOT NULL DEFAULT 0
                        CONSTRAINT linkedin_accounts_strikes_chk CHECK (strikes BETWEEN 0 AND 3),
    tier                TEXT NOT NULL DEFAULT 'free'
                        CONSTRAINT linkedin_accounts_tier_chk CHECK (tier IN ('free', 'premium', 'sales_navigator', 'recruiter')),
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL, window_days TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri', window_start INTEGER NOT NULL DEFAULT 540
    CONSTRAINT linkedin_accounts_window_start_chk CHECK (window_start BETWEEN 0 AND 1439), window_end INTEGER NOT NULL DEFAULT 1080
    CONSTRAINT linkedin_accounts_window_chk CHECK (window_end BETWEEN 1 AND 1440 AND window_end > window_start), cap_invite_daily INTEGER NOT NULL DEFAULT 20
    CONSTRAINT linkedin_accounts_cap_invite_daily_chk CHECK (cap_invite_daily >= 0 AND cap_invite_daily <= CASE WHEN tier = 'free' THEN 30 ELSE 100 END), cap_invite_weekly INTEGER NOT NULL DEFAULT 100
    CONSTRAINT linkedin_accounts_cap_invite_weekly_chk CHECK (cap_invite_weekly >= 0 AND cap_invite_weekly <= CASE WHEN tier = 'free' THEN 100 ELSE 200 END), cap_message_daily INTEGER NOT NULL DEFAULT 50
    CONSTRAINT linkedin_accounts_cap_message_daily_chk CHECK (cap_message_daily BETWEEN 0 AND 150), cap_inmail_daily INTEGER NOT NULL DEFAULT 0
    CONSTRAINT linkedin_accounts_cap_inmail_daily_chk CHECK (cap_inmail_daily >= 0 AND cap_inmail_daily <= CASE WHEN tier = 'free' THEN 0 ELSE 50 END), cap_view_profile_daily INTEGER NOT NULL DEFAULT 40
    CONSTRAINT linkedin_accounts_cap_view_profile_daily_chk CHECK (cap_view_profile_daily BETWEEN 0 AND 100), ramp_started_at TIMESTAMP, provider_features TEXT
    CONSTRAINT linkedin_accounts_provider_features_chk CHECK (provider_features IS NULL OR provider_features = ',' OR provider_features LIKE ',%,'), provider_features_at TIMESTAMP, tier_changed_by TEXT, tier_changed_at TIMESTAMP, pacing_spread INTEGER NOT NULL DEFAULT 1
    CONSTRAINT linkedin_accounts_pacing_spread_chk CHECK (pacing_spread IN (0, 1)), pacing_min_gap_seconds INTEGER NOT NULL DEFAULT 60
    CONSTRAINT linkedin_accounts_pacing_min_gap_chk CHECK (pacing_min_gap_seconds >= 1), pacing_max_gap_seconds INTEGER NOT NULL DEFAULT 180
    CONSTRAINT linkedin_accounts_pacing_max_gap_chk
    CHECK (pacing_max_gap_seconds >= pacing_min_gap_seconds AND pacing_max_gap_seconds <= 3600), cap_invite_pending INTEGER NOT NULL DEFAULT 400
    CONSTRAINT linkedin_accounts_cap_invite_pending_chk CHECK (cap_invite_pending BETWEEN 0 AND 700), cap_withdraw_daily INTEGER NOT NULL DEFAULT 50
    CONSTRAINT linkedin_accounts_cap_withdraw_daily_chk CHECK (cap_withdraw_daily BETWEEN 0 AND 100), withdraw_after_days INTEGER NOT NULL DEFAULT 21
    CONSTRAINT linkedin_accounts_withdraw_after_days_chk CHECK (withdraw_after_days = 0 OR withdraw_after_days BETWEEN 7 AND 180), settings_updated_by TEXT
    CONSTRAINT linkedin_accounts_settings_updated_by_chk CHECK (settings_updated_by IS NULL OR length(settings_updated_by) BETWEEN 1 AND 300),
    CONSTRAINT linkedin_accounts_connected_iff_not_disconnected_chk
        CHECK ((status = 'connected') = (disconnected_at IS NULL)),
    CONSTRAINT linkedin_accounts_disconnected_by_chk
        CHECK (status <> 'connected' OR disconnected_by IS NULL),
    CONSTRAINT linkedin_accounts_no_split_state_chk
        CHECK (status <> 'connected' OR last_error IS NULL OR NOT (
               lower(last_error) LIKE '%no longer registered%'
            OR lower(last_error) LIKE '%please reconnect%'
            OR lower(last_error) LIKE '%account not found%reconnect%'
            OR lower(last_error) LIKE '%reconnect needed%'
            OR lower(last_error) LIKE '%reconnect required%'
            OR lower(last_error) LIKE '%must be connected again%'
            OR lower(last_error) LIKE '%credentials expired%'))
);

-- table login_failures (on login_failures)
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_key TEXT NOT NULL CONSTRAINT login_failures_account_key_chk CHECK (length(account_key) = 64),
    source      TEXT NOT NULL CONSTRAINT login_failures_source_chk CHECK (length(source) BETWEEN 1 AND 64),
    at          TIMESTAMP NOT NULL
);

-- table memberships (on memberships)
CREATE TABLE memberships (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    role         TEXT NOT NULL CONSTRAINT memberships_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT memberships_user_workspace_key PRIMARY KEY (user_id, workspace_id)
);

-- table outbound_deliveries (on outbound_deliveries)
CREATE TABLE outbound_deliveries (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    event_id         TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT outbound_deliveries_state_chk CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0
                     CONSTRAINT outbound_deliveries_attempts_chk CHECK (attempts BETWEEN 0 AND 8),
    next_attempt_at  TIMESTAMP,
    last_status_code INTEGER,
    last_error       TEXT,
    delivered_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    CONSTRAINT outbound_deliveries_event_fk FOREIGN KEY (event_id, workspace_id) REFERENCES outbound_events (id, workspace_id),
    CONSTRAINT outbound_deliveries_endpoint_fk FOREIGN KEY (endpoint_id, workspace_id) REFERENCES outbound_endpoints (id, workspace_id),
    CONSTRAINT outbound_deliveries_once_uniq UNIQUE (event_id, endpoint_id),
    CONSTRAINT outbound_deliveries_next_chk CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL)),
    CONSTRAINT outbound_deliveries_delivered_chk CHECK ((state = 'delivered') = (delivered_at IS NOT NULL) AND (state <> 'delivered' OR attempts >= 1)),
    CONSTRAINT outbound_deliveries_failed_chk CHECK (state <> 'failed' OR (last_error IS NOT NULL AND length(last_error) > 0))
);

-- table outbound_delivery_attempts (on outbound_delivery_attempts)
CREATE TABLE outbound_delivery_attempts (
    id           TEXT PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES outbound_deliveries (id),
    attempt      INTEGER NOT NULL
                 CONSTRAINT outbound_delivery_attempts_attempt_chk CHECK (attempt BETWEEN 1 AND 8),
    status_code  INTEGER
                 CONSTRAINT outbound_delivery_attempts_status_chk CHECK (status_code IS NULL OR status_code BETWEEN 100 AND 599),
    error        TEXT,
    duration_ms  INTEGER NOT NULL CONSTRAINT outbound_delivery_attempts_duration_chk CHECK (duration_ms >= 0),
    attempted_at TIMESTAMP NOT NULL,
    CONSTRAINT outbound_delivery_attempts_once_uniq UNIQUE (delivery_id, attempt),
    CONSTRAINT outbound_delivery_attempts_outcome_chk CHECK (error IS NOT NULL OR status_code BETWEEN 200 AND 299)
);

-- table outbound_endpoints (on outbound_endpoints)
CREATE TABLE outbound_endpoints (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    url          TEXT NOT NULL
                 CONSTRAINT outbound_endpoints_url_chk CHECK ((url LIKE 'http://%' OR url LIKE 'https://%') AND length(url) <= 2048),
    events       TEXT NOT NULL DEFAULT '',
    secret       TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1 CONSTRAINT outbound_endpoints_active_chk CHECK (active IN (0, 1)),
    created_at   TIMESTAMP NOT NULL,
    deleted_at   TIMESTAMP, failing_since TIMESTAMP, disabled_at TIMESTAMP, disabled_reason TEXT,
    CONSTRAINT outbound_endpoints_secret_chk CHECK (deleted_at IS NOT NULL OR length(secret) >= 32),
    CONSTRAINT outbound_endpoints_deleted_chk CHECK (deleted_at IS NULL OR (active = 0 AND secret = '')),
    CONSTRAINT outbound_endpoints_ws_uniq UNIQUE (id, workspace_id)
);

-- table outbound_events (on outbound_events)
CREATE TABLE outbound_events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    type         TEXT NOT NULL
                 CONSTRAINT outbound_events_type_chk CHECK (type IN ('linkedin.invite_accepted', 'linkedin.reply_received',
                   'linkedin.message_sent', 'linkedin.account_disconnected', 'linkedin.account_connected')),
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    CONSTRAINT outbound_events_ws_uniq UNIQUE (id, workspace_id)
);

-- table periodic_task_runs (on periodic_task_runs)
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

-- table prospects (on prospects)
CREATE TABLE prospects (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    linkedin_url  TEXT,
    public_slug   TEXT CONSTRAINT prospects_public_slug_chk CHECK (length(public_slug) BETWEEN 1 AND 200),
    sales_nav_id  TEXT CONSTRAINT prospects_sales_nav_id_chk CHECK (length(sales_nav_id) BETWEEN 1 AND 200),
    provider_id   TEXT CONSTRAINT prospects_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    company       TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}'
                  CONSTRAINT prospects_custom_fields_chk CHECK (json_valid(custom_fields) AND json_type(custom_fields) = 'object'),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL, member_id TEXT
    CONSTRAINT prospects_member_id_chk CHECK (length(member_id) BETWEEN 1 AND 200), public_handle TEXT
    CONSTRAINT prospects_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200 AND public_handle = lower(public_handle)),
    CONSTRAINT prospects_identifier_chk CHECK (public_slug IS NOT NULL OR sales_nav_id IS NOT NULL OR provider_id IS NOT NULL),
    CONSTRAINT prospects_linkedin_url_chk CHECK ((linkedin_url IS NULL) = (public_slug IS NULL)
        AND (linkedin_url IS NULL OR substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/')),
    CONSTRAINT prospects_id_workspace_key UNIQUE (id, workspace_id)
);

-- table send_blocks (on send_blocks)
CREATE TABLE "send_blocks" (
    account_id TEXT NOT NULL REFERENCES linkedin_accounts (id),
    action     TEXT NOT NULL CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw')),
    kind       TEXT NOT NULL CONSTRAINT send_blocks_kind_chk CHECK (kind IN ('cooldown', 'credits')),
    until      TIMESTAMP NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, action, kind)
);

-- table sends (on sends)
CREATE TABLE "sends" (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    campaign_id   TEXT REFERENCES campaigns (id),
    enrollment_id TEXT REFERENCES enrollments (id),
    prospect_id   TEXT REFERENCES prospects (id),
    step_id       TEXT,
    action        TEXT NOT NULL
                  CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw', 'reply')),
    state         TEXT NOT NULL DEFAULT 'intent'
                  CONSTRAINT sends_state_chk CHECK (state IN ('intent', 'dispatched', 'confirmed', 'failed', 'unknown', 'cancelled')),
    with_note     INTEGER NOT NULL DEFAULT 0 CONSTRAINT sends_with_note_chk CHECK (with_note IN (0, 1)),
    claimed_at    TIMESTAMP NOT NULL,
    dispatched_at TIMESTAMP,
    finished_at   TIMESTAMP,
    provider_ref  TEXT,
    chat_id       TEXT,
    error_kind    TEXT,
    error         TEXT,
    parked_at     TIMESTAMP,
    settled_by    TEXT,
    settled_at    TIMESTAMP,
    conversation_id TEXT REFERENCES conversations (id),
    reply_text    TEXT CONSTRAINT sends_reply_text_chk CHECK (length(reply_text) BETWEEN 1 AND 8000),
    CONSTRAINT sends_reply_chk CHECK (
        (action = 'reply') = (conversation_id IS NOT NULL AND reply_text IS NOT NULL)
        AND (action = 'reply' OR (campaign_id IS NOT NULL AND enrollment_id IS NOT NULL AND prospect_id IS NOT NULL AND step_id IS NOT NULL))
        AND (action <> 'reply' OR (campaign_id IS NULL AND enrollment_id IS NULL AND step_id IS NULL))),    CONSTRAINT sends_confirmed_chat_chk
        CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail', 'reply') OR chat_id IS NOT NULL OR settled_by IS NOT NULL),
    CONSTRAINT sends_dispatched_at_chk CHECK (state IN ('intent', 'cancelled') OR dispatched_at IS NOT NULL),
    CONSTRAINT sends_failed_error_chk CHECK (state NOT IN ('failed', 'cancelled') OR (error IS NOT NULL AND length(error) > 0)),
    CONSTRAINT sends_finished_chk CHECK ((state IN ('confirmed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT sends_parked_chk CHECK (parked_at IS NULL OR state = 'unknown'),
    CONSTRAINT sends_settled_chk CHECK ((settled_by IS NULL) = (settled_at IS NULL)
        AND (settled_by IS NULL OR (length(settled_by) BETWEEN 1 AND 200 AND state IN ('confirmed', 'failed'))))
);

-- table unmatched_accepts (on unmatched_accepts)
CREATE TABLE unmatched_accepts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    person_key    TEXT NOT NULL CONSTRAINT unmatched_accepts_person_key_chk CHECK (length(person_key) BETWEEN 1 AND 220),
    provider_id   TEXT CONSTRAINT unmatched_accepts_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    public_handle TEXT CONSTRAINT unmatched_accepts_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200),
    source        TEXT NOT NULL CONSTRAINT unmatched_accepts_source_chk CHECK (length(source) BETWEEN 1 AND 50),
    seen_at       TIMESTAMP NOT NULL,
    CONSTRAINT unmatched_accepts_identity_chk CHECK (
        (provider_id IS NOT NULL AND person_key = provider_id)
        OR (provider_id IS NULL AND public_handle IS NOT NULL AND person_key = 'handle:' || public_handle)),
    CONSTRAINT unmatched_accepts_person_key UNIQUE (account_id, person_key)
);

-- table users (on users)
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    email         TEXT NOT NULL CONSTRAINT users_email_chk CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    password_hash TEXT NOT NULL CONSTRAINT users_password_hash_chk CHECK (substr(password_hash, 1, 4) IN ('$2a$', '$2b$', '$2y$')),
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT users_workspace_email_key UNIQUE (workspace_id, email)
);

-- table web_sessions (on web_sessions)
CREATE TABLE "web_sessions" (
    id_hash      TEXT PRIMARY KEY CONSTRAINT web_sessions_id_hash_chk CHECK (length(id_hash) = 64),
    user_id      TEXT,
    workspace_id TEXT,
    csrf         TEXT NOT NULL CONSTRAINT web_sessions_csrf_chk CHECK (length(csrf) >= 43),
    flash        TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    CONSTRAINT web_sessions_membership_fk FOREIGN KEY (user_id, workspace_id)
        REFERENCES memberships (user_id, workspace_id) ON DELETE CASCADE,
    CONSTRAINT web_sessions_user_pair_chk CHECK ((user_id IS NULL) = (workspace_id IS NULL)),
    CONSTRAINT web_sessions_times_chk CHECK (last_seen_at >= created_at AND expires_at > last_seen_at)
);

-- table webhook_inbox (on webhook_inbox)
CREATE TABLE webhook_inbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key          TEXT NOT NULL
                        CONSTRAINT webhook_inbox_dedupe_key_key UNIQUE
                        CONSTRAINT webhook_inbox_dedupe_key_chk CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    source              TEXT NOT NULL
                        CONSTRAINT webhook_inbox_source_chk CHECK (source IN ('account_status', 'users', 'messaging', 'unknown')),
    event               TEXT NOT NULL,
    provider_account_id TEXT,
    status_message      TEXT,
    payload             TEXT NOT NULL
                        CONSTRAINT webhook_inbox_payload_chk CHECK (json_valid(payload) AND json_type(payload) = 'object'),
    state               TEXT NOT NULL DEFAULT 'pending'
                        CONSTRAINT webhook_inbox_state_chk CHECK (state IN ('pending', 'processed', 'ignored', 'failed')),
    note                TEXT NOT NULL DEFAULT '',
    attempts            INTEGER NOT NULL DEFAULT 0 CONSTRAINT webhook_inbox_attempts_chk CHECK (attempts >= 0),
    deliveries          INTEGER NOT NULL DEFAULT 1 CONSTRAINT webhook_inbox_deliveries_chk CHECK (deliveries >= 1),
    last_error          TEXT,
    received_at         TIMESTAMP NOT NULL,
    last_received_at    TIMESTAMP NOT NULL,
    claimed_until       TIMESTAMP,
    processed_at        TIMESTAMP,
    CONSTRAINT webhook_inbox_processed_chk CHECK ((state = 'pending') = (processed_at IS NULL)),
    CONSTRAINT webhook_inbox_claim_chk CHECK (state = 'pending' OR claimed_until IS NULL),
    CONSTRAINT webhook_inbox_account_status_chk CHECK (
        source <> 'account_status' OR (provider_account_id IS NOT NULL AND status_message IS NOT NULL)),
    CONSTRAINT webhook_inbox_received_chk CHECK (last_received_at >= received_at)
);

-- table workspaces (on workspaces)
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE
               CONSTRAINT workspaces_slug_chk CHECK (length(slug) BETWEEN 1 AND 63
                   AND slug NOT GLOB '*[^a-z0-9-]*' AND substr(slug, 1, 1) <> '-'),
    name       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
, sender_handoff_hours INTEGER NOT NULL DEFAULT 72
    CONSTRAINT workspaces_sender_handoff_hours_chk CHECK (sender_handoff_hours BETWEEN 1 AND 720), recontact_cooloff_days INTEGER NOT NULL DEFAULT 30
    CONSTRAINT workspaces_recontact_cooloff_days_chk CHECK (recontact_cooloff_days BETWEEN 0 AND 3650), recontact_never INTEGER NOT NULL DEFAULT 0
    CONSTRAINT workspaces_recontact_never_chk CHECK (recontact_never IN (0, 1)));

-- index account_health_checked_idx (on account_health)
CREATE INDEX account_health_checked_idx ON account_health (last_checked_at);

-- index account_health_claim_idx (on account_health)
CREATE INDEX account_health_claim_idx ON account_health (claim_token) WHERE claim_token IS NOT NULL;

-- index account_health_due_idx (on account_health)
CREATE INDEX account_health_due_idx ON account_health (next_check_at);

-- index account_tags_tag_idx (on account_tags)
CREATE INDEX account_tags_tag_idx ON account_tags (tag, account_id);

-- index account_tier_changes_account_idx (on account_tier_changes)
CREATE INDEX account_tier_changes_account_idx ON account_tier_changes (account_id, id);

-- index admin_alerts_open_dedupe_idx (on admin_alerts)
CREATE UNIQUE INDEX admin_alerts_open_dedupe_idx ON admin_alerts (dedupe_key) WHERE acknowledged_at IS NULL;

-- index admin_alerts_workspace_idx (on admin_alerts)
CREATE INDEX admin_alerts_workspace_idx ON admin_alerts (workspace_id, created_at);

-- index api_tokens_workspace_idx (on api_tokens)
CREATE INDEX api_tokens_workspace_idx ON api_tokens (workspace_id);

-- index campaign_accounts_account_idx (on campaign_accounts)
CREATE INDEX campaign_accounts_account_idx ON campaign_accounts (account_id);

-- index campaign_send_counts_campaign_idx (on campaign_send_counts)
CREATE INDEX campaign_send_counts_campaign_idx ON campaign_send_counts (campaign_id, scope, key, action, measure);

-- index campaigns_status_idx (on campaigns)
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- index campaigns_workspace_idx (on campaigns)
CREATE INDEX campaigns_workspace_idx ON campaigns (workspace_id, id);

-- index conversation_messages_thread_idx (on conversation_messages)
CREATE INDEX conversation_messages_thread_idx ON conversation_messages (conversation_id, sent_at, id);

-- index conversations_list_idx (on conversations)
CREATE INDEX conversations_list_idx ON conversations (workspace_id, last_message_at DESC, id);

-- index conversations_prospect_idx (on conversations)
CREATE INDEX conversations_prospect_idx ON conversations (prospect_id) WHERE prospect_id IS NOT NULL;

-- index do_not_contact_company_url_uidx (on do_not_contact)
CREATE UNIQUE INDEX do_not_contact_company_url_uidx ON do_not_contact (workspace_id, company_url) WHERE company_url IS NOT NULL;

-- index do_not_contact_list_idx (on do_not_contact)
CREATE INDEX do_not_contact_list_idx ON do_not_contact (workspace_id, id);

-- index do_not_contact_provider_id_uidx (on do_not_contact)
CREATE UNIQUE INDEX do_not_contact_provider_id_uidx ON do_not_contact (workspace_id, provider_id) WHERE provider_id IS NOT NULL;

-- index do_not_contact_slug_uidx (on do_not_contact)
CREATE UNIQUE INDEX do_not_contact_slug_uidx ON do_not_contact (workspace_id, public_slug) WHERE public_slug IS NOT NULL;

-- index do_not_contact_removals_workspace_idx (on do_not_contact_removals)
CREATE INDEX do_not_contact_removals_workspace_idx ON do_not_contact_removals (workspace_id, removed_at);

-- index enrollment_state_counts_campaign_idx (on enrollment_state_counts)
CREATE INDEX enrollment_state_counts_campaign_idx ON enrollment_state_counts (campaign_id, state);

-- index enrollment_step_counts_campaign_idx (on enrollment_step_counts)
CREATE INDEX enrollment_step_counts_campaign_idx ON enrollment_step_counts (campaign_id, account_id, step_id);

-- index enrollments_account_due_idx (on enrollments)
CREATE INDEX enrollments_account_due_idx ON enrollments (account_id, next_action_at, id) WHERE state = 'active';

-- index enrollments_campaign_due_idx (on enrollments)
CREATE INDEX enrollments_campaign_due_idx ON enrollments (campaign_id, account_id, step_id, next_action_at, id)
    WHERE state = 'active' AND (parked_by IS NULL OR parked_by <> 'template_variable_missing');

-- index enrollments_campaign_ended_idx (on enrollments)
CREATE INDEX enrollments_campaign_ended_idx ON enrollments (campaign_id, ended_reason) WHERE state = 'ended';

-- index enrollments_campaign_live_idx (on enrollments)
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state, accepted_at, id)
    WHERE state IN ('active', 'soft_paused');

-- index enrollments_campaign_page_idx (on enrollments)
CREATE INDEX enrollments_campaign_page_idx ON enrollments (campaign_id, id);

-- index enrollments_campaign_parked_idx (on enrollments)
CREATE INDEX enrollments_campaign_parked_idx ON enrollments (campaign_id, parked_by, state, next_action_at)
    WHERE parked_by IS NOT NULL;

-- index enrollments_campaign_state_page_idx (on enrollments)
CREATE INDEX enrollments_campaign_state_page_idx ON enrollments (campaign_id, state, id);

-- index enrollments_due_idx (on enrollments)
CREATE INDEX enrollments_due_idx ON enrollments (next_action_at) WHERE state = 'active';

-- index enrollments_one_live_per_person_uidx (on enrollments)
CREATE UNIQUE INDEX enrollments_one_live_per_person_uidx ON enrollments (workspace_id, prospect_id)
    WHERE state IN ('pending', 'active', 'soft_paused');

-- index enrollments_prospect_idx (on enrollments)
CREATE INDEX enrollments_prospect_idx ON enrollments (prospect_id);

-- index enrollments_sender_idx (on enrollments)
CREATE INDEX enrollments_sender_idx ON enrollments (account_id, state);

-- index enrollments_step_due_idx (on enrollments)
CREATE INDEX enrollments_step_due_idx ON enrollments (campaign_id, step_id, next_action_at) WHERE state = 'active';

-- index health_disconnects_applied_idx (on health_disconnects)
CREATE INDEX health_disconnects_applied_idx ON health_disconnects (decided_at) WHERE state = 'applied';

-- index health_disconnects_held_idx (on health_disconnects)
CREATE INDEX health_disconnects_held_idx ON health_disconnects (requested_at) WHERE state = 'held';

-- index health_disconnects_one_held_idx (on health_disconnects)
CREATE UNIQUE INDEX health_disconnects_one_held_idx ON health_disconnects (account_id) WHERE state = 'held';

-- index hosted_auth_failures_account_idx (on hosted_auth_failures)
CREATE INDEX hosted_auth_failures_account_idx ON hosted_auth_failures (account_id, created_at);

-- index hosted_auth_links_workspace_idx (on hosted_auth_links)
CREATE INDEX hosted_auth_links_workspace_idx ON hosted_auth_links (workspace_id, created_at);

-- index inbox_backfill_chats_todo_idx (on inbox_backfill_chats)
CREATE INDEX inbox_backfill_chats_todo_idx ON inbox_backfill_chats (account_id) WHERE done = 0;

-- index inmail_top_ups_account_idx (on inmail_top_ups)
CREATE INDEX inmail_top_ups_account_idx ON inmail_top_ups (account_id, id);

-- index invitations_pending_idx (on invitations)
CREATE INDEX invitations_pending_idx ON invitations (account_id, sent_at) WHERE state = 'pending';

-- index invitations_prospect_idx (on invitations)
CREATE INDEX invitations_prospect_idx ON invitations (prospect_id, state) WHERE prospect_id IS NOT NULL;

-- index invitations_provider_uidx (on invitations)
CREATE UNIQUE INDEX invitations_provider_uidx ON invitations (account_id, provider_invitation_id)
    WHERE provider_invitation_id IS NOT NULL;

-- index invitations_withdraw_due_idx (on invitations)
CREATE INDEX invitations_withdraw_due_idx ON invitations (withdraw_at) WHERE withdraw_at IS NOT NULL;

-- index linkedin_account_status_audit_account_idx (on linkedin_account_status_audit)
CREATE INDEX linkedin_account_status_audit_account_idx ON linkedin_account_status_audit (account_id, id);

-- index linkedin_accounts_id_workspace_uidx (on linkedin_accounts)
CREATE UNIQUE INDEX linkedin_accounts_id_workspace_uidx ON linkedin_accounts (id, workspace_id);

-- index linkedin_accounts_workspace_idx (on linkedin_accounts)
CREATE INDEX linkedin_accounts_workspace_idx ON linkedin_accounts (workspace_id, id);

-- index linkedin_accounts_workspace_name_idx (on linkedin_accounts)
CREATE INDEX linkedin_accounts_workspace_name_idx ON linkedin_accounts (workspace_id, lower(name), id);

-- index login_failures_account_idx (on login_failures)
CREATE INDEX login_failures_account_idx ON login_failures (account_key, at);

-- index login_failures_at_idx (on login_failures)
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- index login_failures_source_idx (on login_failures)
CREATE INDEX login_failures_source_idx ON login_failures (source, at);

-- index memberships_workspace_idx (on memberships)
CREATE INDEX memberships_workspace_idx ON memberships (workspace_id);

-- index outbound_deliveries_due_idx (on outbound_deliveries)
CREATE INDEX outbound_deliveries_due_idx ON outbound_deliveries (next_attempt_at) WHERE state = 'pending';

-- index outbound_deliveries_workspace_idx (on outbound_deliveries)
CREATE INDEX outbound_deliveries_workspace_idx ON outbound_deliveries (workspace_id, created_at, id);

-- index outbound_endpoints_url_uidx (on outbound_endpoints)
CREATE UNIQUE INDEX outbound_endpoints_url_uidx ON outbound_endpoints (workspace_id, url) WHERE deleted_at IS NULL;

-- index outbound_events_workspace_idx (on outbound_events)
CREATE INDEX outbound_events_workspace_idx ON outbound_events (workspace_id, created_at);

-- index prospects_member_id_idx (on prospects)
CREATE INDEX prospects_member_id_idx ON prospects (workspace_id, member_id) WHERE member_id IS NOT NULL;

-- index prospects_provider_id_uidx (on prospects)
CREATE UNIQUE INDEX prospects_provider_id_uidx ON prospects (workspace_id, provider_id) WHERE provider_id IS NOT NULL;

-- index prospects_public_handle_idx (on prospects)
CREATE INDEX prospects_public_handle_idx ON prospects (workspace_id, public_handle) WHERE public_handle IS NOT NULL;

-- index prospects_public_slug_uidx (on prospects)
CREATE UNIQUE INDEX prospects_public_slug_uidx ON prospects (workspace_id, public_slug) WHERE public_slug IS NOT NULL;

-- index prospects_sales_nav_id_uidx (on prospects)
CREATE UNIQUE INDEX prospects_sales_nav_id_uidx ON prospects (workspace_id, sales_nav_id) WHERE sales_nav_id IS NOT NULL;

-- index sends_account_action_idx (on sends)
CREATE INDEX sends_account_action_idx ON sends (account_id, action, claimed_at);

-- index sends_campaign_action_idx (on sends)
CREATE INDEX sends_campaign_action_idx ON sends (campaign_id, action, claimed_at);

-- index sends_campaign_unknown_idx (on sends)
CREATE INDEX sends_campaign_unknown_idx ON sends (campaign_id, claimed_at, id) WHERE state = 'unknown';

-- index sends_conversation_idx (on sends)
CREATE INDEX sends_conversation_idx ON sends (conversation_id, claimed_at) WHERE conversation_id IS NOT NULL;

-- index sends_enrollment_confirmed_idx (on sends)
CREATE INDEX sends_enrollment_confirmed_idx ON sends (enrollment_id, campaign_id, action, account_id, step_id, dispatched_at)
    WHERE state = 'confirmed';

-- index sends_one_per_step_uidx (on sends)
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id, action) WHERE state NOT IN ('failed', 'cancelled');

-- index sends_open_idx (on sends)
CREATE INDEX sends_open_idx ON sends (state, claimed_at) WHERE state IN ('intent', 'dispatched', 'unknown');

-- index unmatched_accepts_workspace_idx (on unmatched_accepts)
CREATE INDEX unmatched_accepts_workspace_idx ON unmatched_accepts (workspace_id, seen_at);

-- index users_id_workspace_key (on users)
CREATE UNIQUE INDEX users_id_workspace_key ON users (id, workspace_id);

-- index web_sessions_expires_idx (on web_sessions)
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- index web_sessions_user_idx (on web_sessions)
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

-- index webhook_inbox_pending_idx (on webhook_inbox)
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (id) WHERE state = 'pending';

-- index webhook_inbox_status_account_idx (on webhook_inbox)
CREATE INDEX webhook_inbox_status_account_idx ON webhook_inbox (provider_account_id, id) WHERE source = 'account_status';

-- trigger account_tier_changes_no_delete (on account_tier_changes)
CREATE TRIGGER account_tier_changes_no_delete BEFORE DELETE ON account_tier_changes
BEGIN
    SELECT RAISE(ABORT, 'account_tier_changes_append_only: tier changes are never edited or deleted');
END;

-- trigger account_tier_changes_no_update (on account_tier_changes)
CREATE TRIGGER account_tier_changes_no_update BEFORE UPDATE ON account_tier_changes
BEGIN
    SELECT RAISE(ABORT, 'account_tier_changes_append_only: tier changes are never edited or deleted');
END;

-- trigger admin_alerts_installation_ack_chk_insert (on admin_alerts)
CREATE TRIGGER admin_alerts_installation_ack_chk_insert
    BEFORE INSERT ON admin_alerts
    WHEN NEW.workspace_id IS NULL AND NEW.acknowledged_by IS NOT NULL
     AND substr(NEW.acknowledged_by, 1, 9) <> 'operator:'
BEGIN
    SELECT RAISE(ABORT, 'admin_alerts_installation_ack_chk: only an installation operator acknowledges an installation-wide alert');
END;

-- trigger admin_alerts_installation_ack_chk_update (on admin_alerts)
CREATE TRIGGER admin_alerts_installation_ack_chk_update
    BEFORE UPDATE OF workspace_id, acknowledged_by ON admin_alerts
    WHEN NEW.workspace_id IS NULL AND NEW.acknowledged_by IS NOT NULL
     AND substr(NEW.acknowledged_by, 1, 9) <> 'operator:'
BEGIN
    SELECT RAISE(ABORT, 'admin_alerts_installation_ack_chk: only an installation operator acknowledges an installation-wide alert');
END;

-- trigger api_tokens_expiry_chk_insert (on api_tokens)
CREATE TRIGGER api_tokens_expiry_chk_insert
    BEFORE INSERT ON api_tokens
    WHEN NEW.expires_at IS NOT NULL AND NEW.expires_at <= NEW.created_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_expiry_chk: a token expires after it is created');
END;

-- trigger api_tokens_expiry_chk_update (on api_tokens)
CREATE TRIGGER api_tokens_expiry_chk_update
    BEFORE UPDATE OF expires_at, created_at ON api_tokens
    WHEN NEW.expires_at IS NOT NULL AND NEW.expires_at <= NEW.created_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_expiry_chk: a token expires after it is created');
END;

-- trigger api_tokens_revocation_final (on api_tokens)
CREATE TRIGGER api_tokens_revocation_final
    BEFORE UPDATE OF revoked_at ON api_tokens
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_revocation_final: a revoked token stays revoked');
END;

-- trigger campaign_accounts_removal_guard (on campaign_accounts)
CREATE TRIGGER campaign_accounts_removal_guard
    BEFORE UPDATE OF removed_at ON campaign_accounts
    WHEN NEW.removed_at IS NOT NULL AND OLD.removed_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: the account still works live enrollments of this campaign; move or end them first')
     WHERE EXISTS (SELECT 1 FROM enrollments
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id
                      AND state IN ('pending', 'active', 'soft_paused'));
END;

-- trigger campaign_send_counts_immutable (on campaign_send_counts)
CREATE TRIGGER campaign_send_counts_immutable BEFORE UPDATE ON campaign_send_counts
BEGIN
    SELECT RAISE(ABORT, 'campaign_send_counts_immutable: a count delta cannot change');
END;

-- trigger enrollment_state_counts_immutable (on enrollment_state_counts)
CREATE TRIGGER enrollment_state_counts_immutable BEFORE UPDATE ON enrollment_state_counts
BEGIN
    SELECT RAISE(ABORT, 'enrollment_state_counts_immutable: a count delta cannot change');
END;

-- trigger enrollment_step_counts_immutable (on enrollment_step_counts)
CREATE TRIGGER enrollment_step_counts_immutable BEFORE UPDATE ON enrollment_step_counts
BEGIN
    SELECT RAISE(ABORT, 'enrollment_step_counts_immutable: a count delta cannot change');
END;

-- trigger campaign_send_counts_accepted (on enrollments)
CREATE TRIGGER campaign_send_counts_accepted AFTER UPDATE OF accepted_at ON enrollments
    WHEN (OLD.accepted_at IS NULL) <> (NEW.accepted_at IS NULL)
BEGIN
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    SELECT campaign_id, 'step', step_id, action, 'accepted', CASE WHEN NEW.accepted_at IS NULL THEN -count(*) ELSE count(*) END
      FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action = 'invite' AND campaign_id IS NOT NULL
     GROUP BY campaign_id, step_id, action
    UNION ALL
    SELECT campaign_id, 'sender', account_id, '', 'accepted', CASE WHEN NEW.accepted_at IS NULL THEN -1 ELSE 1 END
      FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action = 'invite' AND campaign_id IS NOT NULL
     GROUP BY campaign_id, account_id
    UNION ALL
    SELECT campaign_id, 'campaign', '', '', 'accepted', CASE WHEN NEW.accepted_at IS NULL THEN -1 ELSE 1 END
      FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action = 'invite' AND campaign_id IS NOT NULL
     GROUP BY campaign_id;
END;

-- trigger campaign_send_counts_replied (on enrollments)
CREATE TRIGGER campaign_send_counts_replied AFTER UPDATE OF replied_at ON enrollments
    WHEN OLD.replied_at IS NOT NEW.replied_at
BEGIN
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    SELECT * FROM (
        SELECT campaign_id, 'step', step_id, action, 'replied',
               sum(CASE WHEN NEW.replied_at >= dispatched_at THEN 1 ELSE 0 END)
               - sum(CASE WHEN OLD.replied_at >= dispatched_at THEN 1 ELSE 0 END) AS n
          FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action <> 'withdraw' AND campaign_id IS NOT NULL
         GROUP BY campaign_id, step_id, action
        UNION ALL
        SELECT campaign_id, 'sender', account_id, '', 'replied',
               max(CASE WHEN NEW.replied_at >= dispatched_at THEN 1 ELSE 0 END)
               - max(CASE WHEN OLD.replied_at >= dispatched_at THEN 1 ELSE 0 END)
          FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action <> 'withdraw' AND campaign_id IS NOT NULL
         GROUP BY campaign_id, account_id
        UNION ALL
        SELECT campaign_id, 'campaign', '', '', 'replied',
               CASE WHEN NEW.replied_at IS NOT NULL THEN 1 ELSE 0 END - CASE WHEN OLD.replied_at IS NOT NULL THEN 1 ELSE 0 END
          FROM sends WHERE enrollment_id = NEW.id AND state = 'confirmed' AND action IN ('message', 'inmail') AND campaign_id IS NOT NULL
         GROUP BY campaign_id
    ) WHERE n <> 0;
END;

-- trigger enrollment_state_counts_added (on enrollments)
CREATE TRIGGER enrollment_state_counts_added AFTER INSERT ON enrollments
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES (NEW.campaign_id, NEW.state, 1);
END;

-- trigger enrollment_state_counts_moved (on enrollments)
CREATE TRIGGER enrollment_state_counts_moved AFTER UPDATE OF state, campaign_id ON enrollments
    WHEN OLD.state IS NOT NEW.state OR OLD.campaign_id IS NOT NEW.campaign_id
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    VALUES (OLD.campaign_id, OLD.state, -1), (NEW.campaign_id, NEW.state, 1);
END;

-- trigger enrollment_state_counts_removed (on enrollments)
CREATE TRIGGER enrollment_state_counts_removed AFTER DELETE ON enrollments
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES (OLD.campaign_id, OLD.state, -1);
END;

-- trigger enrollment_step_counts_added (on enrollments)
CREATE TRIGGER enrollment_step_counts_added AFTER INSERT ON enrollments
    WHEN NEW.state IN ('active', 'soft_paused') AND NEW.step_id IS NOT NULL
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    VALUES (NEW.campaign_id, NEW.account_id, NEW.step_id, 1);
END;

-- trigger enrollment_step_counts_moved (on enrollments)
CREATE TRIGGER enrollment_step_counts_moved AFTER UPDATE OF state, step_id, account_id, campaign_id ON enrollments
    WHEN OLD.campaign_id IS NOT NEW.campaign_id OR OLD.account_id IS NOT NEW.account_id
      OR OLD.step_id IS NOT NEW.step_id
      OR (OLD.state IN ('active', 'soft_paused')) IS NOT (NEW.state IN ('active', 'soft_paused'))
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT OLD.campaign_id, OLD.account_id, OLD.step_id, -1
     WHERE OLD.state IN ('active', 'soft_paused') AND OLD.step_id IS NOT NULL;
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT NEW.campaign_id, NEW.account_id, NEW.step_id, 1
     WHERE NEW.state IN ('active', 'soft_paused') AND NEW.step_id IS NOT NULL;
END;

-- trigger enrollment_step_counts_removed (on enrollments)
CREATE TRIGGER enrollment_step_counts_removed AFTER DELETE ON enrollments
    WHEN OLD.state IN ('active', 'soft_paused') AND OLD.step_id IS NOT NULL
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    VALUES (OLD.campaign_id, OLD.account_id, OLD.step_id, -1);
END;

-- trigger enrollments_ended_at_insert (on enrollments)
CREATE TRIGGER enrollments_ended_at_insert AFTER INSERT ON enrollments
FOR EACH ROW WHEN NEW.state NOT IN ('pending', 'active', 'soft_paused') AND NEW.ended_at IS NULL
BEGIN
    UPDATE enrollments SET ended_at = NEW.updated_at WHERE id = NEW.id;
END;

-- trigger enrollments_ended_at_update (on enrollments)
CREATE TRIGGER enrollments_ended_at_update AFTER UPDATE OF state ON enrollments
FOR EACH ROW WHEN OLD.state IN ('pending', 'active', 'soft_paused') AND NEW.state NOT IN ('pending', 'active', 'soft_paused')
BEGIN
    UPDATE enrollments SET ended_at = NEW.updated_at WHERE id = NEW.id;
END;

-- trigger enrollments_sender_current_insert (on enrollments)
CREATE TRIGGER enrollments_sender_current_insert
    BEFORE INSERT ON enrollments
    WHEN NEW.state IN ('pending', 'active', 'soft_paused')
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: a live enrollment cannot be worked by an account taken off its campaign')
     WHERE EXISTS (SELECT 1 FROM campaign_accounts
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id AND removed_at IS NOT NULL);
END;

-- trigger enrollments_sender_current_update (on enrollments)
CREATE TRIGGER enrollments_sender_current_update
    BEFORE UPDATE OF state, account_id ON enrollments
    WHEN NEW.state IN ('pending', 'active', 'soft_paused')
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: a live enrollment cannot be worked by an account taken off its campaign')
     WHERE EXISTS (SELECT 1 FROM campaign_accounts
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id AND removed_at IS NOT NULL);
END;

-- trigger health_disconnects_final (on health_disconnects)
CREATE TRIGGER health_disconnects_final
    BEFORE UPDATE ON health_disconnects
BEGIN
    SELECT RAISE(ABORT, 'health_disconnects_final: only a held disconnect may be decided, once')
     WHERE OLD.state <> 'held' OR NEW.state = 'held'
        OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
        OR NEW.source IS NOT OLD.source OR NEW.reason IS NOT OLD.reason OR NEW.actor IS NOT OLD.actor
        OR NEW.copy_code IS NOT OLD.copy_code OR NEW.copy_text IS NOT OLD.copy_text
        OR NEW.strikes IS NOT OLD.strikes OR NEW.requested_at IS NOT OLD.requested_at;
END;

-- trigger health_disconnects_no_delete (on health_disconnects)
CREATE TRIGGER health_disconnects_no_delete
    BEFORE DELETE ON health_disconnects
BEGIN
    SELECT RAISE(ABORT, 'health_disconnects_final: the disconnect ledger is append-only');
END;

-- trigger hosted_auth_links_guard_insert (on hosted_auth_links)
CREATE TRIGGER hosted_auth_links_guard_insert
    BEFORE INSERT ON hosted_auth_links
BEGIN
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the account is not in the link''s workspace')
     WHERE NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS NOT NEW.workspace_id;
END;

-- trigger hosted_auth_links_guard_update (on hosted_auth_links)
CREATE TRIGGER hosted_auth_links_guard_update
    BEFORE UPDATE ON hosted_auth_links
BEGIN
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the link was already used')
     WHERE OLD.used_at IS NOT NULL
       AND (NEW.id IS NOT OLD.id OR NEW.token_hash IS NOT OLD.token_hash OR NEW.workspace_id IS NOT OLD.workspace_id
            OR NEW.link_type IS NOT OLD.link_type OR NEW.account_id IS NOT OLD.account_id
            OR NEW.provider_account_id IS NOT OLD.provider_account_id OR NEW.created_at IS NOT OLD.created_at
            OR NEW.expires_at IS NOT OLD.expires_at OR NEW.used_at IS NOT OLD.used_at
            OR NEW.result_status IS NOT OLD.result_status);
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: a link can only be marked used')
     WHERE NEW.id IS NOT OLD.id OR NEW.token_hash IS NOT OLD.token_hash OR NEW.workspace_id IS NOT OLD.workspace_id
        OR NEW.link_type IS NOT OLD.link_type OR NEW.provider_account_id IS NOT OLD.provider_account_id
        OR NEW.created_at IS NOT OLD.created_at OR NEW.expires_at IS NOT OLD.expires_at
        OR (OLD.account_id IS NOT NULL AND NEW.account_id IS NOT OLD.account_id)
        OR (NEW.account_id IS NOT OLD.account_id AND NEW.used_at IS NULL);
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the account is not in the link''s workspace')
     WHERE NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS NOT NEW.workspace_id;
END;

-- trigger inmail_top_ups_no_delete (on inmail_top_ups)
CREATE TRIGGER inmail_top_ups_no_delete BEFORE DELETE ON inmail_top_ups
BEGIN
    SELECT RAISE(ABORT, 'inmail_top_ups_append_only: top-ups are never edited or deleted');
END;

-- trigger inmail_top_ups_no_update (on inmail_top_ups)
CREATE TRIGGER inmail_top_ups_no_update BEFORE UPDATE ON inmail_top_ups
BEGIN
    SELECT RAISE(ABORT, 'inmail_top_ups_append_only: top-ups are never edited or deleted');
END;

-- trigger linkedin_account_status_audit_apply (on linkedin_account_status_audit)
CREATE TRIGGER linkedin_account_status_audit_apply
    AFTER INSERT ON linkedin_account_status_audit
    WHEN NEW.from_status IS NOT NULL
BEGIN
    UPDATE linkedin_accounts
       SET status = NEW.to_status,
           last_error = NEW.last_error,
           disconnected_at = CASE WHEN NEW.to_status = 'connected' THEN NULL
                                  WHEN status = 'connected' OR disconnected_at IS NULL THEN NEW.created_at
                                  ELSE disconnected_at END,
           disconnected_by = CASE WHEN NEW.to_status = 'connected' THEN NULL ELSE NEW.source END,
           strikes = NEW.strikes,
           updated_at = NEW.created_at
     WHERE id = NEW.account_id;
END;

-- trigger linkedin_account_status_audit_chain (on linkedin_account_status_audit)
CREATE TRIGGER linkedin_account_status_audit_chain
    BEFORE INSERT ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: only the account''s creation row may have no from_status')
     WHERE NEW.from_status IS NULL
       AND (EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
            OR NEW.to_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id));
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: the row must start at the account''s current status; use the state-flip helper (account.Flip)')
     WHERE NEW.from_status IS NOT NULL
       AND NEW.from_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id);
    -- The rules of account.CheckTransition (PostgreSQL holds them as CHECKs
    -- on new rows): which source may cause which status, the one edge the
    -- table lacks, strikes reset on connect, copy on leaving connected.
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_source_chk: that source may not cause that status; use the state-flip helper (account.Flip)')
     WHERE NOT CASE WHEN NEW.from_status IS NULL THEN NEW.source = 'create'
                    WHEN NEW.source IN ('health_check', 'webhook', 'hosted_auth', 'sync') THEN 1
                    WHEN NEW.source = 'send_error' THEN NEW.to_status IN ('disconnected', 'restricted', 'needs_verification', 'error')
                    WHEN NEW.source IN ('operator', 'repair') THEN NEW.to_status = 'disconnected'
                    ELSE 0 END;
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_transition_chk: a restricted account does not go back to connecting')
     WHERE NEW.from_status = 'restricted' AND NEW.to_status = 'connecting';
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_strikes_chk: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)')
     WHERE NEW.to_status = 'connected' AND NEW.strikes <> 0;
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_copy_chk: a flip away from connected must carry copy saying why')
     WHERE NEW.from_status = 'connected' AND NEW.to_status <> 'connected' AND COALESCE(NEW.last_error, '') = '';
END;

-- trigger linkedin_account_status_audit_no_delete (on linkedin_account_status_audit)
CREATE TRIGGER linkedin_account_status_audit_no_delete
    BEFORE DELETE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be deleted');
END;

-- trigger linkedin_account_status_audit_no_update (on linkedin_account_status_audit)
CREATE TRIGGER linkedin_account_status_audit_no_update
    BEFORE UPDATE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be changed');
END;

-- trigger linkedin_accounts_audit_creation (on linkedin_accounts)
CREATE TRIGGER linkedin_accounts_audit_creation
    AFTER INSERT ON linkedin_accounts
BEGIN
    INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, actor, strikes, created_at)
    VALUES (NEW.id, NULL, NEW.status, 'account created', 'create', '', NEW.strikes, NEW.created_at);
END;

-- trigger linkedin_accounts_audit_pairing (on linkedin_accounts)
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    WHEN OLD.status IS NOT NEW.status
BEGIN
    SELECT RAISE(ABORT, 'linkedin_accounts_audit_pairing: status changed without its audit row; change status only through the state-flip helper (account.Flip)')
     WHERE NOT EXISTS (SELECT 1 FROM linkedin_account_status_audit a
                        WHERE a.id = (SELECT max(id) FROM linkedin_account_status_audit WHERE account_id = NEW.id)
                          AND a.from_status IS OLD.status AND a.to_status IS NEW.status);
END;

-- trigger linkedin_accounts_tier_guard (on linkedin_accounts)
CREATE TRIGGER linkedin_accounts_tier_guard BEFORE UPDATE OF tier ON linkedin_accounts
FOR EACH ROW WHEN OLD.tier IS NOT NEW.tier AND NEW.tier <> 'free' AND NEW.provider_features IS NOT NULL
    AND NOT (NEW.provider_features LIKE '%,' || NEW.tier || ',%'
             OR (NEW.tier = 'premium' AND NEW.provider_features <> ','))
BEGIN
    SELECT RAISE(ABORT, 'linkedin_accounts_tier_reported_chk: the provider does not report this tier for the account');
END;

-- trigger linkedin_accounts_tier_record (on linkedin_accounts)
CREATE TRIGGER linkedin_accounts_tier_record AFTER UPDATE OF tier ON linkedin_accounts
FOR EACH ROW WHEN OLD.tier IS NOT NEW.tier
BEGIN
    INSERT INTO account_tier_changes (account_id, from_tier, to_tier, changed_by, changed_at, provider_features)
    VALUES (NEW.id, OLD.tier, NEW.tier,
            CASE WHEN NEW.tier_changed_by IS NOT NULL AND NEW.tier_changed_at IS NOT OLD.tier_changed_at
                 THEN NEW.tier_changed_by ELSE 'unattributed (direct database write)' END,
            CASE WHEN NEW.tier_changed_at IS NOT OLD.tier_changed_at THEN NEW.tier_changed_at ELSE CURRENT_TIMESTAMP END,
            NEW.provider_features);
END;

-- trigger outbound_deliveries_error_vocabulary_chk_insert (on outbound_deliveries)
CREATE TRIGGER outbound_deliveries_error_vocabulary_chk_insert
    BEFORE INSERT ON outbound_deliveries
    WHEN NEW.last_error IS NOT NULL AND NEW.last_error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.last_error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address', 'endpoint deleted', 'endpoint disabled', 'gave up')
BEGIN
    SELECT RAISE(ABORT, 'outbound_deliveries_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;

-- trigger outbound_deliveries_error_vocabulary_chk_update (on outbound_deliveries)
CREATE TRIGGER outbound_deliveries_error_vocabulary_chk_update
    BEFORE UPDATE ON outbound_deliveries
    WHEN NEW.last_error IS NOT NULL AND NEW.last_error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.last_error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address', 'endpoint deleted', 'endpoint disabled', 'gave up')
BEGIN
    SELECT RAISE(ABORT, 'outbound_deliveries_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;

-- trigger outbound_delivery_attempts_error_vocabulary_chk_insert (on outbound_delivery_attempts)
CREATE TRIGGER outbound_delivery_attempts_error_vocabulary_chk_insert
    BEFORE INSERT ON outbound_delivery_attempts
    WHEN NEW.error IS NOT NULL AND NEW.error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address')
BEGIN
    SELECT RAISE(ABORT, 'outbound_delivery_attempts_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;

-- trigger outbound_delivery_attempts_error_vocabulary_chk_update (on outbound_delivery_attempts)
CREATE TRIGGER outbound_delivery_attempts_error_vocabulary_chk_update
    BEFORE UPDATE ON outbound_delivery_attempts
    WHEN NEW.error IS NOT NULL AND NEW.error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address')
BEGIN
    SELECT RAISE(ABORT, 'outbound_delivery_attempts_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;

-- trigger outbound_endpoints_disabled_chk_insert (on outbound_endpoints)
CREATE TRIGGER outbound_endpoints_disabled_chk_insert
    BEFORE INSERT ON outbound_endpoints
    WHEN NOT ((NEW.disabled_at IS NULL) = (NEW.disabled_reason IS NULL)
        AND (NEW.disabled_at IS NULL OR (NEW.active = 0 AND NEW.failing_since IS NOT NULL AND length(NEW.disabled_reason) > 0)))
BEGIN
    SELECT RAISE(ABORT, 'outbound_endpoints_disabled_chk: a disabled endpoint is inactive, has a reason and a failing_since');
END;

-- trigger outbound_endpoints_disabled_chk_update (on outbound_endpoints)
CREATE TRIGGER outbound_endpoints_disabled_chk_update
    BEFORE UPDATE ON outbound_endpoints
    WHEN NOT ((NEW.disabled_at IS NULL) = (NEW.disabled_reason IS NULL)
        AND (NEW.disabled_at IS NULL OR (NEW.active = 0 AND NEW.failing_since IS NOT NULL AND length(NEW.disabled_reason) > 0)))
BEGIN
    SELECT RAISE(ABORT, 'outbound_endpoints_disabled_chk: a disabled endpoint is inactive, has a reason and a failing_since');
END;

-- trigger send_blocks_credits_inmail_chk_insert (on send_blocks)
CREATE TRIGGER send_blocks_credits_inmail_chk_insert
    BEFORE INSERT ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;

-- trigger send_blocks_credits_inmail_chk_update (on send_blocks)
CREATE TRIGGER send_blocks_credits_inmail_chk_update
    BEFORE UPDATE ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;

-- trigger campaign_send_counts_added (on sends)
CREATE TRIGGER campaign_send_counts_added AFTER INSERT ON sends
    WHEN NEW.state = 'confirmed' AND NEW.action <> 'withdraw' AND NEW.campaign_id IS NOT NULL AND NEW.enrollment_id IS NOT NULL
BEGIN
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    SELECT NEW.campaign_id, d.scope, d.key, d.action, d.measure, d.n FROM enrollments en, (
        SELECT 'step' AS scope, NEW.step_id AS key, NEW.action AS action, 'sent' AS measure, 1 AS n
        UNION ALL SELECT 'step', NEW.step_id, NEW.action, 'accepted',
            CASE WHEN NEW.action = 'invite' AND e.accepted_at IS NOT NULL THEN 1 ELSE 0 END
            FROM enrollments e WHERE e.id = NEW.enrollment_id
        UNION ALL SELECT 'step', NEW.step_id, NEW.action, 'replied',
            CASE WHEN e.replied_at IS NOT NULL AND e.replied_at >= NEW.dispatched_at THEN 1 ELSE 0 END
            FROM enrollments e WHERE e.id = NEW.enrollment_id
        UNION ALL SELECT 'sender', NEW.account_id, '', 'sent', 1
        UNION ALL SELECT 'sender', NEW.account_id, '', 'accepted', 1
            FROM enrollments e WHERE e.id = NEW.enrollment_id AND NEW.action = 'invite' AND e.accepted_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.account_id = NEW.account_id AND o.action = 'invite')
        UNION ALL SELECT 'sender', NEW.account_id, '', 'replied', 1
            FROM enrollments e WHERE e.id = NEW.enrollment_id AND e.replied_at IS NOT NULL AND e.replied_at >= NEW.dispatched_at
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.account_id = NEW.account_id
                 AND o.action <> 'withdraw' AND e.replied_at >= o.dispatched_at)
        UNION ALL SELECT 'campaign', '', '', m.measure, 1
            FROM enrollments e, (SELECT 'invited' AS measure UNION ALL SELECT 'accepted') m
            WHERE e.id = NEW.enrollment_id AND NEW.action = 'invite' AND (m.measure = 'invited' OR e.accepted_at IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.action = 'invite')
        UNION ALL SELECT 'campaign', '', '', m.measure, 1
            FROM enrollments e, (SELECT 'messaged' AS measure UNION ALL SELECT 'replied') m
            WHERE e.id = NEW.enrollment_id AND NEW.action IN ('message', 'inmail') AND (m.measure = 'messaged' OR e.replied_at IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.action IN ('message', 'inmail'))
    ) d WHERE en.id = NEW.enrollment_id AND d.n <> 0;
END;

-- trigger campaign_send_counts_confirmed (on sends)
CREATE TRIGGER campaign_send_counts_confirmed AFTER UPDATE OF state ON sends
    WHEN OLD.state <> 'confirmed' AND NEW.state = 'confirmed' AND NEW.action <> 'withdraw' AND NEW.campaign_id IS NOT NULL AND NEW.enrollment_id IS NOT NULL
BEGIN
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    SELECT NEW.campaign_id, d.scope, d.key, d.action, d.measure, d.n FROM enrollments en, (
        SELECT 'step' AS scope, NEW.step_id AS key, NEW.action AS action, 'sent' AS measure, 1 AS n
        UNION ALL SELECT 'step', NEW.step_id, NEW.action, 'accepted',
            CASE WHEN NEW.action = 'invite' AND e.accepted_at IS NOT NULL THEN 1 ELSE 0 END
            FROM enrollments e WHERE e.id = NEW.enrollment_id
        UNION ALL SELECT 'step', NEW.step_id, NEW.action, 'replied',
            CASE WHEN e.replied_at IS NOT NULL AND e.replied_at >= NEW.dispatched_at THEN 1 ELSE 0 END
            FROM enrollments e WHERE e.id = NEW.enrollment_id
        UNION ALL SELECT 'sender', NEW.account_id, '', 'sent', 1
        UNION ALL SELECT 'sender', NEW.account_id, '', 'accepted', 1
            FROM enrollments e WHERE e.id = NEW.enrollment_id AND NEW.action = 'invite' AND e.accepted_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.account_id = NEW.account_id AND o.action = 'invite')
        UNION ALL SELECT 'sender', NEW.account_id, '', 'replied', 1
            FROM enrollments e WHERE e.id = NEW.enrollment_id AND e.replied_at IS NOT NULL AND e.replied_at >= NEW.dispatched_at
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.account_id = NEW.account_id
                 AND o.action <> 'withdraw' AND e.replied_at >= o.dispatched_at)
        UNION ALL SELECT 'campaign', '', '', m.measure, 1
            FROM enrollments e, (SELECT 'invited' AS measure UNION ALL SELECT 'accepted') m
            WHERE e.id = NEW.enrollment_id AND NEW.action = 'invite' AND (m.measure = 'invited' OR e.accepted_at IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.action = 'invite')
        UNION ALL SELECT 'campaign', '', '', m.measure, 1
            FROM enrollments e, (SELECT 'messaged' AS measure UNION ALL SELECT 'replied') m
            WHERE e.id = NEW.enrollment_id AND NEW.action IN ('message', 'inmail') AND (m.measure = 'messaged' OR e.replied_at IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = NEW.enrollment_id AND o.state = 'confirmed'
                 AND o.id <> NEW.id AND o.campaign_id = NEW.campaign_id AND o.action IN ('message', 'inmail'))
    ) d WHERE en.id = NEW.enrollment_id AND d.n <> 0;
END;

-- trigger sends_confirmed_final (on sends)
CREATE TRIGGER sends_confirmed_final BEFORE UPDATE OF dispatched_at ON sends
    WHEN OLD.state = 'confirmed' AND NEW.dispatched_at IS NOT OLD.dispatched_at
BEGIN
    SELECT RAISE(ABORT, 'sends_confirmed_final: a confirmed send''s dispatch time cannot change');
END;

-- trigger sends_no_delete (on sends)
CREATE TRIGGER sends_no_delete
    BEFORE DELETE ON sends
BEGIN
    SELECT RAISE(ABORT, 'sends_append_only: sends are a ledger, rows cannot be deleted');
END;

-- trigger sends_note_invite_chk (on sends)
CREATE TRIGGER sends_note_invite_chk
    BEFORE INSERT ON sends
    WHEN NEW.with_note AND NEW.action <> 'invite'
BEGIN
    SELECT RAISE(ABORT, 'sends_note_invite_chk: only an invitation carries a note');
END;

-- trigger sends_outcome_final (on sends)
CREATE TRIGGER sends_outcome_final
    BEFORE UPDATE ON sends
    WHEN OLD.state IN ('confirmed', 'failed', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'sends_outcome_final: a concluded send never changes');
END;

-- trigger sends_reply_identity (on sends)
CREATE TRIGGER sends_reply_identity
    BEFORE UPDATE ON sends
    WHEN OLD.conversation_id IS NOT NEW.conversation_id OR OLD.reply_text IS NOT NEW.reply_text
BEGIN
    SELECT RAISE(ABORT, 'sends_reply_identity: a reply''s conversation and text cannot change');
END;

-- trigger sends_state_machine (on sends)
CREATE TRIGGER sends_state_machine
    BEFORE UPDATE ON sends
BEGIN
    SELECT RAISE(ABORT, 'sends_state_machine: a send cannot move between these states')
     WHERE OLD.state IS NOT NEW.state
       AND NOT ((OLD.state = 'intent' AND NEW.state IN ('dispatched', 'cancelled'))
             OR (OLD.state = 'dispatched' AND NEW.state IN ('confirmed', 'failed', 'unknown'))
             OR (OLD.state = 'unknown' AND NEW.state IN ('confirmed', 'failed')));
    SELECT RAISE(ABORT, 'sends_state_machine: a send''s identity cannot change')
     WHERE NEW.id IS NOT OLD.id OR NEW.workspace_id IS NOT OLD.workspace_id OR NEW.account_id IS NOT OLD.account_id
        OR NEW.campaign_id IS NOT OLD.campaign_id OR NEW.enrollment_id IS NOT OLD.enrollment_id
        OR NEW.prospect_id IS NOT OLD.prospect_id OR NEW.step_id IS NOT OLD.step_id OR NEW.action IS NOT OLD.action
        OR NEW.with_note IS NOT OLD.with_note OR NEW.claimed_at IS NOT OLD.claimed_at;
END;

-- trigger sends_withdraw_of_invite (on sends)
CREATE TRIGGER sends_withdraw_of_invite
    BEFORE INSERT ON sends
    WHEN NEW.action = 'withdraw' AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = NEW.campaign_id
        AND s.step_id = NEW.step_id AND s.prospect_id = NEW.prospect_id AND s.account_id = NEW.account_id
        AND s.action = 'invite' AND s.state = 'confirmed'
        AND s.state NOT IN ('failed', 'cancelled'))
BEGIN
    SELECT RAISE(ABORT, 'sends_withdraw_of_invite: a withdrawal needs the confirmed invitation it withdraws');
END;

-- trigger webhook_inbox_guard_delete (on webhook_inbox)
CREATE TRIGGER webhook_inbox_guard_delete
    BEFORE DELETE ON webhook_inbox
    WHEN OLD.state = 'pending'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a pending delivery cannot be deleted before it is processed');
END;

-- trigger webhook_inbox_guard_update (on webhook_inbox)
CREATE TRIGGER webhook_inbox_guard_update
    BEFORE UPDATE ON webhook_inbox
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a delivery is immutable')
     WHERE NEW.id IS NOT OLD.id OR NEW.dedupe_key IS NOT OLD.dedupe_key OR NEW.source IS NOT OLD.source
        OR NEW.event IS NOT OLD.event OR NEW.provider_account_id IS NOT OLD.provider_account_id
        OR NEW.status_message IS NOT OLD.status_message OR NEW.payload IS NOT OLD.payload
        OR NEW.received_at IS NOT OLD.received_at;
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a finished delivery cannot be processed again')
     WHERE OLD.state <> 'pending'
       AND (NEW.state IS NOT OLD.state OR NEW.processed_at IS NOT OLD.processed_at OR NEW.note IS NOT OLD.note
            OR NEW.attempts IS NOT OLD.attempts OR NEW.last_error IS NOT OLD.last_error
            OR NEW.claimed_until IS NOT OLD.claimed_until);
    SELECT RAISE(ABORT, 'webhook_inbox_guard: delivery counters only grow')
     WHERE NEW.deliveries < OLD.deliveries OR NEW.last_received_at < OLD.last_received_at;
END;

-- trigger webhook_inbox_unknown_ignored_chk_insert (on webhook_inbox)
CREATE TRIGGER webhook_inbox_unknown_ignored_chk_insert
    BEFORE INSERT ON webhook_inbox
    WHEN NEW.source = 'unknown' AND NEW.state <> 'ignored'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_unknown_ignored_chk: a delivery of an unknown event is stored as ignored');
END;

-- trigger webhook_inbox_unknown_ignored_chk_update (on webhook_inbox)
CREATE TRIGGER webhook_inbox_unknown_ignored_chk_update
    BEFORE UPDATE ON webhook_inbox
    WHEN NEW.source = 'unknown' AND NEW.state <> 'ignored'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_unknown_ignored_chk: a delivery of an unknown event is stored as ignored');
END;
