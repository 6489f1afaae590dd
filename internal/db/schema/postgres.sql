-- The schema Keel's PostgreSQL migrations produce; checked by TestSchemaSnapshot.

-- types

-- functions
CREATE OR REPLACE FUNCTION account_tier_changes_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'account_tier_changes_append_only: tier changes are never edited or deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'account_tier_changes_append_only';
END;
$function$;

CREATE OR REPLACE FUNCTION api_tokens_revocation_final()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'api_tokens_revocation_final: a revoked token stays revoked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'api_tokens_revocation_final';
    END IF;
    RETURN NEW;
END $function$;

CREATE OR REPLACE FUNCTION campaign_accounts_removal_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION campaign_send_counts_added()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    ids text[] := ARRAY(SELECT id FROM send_rows_added WHERE state = 'confirmed');
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM campaign_send_counts_append(ids);
    END IF;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION campaign_send_counts_append(ids text[])
 RETURNS void
 LANGUAGE sql
AS $function$
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    WITH q AS (
        SELECT s.id, s.campaign_id, s.step_id, s.action, s.account_id, s.enrollment_id, s.dispatched_at,
               en.accepted_at, en.replied_at
          FROM unnest(ids) AS u(id) JOIN sends s ON s.id = u.id JOIN enrollments en ON en.id = s.enrollment_id
         WHERE s.state = 'confirmed' AND s.action <> 'withdraw' AND s.campaign_id IS NOT NULL),
    -- Per prospect and sender, each kind of its sends this statement
    -- confirms, and whether the prospect already had a confirmed one of the
    -- kind before it (an EXISTS that stops at the first: the cost follows
    -- the statement's sends, not the prospect's history).
    agg AS (
        SELECT campaign_id, enrollment_id, account_id, replied_at, accepted_at IS NOT NULL AS acc, replied_at IS NOT NULL AS rep,
               count(*) FILTER (WHERE action = 'invite') AS inv_new,
               count(*) FILTER (WHERE action IN ('message', 'inmail')) AS msg_new,
               count(*) FILTER (WHERE replied_at >= dispatched_at) AS aft_new
          FROM q GROUP BY campaign_id, enrollment_id, account_id, accepted_at, replied_at),
    olds AS (
        SELECT agg.*,
               agg.replied_at IS NOT NULL AND EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = agg.enrollment_id
                   AND o.campaign_id = agg.campaign_id AND o.account_id = agg.account_id AND o.state = 'confirmed'
                   AND o.action <> 'withdraw' AND o.id <> ALL (ids) AND agg.replied_at >= o.dispatched_at) AS aft_old,
               EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = agg.enrollment_id AND o.campaign_id = agg.campaign_id
                   AND o.account_id = agg.account_id AND o.state = 'confirmed' AND o.action = 'invite' AND o.id <> ALL (ids)) AS inv_old_sender,
               EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = agg.enrollment_id AND o.campaign_id = agg.campaign_id
                   AND o.state = 'confirmed' AND o.action = 'invite' AND o.id <> ALL (ids)) AS inv_old,
               EXISTS (SELECT 1 FROM sends o WHERE o.enrollment_id = agg.enrollment_id AND o.campaign_id = agg.campaign_id
                   AND o.state = 'confirmed' AND o.action IN ('message', 'inmail') AND o.id <> ALL (ids)) AS msg_old
          FROM agg)
    SELECT * FROM (
        SELECT campaign_id, 'step', step_id, action, m.measure,
               sum(CASE m.measure WHEN 'sent' THEN 1
                   WHEN 'accepted' THEN CASE WHEN action = 'invite' AND accepted_at IS NOT NULL THEN 1 ELSE 0 END
                   ELSE CASE WHEN replied_at >= dispatched_at THEN 1 ELSE 0 END END) AS n
          FROM q CROSS JOIN (VALUES ('sent'), ('accepted'), ('replied')) m(measure)
         GROUP BY campaign_id, step_id, action, m.measure
        UNION ALL
        SELECT campaign_id, 'sender', account_id, '', 'sent', count(*) FROM q GROUP BY campaign_id, account_id
        UNION ALL
        -- Once per prospect: none of its sends of the kind was confirmed
        -- before this statement.
        SELECT campaign_id, 'sender', account_id, '', m.measure,
               count(*) FILTER (WHERE CASE m.measure WHEN 'accepted' THEN acc AND inv_new > 0 AND NOT inv_old_sender
                   ELSE aft_new > 0 AND NOT aft_old END)
          FROM olds CROSS JOIN (VALUES ('accepted'), ('replied')) m(measure)
         GROUP BY campaign_id, account_id, m.measure
        UNION ALL
        SELECT campaign_id, 'campaign', '', '', m.measure,
               count(*) FILTER (WHERE CASE m.measure WHEN 'invited' THEN inv_new > 0 AND NOT inv_old
                   WHEN 'accepted' THEN acc AND inv_new > 0 AND NOT inv_old
                   WHEN 'messaged' THEN msg_new > 0 AND NOT msg_old
                   ELSE rep AND msg_new > 0 AND NOT msg_old END)
          FROM (SELECT campaign_id, enrollment_id, acc, rep, sum(inv_new) AS inv_new, sum(msg_new) AS msg_new,
                       bool_or(inv_old) AS inv_old, bool_or(msg_old) AS msg_old
                  FROM olds GROUP BY campaign_id, enrollment_id, acc, rep) p
          CROSS JOIN (VALUES ('invited'), ('accepted'), ('messaged'), ('replied')) m(measure)
         GROUP BY campaign_id, m.measure
    ) d WHERE n <> 0;
$function$;

CREATE OR REPLACE FUNCTION campaign_send_counts_confirmed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    ids text[] := ARRAY(SELECT a.id FROM send_rows_after a JOIN send_rows_before b ON b.id = a.id
        WHERE a.state = 'confirmed' AND b.state <> 'confirmed');
BEGIN
    -- Most updates of a send (claims, dispatches) confirm none.
    IF cardinality(ids) > 0 THEN
        PERFORM campaign_send_counts_append(ids);
    END IF;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION campaign_send_counts_immutable()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'campaign_send_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_send_counts_immutable';
END $function$;

CREATE OR REPLACE FUNCTION campaign_send_counts_stamped()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- Most updates of an enrollment (a claim, a step moved on) touch
    -- neither stamp: they end here, before the counting query starts.
    IF NOT EXISTS (SELECT 1 FROM enrollment_stamps_after a JOIN enrollment_stamps_before b ON b.id = a.id
                    WHERE (a.accepted_at IS NULL) <> (b.accepted_at IS NULL) OR a.replied_at IS DISTINCT FROM b.replied_at) THEN
        RETURN NULL;
    END IF;
    INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
    WITH ch AS (
        SELECT a.id AS eid, b.accepted_at IS NOT NULL AS acc_old, a.accepted_at IS NOT NULL AS acc_new,
               b.replied_at AS rep_old, a.replied_at AS rep_new
          FROM enrollment_stamps_after a JOIN enrollment_stamps_before b ON b.id = a.id
         WHERE (a.accepted_at IS NULL) <> (b.accepted_at IS NULL) OR a.replied_at IS DISTINCT FROM b.replied_at),
    s AS (
        SELECT ch.*, s.campaign_id, s.step_id, s.action, s.account_id,
               COALESCE(ch.rep_old >= s.dispatched_at, false) AS after_old, COALESCE(ch.rep_new >= s.dispatched_at, false) AS after_new
          FROM ch JOIN sends s ON s.enrollment_id = ch.eid
         WHERE s.state = 'confirmed' AND s.action <> 'withdraw' AND s.campaign_id IS NOT NULL)
    SELECT * FROM (
        SELECT campaign_id, 'step', step_id, action, 'accepted',
               sum(CASE WHEN action = 'invite' THEN acc_new::int - acc_old::int ELSE 0 END) AS n
          FROM s GROUP BY campaign_id, step_id, action
        UNION ALL
        SELECT campaign_id, 'step', step_id, action, 'replied', sum(after_new::int - after_old::int)
          FROM s GROUP BY campaign_id, step_id, action
        UNION ALL
        SELECT campaign_id, 'sender', account_id, '', m.measure, sum(d) FROM (
            SELECT campaign_id, account_id, 'accepted' AS measure,
                   CASE WHEN bool_or(action = 'invite') THEN acc_new::int - acc_old::int ELSE 0 END AS d
              FROM s GROUP BY campaign_id, account_id, eid, acc_new, acc_old
            UNION ALL
            SELECT campaign_id, account_id, 'replied', bool_or(after_new)::int - bool_or(after_old)::int
              FROM s GROUP BY campaign_id, account_id, eid) m
         GROUP BY campaign_id, account_id, m.measure
        UNION ALL
        SELECT campaign_id, 'campaign', '', '', m.measure, sum(d) FROM (
            SELECT campaign_id, 'accepted' AS measure,
                   CASE WHEN bool_or(action = 'invite') THEN acc_new::int - acc_old::int ELSE 0 END AS d
              FROM s GROUP BY campaign_id, eid, acc_new, acc_old
            UNION ALL
            SELECT campaign_id, 'replied',
                   CASE WHEN bool_or(action IN ('message', 'inmail'))
                        THEN (rep_new IS NOT NULL)::int - (rep_old IS NOT NULL)::int ELSE 0 END
              FROM s GROUP BY campaign_id, eid, rep_new, rep_old) m
         GROUP BY campaign_id, m.measure
    ) d WHERE n <> 0;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_state_counts_added()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, count(*) FROM enrollment_rows_added GROUP BY campaign_id, state;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_state_counts_immutable()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'enrollment_state_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollment_state_counts_immutable';
END $function$;

CREATE OR REPLACE FUNCTION enrollment_state_counts_moved()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, sum(d) FROM (
        SELECT campaign_id, state, 1 AS d FROM enrollment_rows_after
        UNION ALL
        SELECT campaign_id, state, -1 AS d FROM enrollment_rows_before) x
    GROUP BY campaign_id, state HAVING sum(d) <> 0;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_state_counts_removed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, -count(*) FROM enrollment_rows_removed GROUP BY campaign_id, state;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_step_counts_added()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, count(*) FROM enrollment_steps_added
     WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
     GROUP BY campaign_id, account_id, step_id;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_step_counts_immutable()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'enrollment_step_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollment_step_counts_immutable';
END $function$;

CREATE OR REPLACE FUNCTION enrollment_step_counts_moved()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    -- A claim or an answer moves no prospect between steps: it ends here,
    -- before the counting query starts.
    IF NOT EXISTS (SELECT 1 FROM enrollment_steps_after a JOIN enrollment_steps_before b ON b.id = a.id
                    WHERE a.campaign_id <> b.campaign_id OR a.account_id <> b.account_id
                       OR a.step_id IS DISTINCT FROM b.step_id
                       OR (a.state IN ('active', 'soft_paused')) <> (b.state IN ('active', 'soft_paused'))) THEN
        RETURN NULL;
    END IF;
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, sum(d) FROM (
        SELECT campaign_id, account_id, step_id, 1 AS d FROM enrollment_steps_after
         WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
        UNION ALL
        SELECT campaign_id, account_id, step_id, -1 AS d FROM enrollment_steps_before
         WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL) x
    GROUP BY campaign_id, account_id, step_id HAVING sum(d) <> 0;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollment_step_counts_removed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, -count(*) FROM enrollment_steps_removed
     WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
     GROUP BY campaign_id, account_id, step_id;
    RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION enrollments_ended_at()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NEW.state IN ('pending', 'active', 'soft_paused') THEN
        NEW.ended_at := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        NEW.ended_at := COALESCE(NEW.ended_at, NEW.updated_at);
    ELSIF OLD.state IN ('pending', 'active', 'soft_paused') THEN
        NEW.ended_at := NEW.updated_at;
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION enrollments_sender_current()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION health_disconnects_final()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION hosted_auth_links_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS DISTINCT FROM NEW.workspace_id THEN
        RAISE EXCEPTION 'hosted_auth_links_guard: account % is not in workspace %', NEW.account_id, NEW.workspace_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.used_at IS NOT NULL AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            RAISE EXCEPTION 'hosted_auth_links_guard: link % was already used', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
        END IF;
        IF (NEW.id, NEW.token_hash, NEW.workspace_id, NEW.link_type, NEW.provider_account_id, NEW.created_at, NEW.expires_at)
           IS DISTINCT FROM
           (OLD.id, OLD.token_hash, OLD.workspace_id, OLD.link_type, OLD.provider_account_id, OLD.created_at, OLD.expires_at)
           OR (OLD.account_id IS NOT NULL AND NEW.account_id IS DISTINCT FROM OLD.account_id)
           OR (NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.used_at IS NULL) THEN
            RAISE EXCEPTION 'hosted_auth_links_guard: link % can only be marked used', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
        END IF;
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION inmail_top_ups_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'inmail_top_ups_append_only: top-ups are never edited or deleted';
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_account_status_audit_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be deleted'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_account_status_audit_apply()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NEW.from_status IS NULL THEN
        -- The creation row, written by linkedin_accounts_audit_creation.
        IF EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
           OR NEW.to_status IS DISTINCT FROM (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id) THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: only the account''s creation row may have no from_status'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
    ELSE
        -- Disconnect markers as account.Flip sets them: cleared on connect;
        -- set when leaving connected (or when missing), kept otherwise.
        UPDATE linkedin_accounts
           SET status = NEW.to_status,
               last_error = NEW.last_error,
               disconnected_at = CASE WHEN NEW.to_status = 'connected' THEN NULL
                                      WHEN status = 'connected' OR disconnected_at IS NULL THEN NEW.created_at
                                      ELSE disconnected_at END,
               disconnected_by = CASE WHEN NEW.to_status = 'connected' THEN NULL ELSE NEW.source END,
               strikes = NEW.strikes,
               updated_at = NEW.created_at
         WHERE id = NEW.account_id AND status = NEW.from_status;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: row for account % starts at % but the account is elsewhere; use the state-flip helper (account.Flip)',
                NEW.account_id, NEW.from_status
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_account_status_audit_before_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    current_status text;
BEGIN
    SELECT status INTO current_status FROM linkedin_accounts WHERE id = NEW.account_id;
    IF NEW.from_status IS NULL THEN
        IF EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
           OR NEW.to_status IS DISTINCT FROM current_status THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: only the account''s creation row may have no from_status'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
        NEW.paired := true;
    ELSE
        IF NEW.from_status IS DISTINCT FROM current_status THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: row for account % starts at % but the account is %; use the state-flip helper (account.Flip)',
                NEW.account_id, NEW.from_status, current_status
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
        IF NEW.paired THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: a new row cannot arrive paired; use the state-flip helper (account.Flip)'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_pairing';
        END IF;
        NEW.txid := txid_current();
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_account_status_audit_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    IF pg_trigger_depth() < 2
       OR OLD.paired OR NOT NEW.paired
       OR (NEW.id, NEW.account_id, NEW.from_status, NEW.to_status, NEW.reason, NEW.source, NEW.actor, NEW.strikes, NEW.created_at, NEW.txid)
          IS DISTINCT FROM
          (OLD.id, OLD.account_id, OLD.from_status, OLD.to_status, OLD.reason, OLD.source, OLD.actor, OLD.strikes, OLD.created_at, OLD.txid) THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_account_status_audit_must_pair()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT (SELECT paired FROM linkedin_account_status_audit WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'linkedin_account_status_audit: row % (% -> %) was never paired with a status change of account %; use the state-flip helper (account.Flip)',
            NEW.id, NEW.from_status, NEW.to_status, NEW.account_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_pairing';
    END IF;
    RETURN NULL;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_accounts_audit_creation()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, actor, strikes, created_at)
    VALUES (NEW.id, NULL, NEW.status, 'account created', 'create', '', NEW.strikes, NEW.created_at);
    RETURN NULL;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_accounts_audit_pairing()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    audit_id bigint;
BEGIN
    IF NEW.status = 'connected' AND NEW.strikes <> 0 THEN
        RAISE EXCEPTION 'linkedin_accounts %: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    SELECT id INTO audit_id FROM linkedin_account_status_audit
     WHERE account_id = NEW.id AND from_status = OLD.status AND to_status = NEW.status
       AND NOT paired AND txid = txid_current()
     ORDER BY id DESC LIMIT 1;
    IF audit_id IS NULL THEN
        RAISE EXCEPTION 'linkedin_accounts %: status change % -> % has no fresh audit row in this transaction; change status only through the state-flip helper (account.Flip)',
            NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    UPDATE linkedin_account_status_audit SET paired = true WHERE id = audit_id;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_accounts_status_from_audit()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'linkedin_accounts %: status change % -> % without its audit row; change status only through the state-flip helper (account.Flip)',
            NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_accounts_tier_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NEW.tier <> 'free' AND NEW.provider_features IS NOT NULL
       AND NOT (NEW.provider_features LIKE '%,' || NEW.tier || ',%'
                OR (NEW.tier = 'premium' AND NEW.provider_features <> ',')) THEN
        RAISE EXCEPTION 'linkedin_accounts_tier_reported_chk: the provider does not report tier % for account %', NEW.tier, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_tier_reported_chk';
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION linkedin_accounts_tier_record()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    INSERT INTO account_tier_changes (account_id, from_tier, to_tier, changed_by, changed_at, provider_features)
    VALUES (NEW.id, OLD.tier, NEW.tier,
            CASE WHEN NEW.tier_changed_by IS NOT NULL AND NEW.tier_changed_at IS DISTINCT FROM OLD.tier_changed_at
                 THEN NEW.tier_changed_by ELSE 'unattributed (direct database write)' END,
            CASE WHEN NEW.tier_changed_at IS DISTINCT FROM OLD.tier_changed_at THEN NEW.tier_changed_at ELSE now() END,
            NEW.provider_features);
    RETURN NULL;
END;
$function$;

CREATE OR REPLACE FUNCTION sends_confirmed_final()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'sends_confirmed_final: a confirmed send''s dispatch time cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_confirmed_final';
END $function$;

CREATE OR REPLACE FUNCTION sends_no_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'sends are a ledger: rows cannot be deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_append_only';
END;
$function$;

CREATE OR REPLACE FUNCTION sends_outcome_final()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'sends_outcome_final: send % is %; a concluded send never changes', OLD.id, OLD.state
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_outcome_final';
END $function$;

CREATE OR REPLACE FUNCTION sends_reply_identity()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'sends_reply_identity: a reply''s conversation and text cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_reply_identity';
END $function$;

CREATE OR REPLACE FUNCTION sends_state_machine()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF OLD.state IS DISTINCT FROM NEW.state
       AND NOT ((OLD.state = 'intent' AND NEW.state IN ('dispatched', 'cancelled'))
             OR (OLD.state = 'dispatched' AND NEW.state IN ('confirmed', 'failed', 'unknown'))
             OR (OLD.state = 'unknown' AND NEW.state IN ('confirmed', 'failed'))) THEN
        RAISE EXCEPTION 'sends_state_machine: send % cannot move % -> %', NEW.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_state_machine';
    END IF;
    IF (NEW.id, NEW.workspace_id, NEW.account_id, NEW.campaign_id, NEW.enrollment_id, NEW.prospect_id, NEW.step_id,
        NEW.action, NEW.with_note, NEW.claimed_at)
       IS DISTINCT FROM (OLD.id, OLD.workspace_id, OLD.account_id, OLD.campaign_id, OLD.enrollment_id, OLD.prospect_id,
        OLD.step_id, OLD.action, OLD.with_note, OLD.claimed_at) THEN
        RAISE EXCEPTION 'sends_state_machine: a send''s identity cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_state_machine';
    END IF;
    RETURN NEW;
END;
$function$;

CREATE OR REPLACE FUNCTION sends_withdraw_of_invite()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = NEW.campaign_id AND s.step_id = NEW.step_id
                   AND s.prospect_id = NEW.prospect_id AND s.account_id = NEW.account_id
                   AND s.action = 'invite' AND s.state = 'confirmed'
                   AND s.state NOT IN ('failed', 'cancelled')) THEN
        RAISE EXCEPTION 'sends_withdraw_of_invite: a withdrawal needs the confirmed invitation it withdraws'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_withdraw_of_invite';
    END IF;
    RETURN NEW;
END $function$;

CREATE OR REPLACE FUNCTION webhook_inbox_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state = 'pending' THEN
            RAISE EXCEPTION 'webhook_inbox_guard: pending delivery % cannot be deleted before it is processed', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.dedupe_key, NEW.source, NEW.event, NEW.provider_account_id, NEW.status_message, NEW.payload, NEW.received_at)
       IS DISTINCT FROM
       (OLD.id, OLD.dedupe_key, OLD.source, OLD.event, OLD.provider_account_id, OLD.status_message, OLD.payload, OLD.received_at) THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    IF OLD.state <> 'pending'
       AND (NEW.state, NEW.processed_at, NEW.note, NEW.attempts, NEW.last_error, NEW.claimed_until)
           IS DISTINCT FROM (OLD.state, OLD.processed_at, OLD.note, OLD.attempts, OLD.last_error, OLD.claimed_until) THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery % is already %; it cannot be processed again', OLD.id, OLD.state
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    IF NEW.deliveries < OLD.deliveries OR NEW.last_received_at < OLD.last_received_at THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery counters of % only grow', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    RETURN NEW;
END;
$function$;


-- tables
CREATE TABLE account_health (
  account_id text NOT NULL,
  next_check_at timestamp with time zone NOT NULL,
  claim_token text,
  last_checked_at timestamp with time zone,
  last_ok_at timestamp with time zone,
  last_404_at timestamp with time zone,
  last_outcome text,
  source_status text,
  unreachable_since timestamp with time zone,
  strike1_at timestamp with time zone,
  strike2_at timestamp with time zone,
  restart_requested_at timestamp with time zone
);
CREATE TABLE account_pacing (
  account_id text NOT NULL,
  next_allowed_at timestamp with time zone NOT NULL,
  spread_invite_until timestamp with time zone,
  spread_message_until timestamp with time zone,
  spread_inmail_until timestamp with time zone,
  spread_view_profile_until timestamp with time zone,
  spread_withdraw_until timestamp with time zone
);
CREATE TABLE account_tags (
  account_id text NOT NULL,
  tag text NOT NULL,
  created_at timestamp with time zone NOT NULL,
  created_by text NOT NULL
);
CREATE TABLE account_tier_changes (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  account_id text NOT NULL,
  from_tier text NOT NULL,
  to_tier text NOT NULL,
  changed_by text NOT NULL,
  changed_at timestamp with time zone NOT NULL,
  provider_features text
);
CREATE TABLE admin_alerts (
  id text NOT NULL,
  workspace_id text,
  kind text NOT NULL,
  severity text NOT NULL,
  subject_type text,
  subject_id text,
  message text NOT NULL,
  dedupe_key text NOT NULL,
  occurrences integer NOT NULL DEFAULT 1,
  created_at timestamp with time zone NOT NULL,
  last_seen_at timestamp with time zone NOT NULL,
  acknowledged_at timestamp with time zone,
  acknowledged_by text
);
CREATE TABLE api_tokens (
  id text NOT NULL,
  workspace_id text NOT NULL,
  token_hash text NOT NULL,
  name text NOT NULL DEFAULT ''::text,
  created_at timestamp with time zone NOT NULL,
  last_used_at timestamp with time zone,
  revoked_at timestamp with time zone,
  expires_at timestamp with time zone,
  role text NOT NULL DEFAULT 'admin'::text
);
CREATE TABLE campaign_accounts (
  campaign_id text NOT NULL,
  account_id text NOT NULL,
  workspace_id text NOT NULL,
  "position" integer NOT NULL,
  added_at timestamp with time zone NOT NULL,
  removed_at timestamp with time zone
);
CREATE TABLE campaign_send_counts (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  campaign_id text NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  action text NOT NULL,
  measure text NOT NULL,
  n bigint NOT NULL
);
CREATE TABLE campaigns (
  id text NOT NULL,
  workspace_id text NOT NULL,
  name text NOT NULL,
  status text NOT NULL DEFAULT 'draft'::text,
  paused_reason text,
  steps text NOT NULL,
  cap_invite integer NOT NULL,
  cap_message integer NOT NULL,
  cap_inmail integer NOT NULL,
  cap_view_profile integer NOT NULL,
  stop_on_reply boolean NOT NULL DEFAULT true,
  late_accept_policy text NOT NULL DEFAULT 'follow_up'::text,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  updated_by text
);
CREATE TABLE conversation_messages (
  id text NOT NULL,
  conversation_id text NOT NULL,
  provider_message_id text NOT NULL,
  from_self boolean NOT NULL,
  sender_provider_id text,
  text text NOT NULL DEFAULT ''::text,
  sent_at timestamp with time zone NOT NULL,
  stored_at timestamp with time zone NOT NULL
);
CREATE TABLE conversations (
  id text NOT NULL,
  workspace_id text NOT NULL,
  account_id text NOT NULL,
  provider_chat_id text NOT NULL,
  attendee_provider_id text,
  attendee_name text NOT NULL DEFAULT ''::text,
  prospect_id text,
  campaign_id text,
  last_message_at timestamp with time zone,
  last_message_text text NOT NULL DEFAULT ''::text,
  unread integer NOT NULL DEFAULT 0,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL
);
CREATE TABLE do_not_contact (
  id text NOT NULL,
  workspace_id text NOT NULL,
  linkedin_url text,
  public_slug text,
  provider_id text,
  company_url text,
  reason text NOT NULL DEFAULT ''::text,
  created_at timestamp with time zone NOT NULL,
  created_by text NOT NULL
);
CREATE TABLE do_not_contact_removals (
  entry_id text NOT NULL,
  workspace_id text NOT NULL,
  entry text NOT NULL,
  created_by text NOT NULL,
  removed_by text NOT NULL,
  removed_at timestamp with time zone NOT NULL
);
CREATE TABLE enrollment_state_counts (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  campaign_id text NOT NULL,
  state text NOT NULL,
  n bigint NOT NULL
);
CREATE TABLE enrollment_step_counts (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  campaign_id text NOT NULL,
  account_id text NOT NULL,
  step_id text NOT NULL,
  n bigint NOT NULL
);
CREATE TABLE enrollments (
  id text NOT NULL,
  workspace_id text NOT NULL,
  campaign_id text NOT NULL,
  prospect_id text NOT NULL,
  account_id text NOT NULL,
  state text NOT NULL DEFAULT 'pending'::text,
  step_id text,
  next_action_at timestamp with time zone,
  ended_reason text,
  last_error text,
  failures integer NOT NULL DEFAULT 0,
  accepted_at timestamp with time zone,
  replied_at timestamp with time zone,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  parked_by text,
  ended_at timestamp with time zone
);
CREATE TABLE health_disconnects (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  account_id text NOT NULL,
  state text NOT NULL,
  source text NOT NULL,
  reason text NOT NULL,
  actor text NOT NULL DEFAULT ''::text,
  copy_code text NOT NULL,
  copy_text text NOT NULL,
  strikes integer,
  requested_at timestamp with time zone NOT NULL,
  decided_at timestamp with time zone
);
CREATE TABLE health_guard (
  id integer NOT NULL,
  state text NOT NULL,
  trips bigint NOT NULL DEFAULT 0,
  opened_at timestamp with time zone,
  reopen_at timestamp with time zone,
  probes_ok integer NOT NULL DEFAULT 0,
  updated_at timestamp with time zone
);
CREATE TABLE hosted_auth_failures (
  link_id text NOT NULL,
  workspace_id text NOT NULL,
  account_id text NOT NULL,
  kind text NOT NULL,
  detail text NOT NULL,
  created_at timestamp with time zone NOT NULL
);
CREATE TABLE hosted_auth_links (
  id text NOT NULL,
  token_hash text NOT NULL,
  workspace_id text NOT NULL,
  link_type text NOT NULL,
  account_id text,
  provider_account_id text,
  created_at timestamp with time zone NOT NULL,
  expires_at timestamp with time zone NOT NULL,
  used_at timestamp with time zone,
  result_status text
);
CREATE TABLE inbox_backfill_chats (
  account_id text NOT NULL,
  provider_chat_id text NOT NULL,
  messages_cursor text,
  done boolean NOT NULL DEFAULT false
);
CREATE TABLE inbox_backfills (
  account_id text NOT NULL,
  chats_cursor text,
  chats_done boolean NOT NULL DEFAULT false,
  done_at timestamp with time zone,
  next_at timestamp with time zone NOT NULL,
  requests integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE TABLE inmail_top_ups (
  id bigint NOT NULL DEFAULT nextval('inmail_top_ups_id_seq'::regclass),
  account_id text NOT NULL,
  cleared_by text NOT NULL,
  source text NOT NULL,
  balance integer,
  cleared_at timestamp with time zone NOT NULL
);
CREATE TABLE invitation_syncs (
  account_id text NOT NULL,
  next_at timestamp with time zone NOT NULL,
  synced_at timestamp with time zone,
  listed integer,
  outside integer,
  last_error text
);
CREATE TABLE invitations (
  id text NOT NULL,
  workspace_id text NOT NULL,
  account_id text NOT NULL,
  send_id text,
  prospect_id text,
  provider_invitation_id text,
  invited_provider_id text,
  sent_at timestamp with time zone NOT NULL,
  state text NOT NULL DEFAULT 'pending'::text,
  closed_at timestamp with time zone,
  withdraw_at timestamp with time zone,
  seen_at timestamp with time zone
);
CREATE TABLE linkedin_account_status_audit (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  account_id text NOT NULL,
  from_status text,
  to_status text NOT NULL,
  reason text NOT NULL,
  source text NOT NULL,
  actor text NOT NULL DEFAULT ''::text,
  strikes integer NOT NULL DEFAULT 0,
  created_at timestamp with time zone NOT NULL,
  last_error text
);
CREATE TABLE linkedin_accounts (
  id text NOT NULL,
  workspace_id text NOT NULL,
  provider_account_id text NOT NULL,
  name text NOT NULL DEFAULT ''::text,
  status text NOT NULL,
  last_error text,
  disconnected_at timestamp with time zone,
  disconnected_by text,
  strikes integer NOT NULL DEFAULT 0,
  tier text NOT NULL DEFAULT 'free'::text,
  timezone text NOT NULL DEFAULT 'UTC'::text,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  window_days text NOT NULL DEFAULT 'mon,tue,wed,thu,fri'::text,
  window_start integer NOT NULL DEFAULT 540,
  window_end integer NOT NULL DEFAULT 1080,
  cap_invite_daily integer NOT NULL DEFAULT 20,
  cap_invite_weekly integer NOT NULL DEFAULT 100,
  cap_message_daily integer NOT NULL DEFAULT 50,
  cap_inmail_daily integer NOT NULL DEFAULT 0,
  cap_view_profile_daily integer NOT NULL DEFAULT 40,
  ramp_started_at timestamp with time zone,
  provider_features text,
  provider_features_at timestamp with time zone,
  tier_changed_by text,
  tier_changed_at timestamp with time zone,
  pacing_spread boolean NOT NULL DEFAULT true,
  pacing_min_gap_seconds integer NOT NULL DEFAULT 60,
  pacing_max_gap_seconds integer NOT NULL DEFAULT 180,
  cap_invite_pending integer NOT NULL DEFAULT 400,
  cap_withdraw_daily integer NOT NULL DEFAULT 50,
  withdraw_after_days integer NOT NULL DEFAULT 21,
  settings_updated_by text
);
CREATE TABLE login_failures (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  account_key text NOT NULL,
  source text NOT NULL,
  at timestamp with time zone NOT NULL
);
CREATE TABLE memberships (
  user_id text NOT NULL,
  workspace_id text NOT NULL,
  role text NOT NULL,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL
);
CREATE TABLE outbound_deliveries (
  id text NOT NULL,
  workspace_id text NOT NULL,
  event_id text NOT NULL,
  endpoint_id text NOT NULL,
  state text NOT NULL DEFAULT 'pending'::text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamp with time zone,
  last_status_code integer,
  last_error text,
  delivered_at timestamp with time zone,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL
);
CREATE TABLE outbound_delivery_attempts (
  id text NOT NULL,
  delivery_id text NOT NULL,
  attempt integer NOT NULL,
  status_code integer,
  error text,
  duration_ms bigint NOT NULL,
  attempted_at timestamp with time zone NOT NULL
);
CREATE TABLE outbound_endpoints (
  id text NOT NULL,
  workspace_id text NOT NULL,
  url text NOT NULL,
  events text NOT NULL DEFAULT ''::text,
  secret text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamp with time zone NOT NULL,
  deleted_at timestamp with time zone,
  failing_since timestamp with time zone,
  disabled_at timestamp with time zone,
  disabled_reason text
);
CREATE TABLE outbound_events (
  id text NOT NULL,
  workspace_id text NOT NULL,
  type text NOT NULL,
  body text NOT NULL,
  created_at timestamp with time zone NOT NULL
);
CREATE TABLE periodic_task_runs (
  task text NOT NULL,
  every_ms bigint NOT NULL,
  created_at timestamp with time zone NOT NULL,
  last_started_at timestamp with time zone,
  last_finished_at timestamp with time zone,
  last_error text,
  lease_owner text,
  lease_until timestamp with time zone
);
CREATE TABLE prospects (
  id text NOT NULL,
  workspace_id text NOT NULL,
  linkedin_url text,
  public_slug text,
  sales_nav_id text,
  provider_id text,
  first_name text NOT NULL DEFAULT ''::text,
  last_name text NOT NULL DEFAULT ''::text,
  company text NOT NULL DEFAULT ''::text,
  custom_fields text NOT NULL DEFAULT '{}'::text,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  member_id text,
  public_handle text
);
CREATE TABLE send_blocks (
  account_id text NOT NULL,
  action text NOT NULL,
  kind text NOT NULL,
  until timestamp with time zone NOT NULL,
  reason text NOT NULL,
  created_at timestamp with time zone NOT NULL
);
CREATE TABLE sends (
  id text NOT NULL,
  workspace_id text NOT NULL,
  account_id text NOT NULL,
  campaign_id text,
  enrollment_id text,
  prospect_id text,
  step_id text,
  action text NOT NULL,
  state text NOT NULL DEFAULT 'intent'::text,
  with_note boolean NOT NULL DEFAULT false,
  claimed_at timestamp with time zone NOT NULL,
  dispatched_at timestamp with time zone,
  finished_at timestamp with time zone,
  provider_ref text,
  chat_id text,
  error_kind text,
  error text,
  parked_at timestamp with time zone,
  settled_by text,
  settled_at timestamp with time zone,
  conversation_id text,
  reply_text text
);
CREATE TABLE unmatched_accepts (
  id text NOT NULL,
  workspace_id text NOT NULL,
  account_id text NOT NULL,
  person_key text NOT NULL,
  provider_id text,
  public_handle text,
  source text NOT NULL,
  seen_at timestamp with time zone NOT NULL
);
CREATE TABLE users (
  id text NOT NULL,
  workspace_id text NOT NULL,
  email text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamp with time zone NOT NULL
);
CREATE TABLE web_sessions (
  id_hash text NOT NULL,
  user_id text,
  workspace_id text,
  csrf text NOT NULL,
  flash text,
  created_at timestamp with time zone NOT NULL,
  last_seen_at timestamp with time zone NOT NULL,
  expires_at timestamp with time zone NOT NULL
);
CREATE TABLE webhook_inbox (
  id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  dedupe_key text NOT NULL,
  source text NOT NULL,
  event text NOT NULL,
  provider_account_id text,
  status_message text,
  payload text NOT NULL,
  state text NOT NULL DEFAULT 'pending'::text,
  note text NOT NULL DEFAULT ''::text,
  attempts integer NOT NULL DEFAULT 0,
  deliveries integer NOT NULL DEFAULT 1,
  last_error text,
  received_at timestamp with time zone NOT NULL,
  last_received_at timestamp with time zone NOT NULL,
  claimed_until timestamp with time zone,
  processed_at timestamp with time zone
);
CREATE TABLE workspaces (
  id text NOT NULL,
  slug text NOT NULL,
  name text NOT NULL DEFAULT ''::text,
  created_at timestamp with time zone NOT NULL,
  sender_handoff_hours integer NOT NULL DEFAULT 72,
  recontact_cooloff_days integer NOT NULL DEFAULT 30,
  recontact_never boolean NOT NULL DEFAULT false
);

-- constraints
ALTER TABLE account_health ADD CONSTRAINT account_health_404_checked_chk CHECK (((last_404_at IS NULL) OR ((last_checked_at IS NOT NULL) AND (last_404_at <= last_checked_at))));
ALTER TABLE account_health ADD CONSTRAINT account_health_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE account_health ADD CONSTRAINT account_health_last_outcome_chk CHECK ((last_outcome = ANY (ARRAY['ok'::text, 'provider_status'::text, 'not_found'::text, 'unreachable'::text, 'restricted'::text, 'verification'::text, 'reconnect_needed'::text, 'unrecognized'::text])));
ALTER TABLE account_health ADD CONSTRAINT account_health_ok_checked_chk CHECK (((last_ok_at IS NULL) OR ((last_checked_at IS NOT NULL) AND (last_ok_at <= last_checked_at))));
ALTER TABLE account_health ADD CONSTRAINT account_health_outcome_checked_chk CHECK (((last_outcome IS NULL) = (last_checked_at IS NULL)));
ALTER TABLE account_health ADD CONSTRAINT account_health_pkey PRIMARY KEY (account_id);
ALTER TABLE account_health ADD CONSTRAINT account_health_strike_order_chk CHECK (((strike2_at IS NULL) OR ((strike1_at IS NOT NULL) AND (strike2_at >= strike1_at))));
ALTER TABLE account_pacing ADD CONSTRAINT account_pacing_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE account_pacing ADD CONSTRAINT account_pacing_pkey PRIMARY KEY (account_id);
ALTER TABLE account_tags ADD CONSTRAINT account_tags_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id) ON DELETE CASCADE;
ALTER TABLE account_tags ADD CONSTRAINT account_tags_created_by_chk CHECK ((created_by <> ''::text));
ALTER TABLE account_tags ADD CONSTRAINT account_tags_pkey PRIMARY KEY (account_id, tag);
ALTER TABLE account_tags ADD CONSTRAINT account_tags_tag_chk CHECK ((tag ~ '^[a-z0-9][a-z0-9_-]{0,31}$'::text));
ALTER TABLE account_tier_changes ADD CONSTRAINT account_tier_changes_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE account_tier_changes ADD CONSTRAINT account_tier_changes_pkey PRIMARY KEY (id);
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_ack_chk CHECK (((acknowledged_at IS NULL) = (acknowledged_by IS NULL)));
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_installation_ack_chk CHECK (((workspace_id IS NOT NULL) OR (acknowledged_by IS NULL) OR ("left"(acknowledged_by, 9) = 'operator:'::text)));
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_pkey PRIMARY KEY (id);
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_severity_chk CHECK ((severity = ANY (ARRAY['info'::text, 'warning'::text, 'critical'::text])));
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_subject_chk CHECK (((subject_type IS NULL) = (subject_id IS NULL)));
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_subject_type_chk CHECK ((subject_type = ANY (ARRAY['account'::text, 'campaign'::text])));
ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_expiry_chk CHECK (((expires_at IS NULL) OR (expires_at > created_at)));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_hash_chk CHECK ((length(token_hash) = 64));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_chk CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'member'::text, 'viewer'::text])));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE campaign_accounts ADD CONSTRAINT campaign_accounts_account_fk FOREIGN KEY (account_id, workspace_id) REFERENCES linkedin_accounts(id, workspace_id);
ALTER TABLE campaign_accounts ADD CONSTRAINT campaign_accounts_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns(id, workspace_id);
ALTER TABLE campaign_accounts ADD CONSTRAINT campaign_accounts_pkey PRIMARY KEY (campaign_id, account_id);
ALTER TABLE campaign_accounts ADD CONSTRAINT campaign_accounts_position_chk CHECK (("position" >= 0));
ALTER TABLE campaign_accounts ADD CONSTRAINT campaign_accounts_removed_chk CHECK (((removed_at IS NULL) OR (removed_at >= added_at)));
ALTER TABLE campaign_send_counts ADD CONSTRAINT campaign_send_counts_key_chk CHECK ((((scope = 'step'::text) = (action <> ''::text)) AND ((scope = 'campaign'::text) = (key = ''::text))));
ALTER TABLE campaign_send_counts ADD CONSTRAINT campaign_send_counts_measure_chk CHECK ((((scope = ANY (ARRAY['step'::text, 'sender'::text])) AND (measure = ANY (ARRAY['sent'::text, 'accepted'::text, 'replied'::text]))) OR ((scope = 'campaign'::text) AND (measure = ANY (ARRAY['invited'::text, 'accepted'::text, 'messaged'::text, 'replied'::text])))));
ALTER TABLE campaign_send_counts ADD CONSTRAINT campaign_send_counts_n_chk CHECK ((n <> 0));
ALTER TABLE campaign_send_counts ADD CONSTRAINT campaign_send_counts_pkey PRIMARY KEY (id);
ALTER TABLE campaign_send_counts ADD CONSTRAINT campaign_send_counts_scope_chk CHECK ((scope = ANY (ARRAY['step'::text, 'sender'::text, 'campaign'::text])));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_daily_caps_chk CHECK (((cap_invite >= 0) AND (cap_message >= 0) AND (cap_inmail >= 0) AND (cap_view_profile >= 0)));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_id_workspace_key UNIQUE (id, workspace_id);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_late_accept_policy_chk CHECK ((late_accept_policy = ANY (ARRAY['follow_up'::text, 'record_only'::text])));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_name_chk CHECK (((length(TRIM(BOTH FROM name)) >= 1) AND (length(TRIM(BOTH FROM name)) <= 200)));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_paused_iff_reason_chk CHECK (((status = 'paused'::text) = (paused_reason IS NOT NULL)));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_paused_reason_chk CHECK ((paused_reason = ANY (ARRAY['manual'::text, 'account_disconnected'::text, 'account_restricted'::text, 'account_error'::text, 'needs_verification'::text, 'high_failure_rate'::text, 'template_error'::text])));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_status_chk CHECK ((status = ANY (ARRAY['draft'::text, 'running'::text, 'paused'::text, 'completed'::text, 'archived'::text])));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_steps_chk CHECK (((jsonb_typeof((steps)::jsonb) = 'array'::text) AND (jsonb_array_length((steps)::jsonb) > 0)));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_updated_by_chk CHECK (((updated_by IS NULL) OR ((length(updated_by) >= 1) AND (length(updated_by) <= 300))));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations(id);
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_pkey PRIMARY KEY (id);
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_provider_key UNIQUE (conversation_id, provider_message_id);
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_provider_message_id_chk CHECK (((length(provider_message_id) >= 1) AND (length(provider_message_id) <= 200)));
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_sender_chk CHECK (((length(sender_provider_id) >= 1) AND (length(sender_provider_id) <= 200)));
ALTER TABLE conversation_messages ADD CONSTRAINT conversation_messages_text_chk CHECK ((length(text) <= 20000));
ALTER TABLE conversations ADD CONSTRAINT conversations_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE conversations ADD CONSTRAINT conversations_attendee_name_chk CHECK ((length(attendee_name) <= 300));
ALTER TABLE conversations ADD CONSTRAINT conversations_attendee_provider_id_chk CHECK (((length(attendee_provider_id) >= 1) AND (length(attendee_provider_id) <= 200)));
ALTER TABLE conversations ADD CONSTRAINT conversations_campaign_chk CHECK (((campaign_id IS NULL) OR (prospect_id IS NOT NULL)));
ALTER TABLE conversations ADD CONSTRAINT conversations_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(id);
ALTER TABLE conversations ADD CONSTRAINT conversations_chat_key UNIQUE (account_id, provider_chat_id);
ALTER TABLE conversations ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);
ALTER TABLE conversations ADD CONSTRAINT conversations_prospect_id_fkey FOREIGN KEY (prospect_id) REFERENCES prospects(id);
ALTER TABLE conversations ADD CONSTRAINT conversations_provider_chat_id_chk CHECK (((length(provider_chat_id) >= 1) AND (length(provider_chat_id) <= 200)));
ALTER TABLE conversations ADD CONSTRAINT conversations_unread_chk CHECK ((unread >= 0));
ALTER TABLE conversations ADD CONSTRAINT conversations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_company_url_chk CHECK ((substr(company_url, 1, 33) = 'https://www.linkedin.com/company/'::text));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_created_by_chk CHECK ((length(created_by) > 0));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_linkedin_url_chk CHECK ((substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/'::text));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_one_key_chk CHECK ((((
CASE
    WHEN (linkedin_url IS NULL) THEN 0
    ELSE 1
END +
CASE
    WHEN (provider_id IS NULL) THEN 0
    ELSE 1
END) +
CASE
    WHEN (company_url IS NULL) THEN 0
    ELSE 1
END) = 1));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_pkey PRIMARY KEY (id);
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_provider_id_chk CHECK (((length(provider_id) >= 1) AND (length(provider_id) <= 200)));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_public_slug_chk CHECK (((length(public_slug) >= 1) AND (length(public_slug) <= 200)));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_reason_chk CHECK ((length(reason) <= 1000));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_slug_chk CHECK (((linkedin_url IS NULL) = (public_slug IS NULL)));
ALTER TABLE do_not_contact ADD CONSTRAINT do_not_contact_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE do_not_contact_removals ADD CONSTRAINT do_not_contact_removals_pkey PRIMARY KEY (entry_id);
ALTER TABLE do_not_contact_removals ADD CONSTRAINT do_not_contact_removals_removed_by_chk CHECK (((length(removed_by) >= 1) AND (length(removed_by) <= 300)));
ALTER TABLE do_not_contact_removals ADD CONSTRAINT do_not_contact_removals_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE enrollment_state_counts ADD CONSTRAINT enrollment_state_counts_n_chk CHECK ((n <> 0));
ALTER TABLE enrollment_state_counts ADD CONSTRAINT enrollment_state_counts_pkey PRIMARY KEY (id);
ALTER TABLE enrollment_step_counts ADD CONSTRAINT enrollment_step_counts_n_chk CHECK ((n <> 0));
ALTER TABLE enrollment_step_counts ADD CONSTRAINT enrollment_step_counts_pkey PRIMARY KEY (id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_active_next_action_chk CHECK (((state <> 'active'::text) OR (next_action_at IS NOT NULL)));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns(id, workspace_id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_campaign_prospect_key UNIQUE (campaign_id, prospect_id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_ended_at_chk CHECK (((ended_at IS NULL) OR (state <> ALL (ARRAY['pending'::text, 'active'::text, 'soft_paused'::text]))));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_ended_reason_chk CHECK (((state = 'ended'::text) = ((ended_reason IS NOT NULL) AND (length(ended_reason) > 0))));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_failed_error_chk CHECK (((state <> 'failed'::text) OR ((last_error IS NOT NULL) AND (length(last_error) > 0))));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_failures_chk CHECK (((failures >= 0) AND (failures <= 3)));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_parked_by_chk CHECK (((parked_by IS NULL) OR ((state = ANY (ARRAY['active'::text, 'soft_paused'::text])) AND (next_action_at IS NOT NULL) AND (length(parked_by) > 0))));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_pending_chk CHECK (((state <> 'pending'::text) OR ((step_id IS NULL) AND (next_action_at IS NULL))));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_pkey PRIMARY KEY (id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_prospect_fk FOREIGN KEY (prospect_id, workspace_id) REFERENCES prospects(id, workspace_id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_replied_chk CHECK (((state <> 'replied'::text) OR (replied_at IS NOT NULL)));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_sender_fk FOREIGN KEY (campaign_id, account_id) REFERENCES campaign_accounts(campaign_id, account_id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_state_chk CHECK ((state = ANY (ARRAY['pending'::text, 'active'::text, 'soft_paused'::text, 'completed'::text, 'replied'::text, 'ended'::text, 'failed'::text])));
ALTER TABLE enrollments ADD CONSTRAINT enrollments_step_chk CHECK (((state <> ALL (ARRAY['active'::text, 'soft_paused'::text])) OR (step_id IS NOT NULL)));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_copy_chk CHECK ((copy_text <> ''::text));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_decided_chk CHECK (((state = 'held'::text) = (decided_at IS NULL)));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_decided_order_chk CHECK (((decided_at IS NULL) OR (decided_at >= requested_at)));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_pkey PRIMARY KEY (id);
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_reason_chk CHECK ((reason <> ''::text));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_state_chk CHECK ((state = ANY (ARRAY['held'::text, 'applied'::text, 'canceled'::text, 'superseded'::text])));
ALTER TABLE health_disconnects ADD CONSTRAINT health_disconnects_strikes_chk CHECK (((strikes IS NULL) OR ((strikes >= 0) AND (strikes <= 3))));
ALTER TABLE health_guard ADD CONSTRAINT health_guard_open_chk CHECK ((((state = 'closed'::text) AND (opened_at IS NULL) AND (reopen_at IS NULL) AND (probes_ok = 0)) OR ((state = 'open'::text) AND (opened_at IS NOT NULL) AND (reopen_at IS NOT NULL) AND (trips > 0) AND (reopen_at >= opened_at))));
ALTER TABLE health_guard ADD CONSTRAINT health_guard_pkey PRIMARY KEY (id);
ALTER TABLE health_guard ADD CONSTRAINT health_guard_probes_chk CHECK ((probes_ok >= 0));
ALTER TABLE health_guard ADD CONSTRAINT health_guard_singleton_chk CHECK ((id = 1));
ALTER TABLE health_guard ADD CONSTRAINT health_guard_state_chk CHECK ((state = ANY (ARRAY['closed'::text, 'open'::text])));
ALTER TABLE health_guard ADD CONSTRAINT health_guard_trips_chk CHECK ((trips >= 0));
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_detail_chk CHECK ((detail <> ''::text));
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_kind_chk CHECK ((kind = ANY (ARRAY['expired'::text, 'failed'::text])));
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_link_id_fkey FOREIGN KEY (link_id) REFERENCES hosted_auth_links(id);
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_pkey PRIMARY KEY (link_id);
ALTER TABLE hosted_auth_failures ADD CONSTRAINT hosted_auth_failures_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_create_chk CHECK (((link_type <> 'create'::text) OR (provider_account_id IS NULL)));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_expiry_chk CHECK ((expires_at > created_at));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_pkey PRIMARY KEY (id);
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_reconnect_chk CHECK (((link_type <> 'reconnect'::text) OR ((account_id IS NOT NULL) AND (provider_account_id IS NOT NULL))));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_result_chk CHECK ((result_status = ANY (ARRAY['CREATION_SUCCESS'::text, 'RECONNECTED'::text, 'OK'::text])));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_token_hash_chk CHECK ((token_hash ~ '^[0-9a-f]{64}$'::text));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_token_hash_key UNIQUE (token_hash);
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_type_chk CHECK ((link_type = ANY (ARRAY['create'::text, 'reconnect'::text])));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_used_chk CHECK ((((used_at IS NULL) = (result_status IS NULL)) AND ((used_at IS NULL) OR ((account_id IS NOT NULL) AND (used_at >= created_at) AND (used_at <= expires_at)))));
ALTER TABLE hosted_auth_links ADD CONSTRAINT hosted_auth_links_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE inbox_backfill_chats ADD CONSTRAINT inbox_backfill_chats_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE inbox_backfill_chats ADD CONSTRAINT inbox_backfill_chats_pkey PRIMARY KEY (account_id, provider_chat_id);
ALTER TABLE inbox_backfills ADD CONSTRAINT inbox_backfills_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE inbox_backfills ADD CONSTRAINT inbox_backfills_done_chk CHECK (((done_at IS NULL) OR chats_done));
ALTER TABLE inbox_backfills ADD CONSTRAINT inbox_backfills_pkey PRIMARY KEY (account_id);
ALTER TABLE inbox_backfills ADD CONSTRAINT inbox_backfills_requests_chk CHECK ((requests >= 0));
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_balance_chk CHECK (((balance IS NULL) OR (balance > 0)));
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_balance_source_chk CHECK (((source = 'manual'::text) OR (balance IS NOT NULL)));
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_cleared_by_chk CHECK ((length(cleared_by) > 0));
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_pkey PRIMARY KEY (id);
ALTER TABLE inmail_top_ups ADD CONSTRAINT inmail_top_ups_source_chk CHECK ((source = ANY (ARRAY['manual'::text, 'balance_check'::text])));
ALTER TABLE invitation_syncs ADD CONSTRAINT invitation_syncs_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE invitation_syncs ADD CONSTRAINT invitation_syncs_listed_chk CHECK ((listed >= 0));
ALTER TABLE invitation_syncs ADD CONSTRAINT invitation_syncs_outside_chk CHECK ((outside >= 0));
ALTER TABLE invitation_syncs ADD CONSTRAINT invitation_syncs_pkey PRIMARY KEY (account_id);
ALTER TABLE invitations ADD CONSTRAINT invitations_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE invitations ADD CONSTRAINT invitations_closed_chk CHECK (((state = 'pending'::text) = (closed_at IS NULL)));
ALTER TABLE invitations ADD CONSTRAINT invitations_invited_provider_id_chk CHECK (((length(invited_provider_id) >= 1) AND (length(invited_provider_id) <= 200)));
ALTER TABLE invitations ADD CONSTRAINT invitations_origin_chk CHECK ((((send_id IS NULL) = (prospect_id IS NULL)) AND ((send_id IS NOT NULL) OR (provider_invitation_id IS NOT NULL))));
ALTER TABLE invitations ADD CONSTRAINT invitations_pkey PRIMARY KEY (id);
ALTER TABLE invitations ADD CONSTRAINT invitations_prospect_id_fkey FOREIGN KEY (prospect_id) REFERENCES prospects(id);
ALTER TABLE invitations ADD CONSTRAINT invitations_provider_invitation_id_chk CHECK (((length(provider_invitation_id) >= 1) AND (length(provider_invitation_id) <= 200)));
ALTER TABLE invitations ADD CONSTRAINT invitations_send_id_fkey FOREIGN KEY (send_id) REFERENCES sends(id);
ALTER TABLE invitations ADD CONSTRAINT invitations_send_id_key UNIQUE (send_id);
ALTER TABLE invitations ADD CONSTRAINT invitations_state_chk CHECK ((state = ANY (ARRAY['pending'::text, 'accepted'::text, 'withdrawn'::text, 'gone'::text])));
ALTER TABLE invitations ADD CONSTRAINT invitations_withdraw_at_chk CHECK (((withdraw_at IS NULL) OR ((state = 'pending'::text) AND (send_id IS NOT NULL))));
ALTER TABLE invitations ADD CONSTRAINT invitations_withdrawn_chk CHECK (((state <> 'withdrawn'::text) OR (send_id IS NOT NULL)));
ALTER TABLE invitations ADD CONSTRAINT invitations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_change_chk CHECK ((from_status IS DISTINCT FROM to_status));
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_copy_chk CHECK (((from_status IS DISTINCT FROM 'connected'::text) OR (to_status = 'connected'::text) OR (COALESCE(last_error, ''::text) <> ''::text))) NOT VALID;
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_pkey PRIMARY KEY (id);
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_source_chk CHECK (
CASE
    WHEN (from_status IS NULL) THEN (source = 'create'::text)
    WHEN (source = ANY (ARRAY['health_check'::text, 'webhook'::text, 'hosted_auth'::text, 'sync'::text])) THEN true
    WHEN (source = 'send_error'::text) THEN (to_status = ANY (ARRAY['disconnected'::text, 'restricted'::text, 'needs_verification'::text, 'error'::text]))
    WHEN (source = ANY (ARRAY['operator'::text, 'repair'::text])) THEN (to_status = 'disconnected'::text)
    ELSE false
END);
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_status_chk CHECK ((((from_status IS NULL) OR (from_status = ANY ('{connecting,connected,needs_verification,disconnected,restricted,error}'::text[]))) AND (to_status = ANY ('{connecting,connected,needs_verification,disconnected,restricted,error}'::text[]))));
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_strikes_chk CHECK (((to_status <> 'connected'::text) OR (strikes = 0)));
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_transition_chk CHECK ((NOT ((from_status = 'restricted'::text) AND (to_status = 'connecting'::text))));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_inmail_daily_chk CHECK (((cap_inmail_daily >= 0) AND (cap_inmail_daily <=
CASE
    WHEN (tier = 'free'::text) THEN 0
    ELSE 50
END)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_invite_daily_chk CHECK (((cap_invite_daily >= 0) AND (cap_invite_daily <=
CASE
    WHEN (tier = 'free'::text) THEN 30
    ELSE 100
END)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_invite_pending_chk CHECK (((cap_invite_pending >= 0) AND (cap_invite_pending <= 700)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_invite_weekly_chk CHECK (((cap_invite_weekly >= 0) AND (cap_invite_weekly <=
CASE
    WHEN (tier = 'free'::text) THEN 100
    ELSE 200
END)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_message_daily_chk CHECK (((cap_message_daily >= 0) AND (cap_message_daily <= 150)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_view_profile_daily_chk CHECK (((cap_view_profile_daily >= 0) AND (cap_view_profile_daily <= 100)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_cap_withdraw_daily_chk CHECK (((cap_withdraw_daily >= 0) AND (cap_withdraw_daily <= 100)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_connected_iff_not_disconnected_chk CHECK (((status = 'connected'::text) = (disconnected_at IS NULL)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_disconnected_by_chk CHECK (((status <> 'connected'::text) OR (disconnected_by IS NULL)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_no_split_state_chk CHECK (((status <> 'connected'::text) OR (last_error IS NULL) OR (lower(last_error) !~ '(no longer registered|please reconnect|account not found.*reconnect|reconnect needed|reconnect required|must be connected again|credentials expired)'::text)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_pacing_max_gap_chk CHECK (((pacing_max_gap_seconds >= pacing_min_gap_seconds) AND (pacing_max_gap_seconds <= 3600)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_pacing_min_gap_chk CHECK ((pacing_min_gap_seconds >= 1));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_pkey PRIMARY KEY (id);
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_provider_account_id_key UNIQUE (provider_account_id);
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_provider_features_chk CHECK (((provider_features IS NULL) OR (provider_features = ','::text) OR (provider_features ~~ ',%,'::text)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_settings_updated_by_chk CHECK (((settings_updated_by IS NULL) OR ((length(settings_updated_by) >= 1) AND (length(settings_updated_by) <= 300))));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_status_chk CHECK ((status = ANY ('{connecting,connected,needs_verification,disconnected,restricted,error}'::text[])));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_strikes_chk CHECK (((strikes >= 0) AND (strikes <= 3)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_tier_chk CHECK ((tier = ANY ('{free,premium,sales_navigator,recruiter}'::text[])));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_window_chk CHECK ((((window_end >= 1) AND (window_end <= 1440)) AND (window_end > window_start)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_window_start_chk CHECK (((window_start >= 0) AND (window_start <= 1439)));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_withdraw_after_days_chk CHECK (((withdraw_after_days = 0) OR ((withdraw_after_days >= 7) AND (withdraw_after_days <= 180))));
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE login_failures ADD CONSTRAINT login_failures_account_key_chk CHECK ((length(account_key) = 64));
ALTER TABLE login_failures ADD CONSTRAINT login_failures_pkey PRIMARY KEY (id);
ALTER TABLE login_failures ADD CONSTRAINT login_failures_source_chk CHECK (((length(source) >= 1) AND (length(source) <= 64)));
ALTER TABLE memberships ADD CONSTRAINT memberships_role_chk CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'member'::text, 'viewer'::text])));
ALTER TABLE memberships ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE memberships ADD CONSTRAINT memberships_user_workspace_key PRIMARY KEY (user_id, workspace_id);
ALTER TABLE memberships ADD CONSTRAINT memberships_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_attempts_chk CHECK (((attempts >= 0) AND (attempts <= 8)));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_delivered_chk CHECK ((((state = 'delivered'::text) = (delivered_at IS NOT NULL)) AND ((state <> 'delivered'::text) OR (attempts >= 1))));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_endpoint_fk FOREIGN KEY (endpoint_id, workspace_id) REFERENCES outbound_endpoints(id, workspace_id);
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_error_vocabulary_chk CHECK (((last_error IS NULL) OR (last_error ~ '^HTTP [1-5][0-9][0-9]$'::text) OR (last_error = ANY (ARRAY['timeout'::text, 'connection failed'::text, 'TLS error'::text, 'DNS lookup failed'::text, 'refused: private address'::text, 'refused: loopback address'::text, 'refused: link-local address'::text, 'refused: multicast address'::text, 'refused: unspecified address'::text, 'refused: reserved address'::text, 'refused: Keel''s own address'::text, 'endpoint deleted'::text, 'endpoint disabled'::text, 'gave up'::text]))));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_event_fk FOREIGN KEY (event_id, workspace_id) REFERENCES outbound_events(id, workspace_id);
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_failed_chk CHECK (((state <> 'failed'::text) OR ((last_error IS NOT NULL) AND (length(last_error) > 0))));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_next_chk CHECK (((state = 'pending'::text) = (next_attempt_at IS NOT NULL)));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_once_uniq UNIQUE (event_id, endpoint_id);
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_pkey PRIMARY KEY (id);
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_state_chk CHECK ((state = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])));
ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_attempt_chk CHECK (((attempt >= 1) AND (attempt <= 8)));
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES outbound_deliveries(id);
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_duration_chk CHECK ((duration_ms >= 0));
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_error_vocabulary_chk CHECK (((error IS NULL) OR (error ~ '^HTTP [1-5][0-9][0-9]$'::text) OR (error = ANY (ARRAY['timeout'::text, 'connection failed'::text, 'TLS error'::text, 'DNS lookup failed'::text, 'refused: private address'::text, 'refused: loopback address'::text, 'refused: link-local address'::text, 'refused: multicast address'::text, 'refused: unspecified address'::text, 'refused: reserved address'::text, 'refused: Keel''s own address'::text]))));
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_once_uniq UNIQUE (delivery_id, attempt);
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_outcome_chk CHECK (((error IS NOT NULL) OR ((status_code >= 200) AND (status_code <= 299))));
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_pkey PRIMARY KEY (id);
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_status_chk CHECK (((status_code IS NULL) OR ((status_code >= 100) AND (status_code <= 599))));
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_deleted_chk CHECK (((deleted_at IS NULL) OR ((NOT active) AND (secret = ''::text))));
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_disabled_chk CHECK ((((disabled_at IS NULL) = (disabled_reason IS NULL)) AND ((disabled_at IS NULL) OR ((NOT active) AND (failing_since IS NOT NULL) AND (length(disabled_reason) > 0)))));
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_pkey PRIMARY KEY (id);
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_secret_chk CHECK (((deleted_at IS NOT NULL) OR (length(secret) >= 32)));
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_url_chk CHECK (((url ~ '^https?://'::text) AND (length(url) <= 2048)));
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_ws_uniq UNIQUE (id, workspace_id);
ALTER TABLE outbound_events ADD CONSTRAINT outbound_events_pkey PRIMARY KEY (id);
ALTER TABLE outbound_events ADD CONSTRAINT outbound_events_type_chk CHECK ((type = ANY (ARRAY['linkedin.invite_accepted'::text, 'linkedin.reply_received'::text, 'linkedin.message_sent'::text, 'linkedin.account_disconnected'::text, 'linkedin.account_connected'::text])));
ALTER TABLE outbound_events ADD CONSTRAINT outbound_events_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE outbound_events ADD CONSTRAINT outbound_events_ws_uniq UNIQUE (id, workspace_id);
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_every_chk CHECK ((every_ms > 0));
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_finished_chk CHECK (((last_finished_at IS NULL) OR (last_started_at IS NOT NULL)));
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_lease_chk CHECK (((lease_owner IS NULL) = (lease_until IS NULL)));
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_lease_owner_chk CHECK (((lease_owner IS NULL) OR (lease_owner <> ''::text)));
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_lease_started_chk CHECK (((lease_until IS NULL) OR ((last_started_at IS NOT NULL) AND (lease_until > last_started_at))));
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_pkey PRIMARY KEY (task);
ALTER TABLE periodic_task_runs ADD CONSTRAINT periodic_task_runs_task_chk CHECK ((task ~ '^[a-z][a-z0-9_]*$'::text));
ALTER TABLE prospects ADD CONSTRAINT prospects_custom_fields_chk CHECK ((jsonb_typeof((custom_fields)::jsonb) = 'object'::text));
ALTER TABLE prospects ADD CONSTRAINT prospects_id_workspace_key UNIQUE (id, workspace_id);
ALTER TABLE prospects ADD CONSTRAINT prospects_identifier_chk CHECK (((public_slug IS NOT NULL) OR (sales_nav_id IS NOT NULL) OR (provider_id IS NOT NULL)));
ALTER TABLE prospects ADD CONSTRAINT prospects_linkedin_url_chk CHECK ((((linkedin_url IS NULL) = (public_slug IS NULL)) AND ((linkedin_url IS NULL) OR (substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/'::text))));
ALTER TABLE prospects ADD CONSTRAINT prospects_member_id_chk CHECK (((length(member_id) >= 1) AND (length(member_id) <= 200)));
ALTER TABLE prospects ADD CONSTRAINT prospects_pkey PRIMARY KEY (id);
ALTER TABLE prospects ADD CONSTRAINT prospects_provider_id_chk CHECK (((length(provider_id) >= 1) AND (length(provider_id) <= 200)));
ALTER TABLE prospects ADD CONSTRAINT prospects_public_handle_chk CHECK ((((length(public_handle) >= 1) AND (length(public_handle) <= 200)) AND (public_handle = lower(public_handle))));
ALTER TABLE prospects ADD CONSTRAINT prospects_public_slug_chk CHECK (((length(public_slug) >= 1) AND (length(public_slug) <= 200)));
ALTER TABLE prospects ADD CONSTRAINT prospects_sales_nav_id_chk CHECK (((length(sales_nav_id) >= 1) AND (length(sales_nav_id) <= 200)));
ALTER TABLE prospects ADD CONSTRAINT prospects_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_action_chk CHECK ((action = ANY (ARRAY['invite'::text, 'message'::text, 'inmail'::text, 'view_profile'::text, 'withdraw'::text])));
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_credits_inmail_chk CHECK (((kind <> 'credits'::text) OR (action = 'inmail'::text)));
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_kind_chk CHECK ((kind = ANY (ARRAY['cooldown'::text, 'credits'::text])));
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_pkey PRIMARY KEY (account_id, action, kind);
ALTER TABLE sends ADD CONSTRAINT sends_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE sends ADD CONSTRAINT sends_action_chk CHECK ((action = ANY (ARRAY['invite'::text, 'message'::text, 'inmail'::text, 'view_profile'::text, 'withdraw'::text, 'reply'::text])));
ALTER TABLE sends ADD CONSTRAINT sends_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(id);
ALTER TABLE sends ADD CONSTRAINT sends_confirmed_chat_chk CHECK (((state <> 'confirmed'::text) OR (action <> ALL (ARRAY['message'::text, 'inmail'::text, 'reply'::text])) OR (chat_id IS NOT NULL) OR (settled_by IS NOT NULL)));
ALTER TABLE sends ADD CONSTRAINT sends_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations(id);
ALTER TABLE sends ADD CONSTRAINT sends_dispatched_at_chk CHECK (((state = ANY (ARRAY['intent'::text, 'cancelled'::text])) OR (dispatched_at IS NOT NULL)));
ALTER TABLE sends ADD CONSTRAINT sends_enrollment_id_fkey FOREIGN KEY (enrollment_id) REFERENCES enrollments(id);
ALTER TABLE sends ADD CONSTRAINT sends_failed_error_chk CHECK (((state <> ALL (ARRAY['failed'::text, 'cancelled'::text])) OR ((error IS NOT NULL) AND (length(error) > 0))));
ALTER TABLE sends ADD CONSTRAINT sends_finished_chk CHECK (((state = ANY (ARRAY['confirmed'::text, 'failed'::text, 'cancelled'::text])) = (finished_at IS NOT NULL)));
ALTER TABLE sends ADD CONSTRAINT sends_note_invite_chk CHECK (((NOT with_note) OR (action = 'invite'::text)));
ALTER TABLE sends ADD CONSTRAINT sends_parked_chk CHECK (((parked_at IS NULL) OR (state = 'unknown'::text)));
ALTER TABLE sends ADD CONSTRAINT sends_pkey PRIMARY KEY (id);
ALTER TABLE sends ADD CONSTRAINT sends_prospect_id_fkey FOREIGN KEY (prospect_id) REFERENCES prospects(id);
ALTER TABLE sends ADD CONSTRAINT sends_reply_chk CHECK ((((action = 'reply'::text) = ((conversation_id IS NOT NULL) AND (reply_text IS NOT NULL))) AND ((action = 'reply'::text) OR ((campaign_id IS NOT NULL) AND (enrollment_id IS NOT NULL) AND (prospect_id IS NOT NULL) AND (step_id IS NOT NULL))) AND ((action <> 'reply'::text) OR ((campaign_id IS NULL) AND (enrollment_id IS NULL) AND (step_id IS NULL)))));
ALTER TABLE sends ADD CONSTRAINT sends_reply_text_chk CHECK (((length(reply_text) >= 1) AND (length(reply_text) <= 8000)));
ALTER TABLE sends ADD CONSTRAINT sends_settled_chk CHECK ((((settled_by IS NULL) = (settled_at IS NULL)) AND ((settled_by IS NULL) OR (((length(settled_by) >= 1) AND (length(settled_by) <= 200)) AND (state = ANY (ARRAY['confirmed'::text, 'failed'::text]))))));
ALTER TABLE sends ADD CONSTRAINT sends_state_chk CHECK ((state = ANY (ARRAY['intent'::text, 'dispatched'::text, 'confirmed'::text, 'failed'::text, 'unknown'::text, 'cancelled'::text])));
ALTER TABLE sends ADD CONSTRAINT sends_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_account_id_fkey FOREIGN KEY (account_id) REFERENCES linkedin_accounts(id);
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_identity_chk CHECK ((((provider_id IS NOT NULL) AND (person_key = provider_id)) OR ((provider_id IS NULL) AND (public_handle IS NOT NULL) AND (person_key = ('handle:'::text || public_handle)))));
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_person_key UNIQUE (account_id, person_key);
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_person_key_chk CHECK (((length(person_key) >= 1) AND (length(person_key) <= 220)));
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_pkey PRIMARY KEY (id);
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_provider_id_chk CHECK (((length(provider_id) >= 1) AND (length(provider_id) <= 200)));
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_public_handle_chk CHECK (((length(public_handle) >= 1) AND (length(public_handle) <= 200)));
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_source_chk CHECK (((length(source) >= 1) AND (length(source) <= 50)));
ALTER TABLE unmatched_accepts ADD CONSTRAINT unmatched_accepts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE users ADD CONSTRAINT users_email_chk CHECK (((email = lower(email)) AND ((length(email) >= 3) AND (length(email) <= 254)) AND (email ~~ '%_@_%'::text)));
ALTER TABLE users ADD CONSTRAINT users_password_hash_chk CHECK ((substr(password_hash, 1, 4) = ANY (ARRAY['$2a$'::text, '$2b$'::text, '$2y$'::text])));
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE users ADD CONSTRAINT users_workspace_email_key UNIQUE (workspace_id, email);
ALTER TABLE users ADD CONSTRAINT users_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces(id);
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_csrf_chk CHECK ((length(csrf) >= 43));
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_id_hash_chk CHECK ((length(id_hash) = 64));
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_membership_fk FOREIGN KEY (user_id, workspace_id) REFERENCES memberships(user_id, workspace_id) ON DELETE CASCADE;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (id_hash);
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_times_chk CHECK (((last_seen_at >= created_at) AND (expires_at > last_seen_at)));
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_user_pair_chk CHECK (((user_id IS NULL) = (workspace_id IS NULL)));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_account_status_chk CHECK (((source <> 'account_status'::text) OR ((provider_account_id IS NOT NULL) AND (status_message IS NOT NULL))));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_attempts_chk CHECK ((attempts >= 0));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_claim_chk CHECK (((state = 'pending'::text) OR (claimed_until IS NULL)));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_dedupe_key_chk CHECK (((length(dedupe_key) >= 1) AND (length(dedupe_key) <= 200)));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_dedupe_key_key UNIQUE (dedupe_key);
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_deliveries_chk CHECK ((deliveries >= 1));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_payload_chk CHECK ((json_typeof((payload)::json) = 'object'::text));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_pkey PRIMARY KEY (id);
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_processed_chk CHECK (((state = 'pending'::text) = (processed_at IS NULL)));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_received_chk CHECK ((last_received_at >= received_at));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_source_chk CHECK ((source = ANY (ARRAY['account_status'::text, 'users'::text, 'messaging'::text, 'unknown'::text])));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_state_chk CHECK ((state = ANY (ARRAY['pending'::text, 'processed'::text, 'ignored'::text, 'failed'::text])));
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_unknown_ignored_chk CHECK (((source <> 'unknown'::text) OR (state = 'ignored'::text)));
ALTER TABLE workspaces ADD CONSTRAINT workspaces_pkey PRIMARY KEY (id);
ALTER TABLE workspaces ADD CONSTRAINT workspaces_recontact_cooloff_days_chk CHECK (((recontact_cooloff_days >= 0) AND (recontact_cooloff_days <= 3650)));
ALTER TABLE workspaces ADD CONSTRAINT workspaces_sender_handoff_hours_chk CHECK (((sender_handoff_hours >= 1) AND (sender_handoff_hours <= 720)));
ALTER TABLE workspaces ADD CONSTRAINT workspaces_slug_chk CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'::text));
ALTER TABLE workspaces ADD CONSTRAINT workspaces_slug_key UNIQUE (slug);

-- indexes
CREATE INDEX account_health_checked_idx ON account_health USING btree (last_checked_at);
CREATE INDEX account_health_claim_idx ON account_health USING btree (claim_token) WHERE (claim_token IS NOT NULL);
CREATE INDEX account_health_due_idx ON account_health USING btree (next_check_at);
CREATE UNIQUE INDEX account_health_pkey ON account_health USING btree (account_id);
CREATE UNIQUE INDEX account_pacing_pkey ON account_pacing USING btree (account_id);
CREATE UNIQUE INDEX account_tags_pkey ON account_tags USING btree (account_id, tag);
CREATE INDEX account_tags_tag_idx ON account_tags USING btree (tag, account_id);
CREATE INDEX account_tier_changes_account_idx ON account_tier_changes USING btree (account_id, id);
CREATE UNIQUE INDEX account_tier_changes_pkey ON account_tier_changes USING btree (id);
CREATE UNIQUE INDEX admin_alerts_open_dedupe_idx ON admin_alerts USING btree (dedupe_key) WHERE (acknowledged_at IS NULL);
CREATE UNIQUE INDEX admin_alerts_pkey ON admin_alerts USING btree (id);
CREATE INDEX admin_alerts_workspace_idx ON admin_alerts USING btree (workspace_id, created_at);
CREATE UNIQUE INDEX api_tokens_pkey ON api_tokens USING btree (id);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens USING btree (token_hash);
CREATE INDEX api_tokens_workspace_idx ON api_tokens USING btree (workspace_id);
CREATE INDEX campaign_accounts_account_idx ON campaign_accounts USING btree (account_id);
CREATE UNIQUE INDEX campaign_accounts_pkey ON campaign_accounts USING btree (campaign_id, account_id);
CREATE INDEX campaign_send_counts_campaign_idx ON campaign_send_counts USING btree (campaign_id, scope, key, action, measure);
CREATE UNIQUE INDEX campaign_send_counts_pkey ON campaign_send_counts USING btree (id);
CREATE UNIQUE INDEX campaigns_id_workspace_key ON campaigns USING btree (id, workspace_id);
CREATE UNIQUE INDEX campaigns_pkey ON campaigns USING btree (id);
CREATE INDEX campaigns_status_idx ON campaigns USING btree (status);
CREATE INDEX campaigns_workspace_idx ON campaigns USING btree (workspace_id, id);
CREATE UNIQUE INDEX conversation_messages_pkey ON conversation_messages USING btree (id);
CREATE UNIQUE INDEX conversation_messages_provider_key ON conversation_messages USING btree (conversation_id, provider_message_id);
CREATE INDEX conversation_messages_thread_idx ON conversation_messages USING btree (conversation_id, sent_at, id);
CREATE UNIQUE INDEX conversations_chat_key ON conversations USING btree (account_id, provider_chat_id);
CREATE INDEX conversations_list_idx ON conversations USING btree (workspace_id, last_message_at DESC, id);
CREATE UNIQUE INDEX conversations_pkey ON conversations USING btree (id);
CREATE INDEX conversations_prospect_idx ON conversations USING btree (prospect_id) WHERE (prospect_id IS NOT NULL);
CREATE UNIQUE INDEX do_not_contact_company_url_uidx ON do_not_contact USING btree (workspace_id, company_url) WHERE (company_url IS NOT NULL);
CREATE INDEX do_not_contact_list_idx ON do_not_contact USING btree (workspace_id, id);
CREATE UNIQUE INDEX do_not_contact_pkey ON do_not_contact USING btree (id);
CREATE UNIQUE INDEX do_not_contact_provider_id_uidx ON do_not_contact USING btree (workspace_id, provider_id) WHERE (provider_id IS NOT NULL);
CREATE UNIQUE INDEX do_not_contact_slug_uidx ON do_not_contact USING btree (workspace_id, public_slug) WHERE (public_slug IS NOT NULL);
CREATE UNIQUE INDEX do_not_contact_removals_pkey ON do_not_contact_removals USING btree (entry_id);
CREATE INDEX do_not_contact_removals_workspace_idx ON do_not_contact_removals USING btree (workspace_id, removed_at);
CREATE INDEX enrollment_state_counts_campaign_idx ON enrollment_state_counts USING btree (campaign_id, state);
CREATE UNIQUE INDEX enrollment_state_counts_pkey ON enrollment_state_counts USING btree (id);
CREATE INDEX enrollment_step_counts_campaign_idx ON enrollment_step_counts USING btree (campaign_id, account_id, step_id);
CREATE UNIQUE INDEX enrollment_step_counts_pkey ON enrollment_step_counts USING btree (id);
CREATE INDEX enrollments_account_due_idx ON enrollments USING btree (account_id, next_action_at, id) WHERE (state = 'active'::text);
CREATE INDEX enrollments_campaign_due_idx ON enrollments USING btree (campaign_id, account_id, step_id, next_action_at, id) WHERE ((state = 'active'::text) AND ((parked_by IS NULL) OR (parked_by <> 'template_variable_missing'::text)));
CREATE INDEX enrollments_campaign_ended_idx ON enrollments USING btree (campaign_id, ended_reason text_pattern_ops) WHERE (state = 'ended'::text);
CREATE INDEX enrollments_campaign_live_idx ON enrollments USING btree (campaign_id, step_id, replied_at, next_action_at, account_id, state) INCLUDE (accepted_at, id) WHERE (state = ANY (ARRAY['active'::text, 'soft_paused'::text]));
CREATE INDEX enrollments_campaign_page_idx ON enrollments USING btree (campaign_id, id);
CREATE INDEX enrollments_campaign_parked_idx ON enrollments USING btree (campaign_id, parked_by, state, next_action_at) WHERE (parked_by IS NOT NULL);
CREATE UNIQUE INDEX enrollments_campaign_prospect_key ON enrollments USING btree (campaign_id, prospect_id);
CREATE INDEX enrollments_campaign_state_page_idx ON enrollments USING btree (campaign_id, state, id);
CREATE INDEX enrollments_due_idx ON enrollments USING btree (next_action_at) WHERE (state = 'active'::text);
CREATE UNIQUE INDEX enrollments_one_live_per_person_uidx ON enrollments USING btree (workspace_id, prospect_id) WHERE (state = ANY (ARRAY['pending'::text, 'active'::text, 'soft_paused'::text]));
CREATE UNIQUE INDEX enrollments_pkey ON enrollments USING btree (id);
CREATE INDEX enrollments_prospect_idx ON enrollments USING btree (prospect_id);
CREATE INDEX enrollments_sender_idx ON enrollments USING btree (account_id, state);
CREATE INDEX enrollments_step_due_idx ON enrollments USING btree (campaign_id, step_id, next_action_at) WHERE (state = 'active'::text);
CREATE INDEX health_disconnects_applied_idx ON health_disconnects USING btree (decided_at) WHERE (state = 'applied'::text);
CREATE INDEX health_disconnects_held_idx ON health_disconnects USING btree (requested_at) WHERE (state = 'held'::text);
CREATE UNIQUE INDEX health_disconnects_one_held_idx ON health_disconnects USING btree (account_id) WHERE (state = 'held'::text);
CREATE UNIQUE INDEX health_disconnects_pkey ON health_disconnects USING btree (id);
CREATE UNIQUE INDEX health_guard_pkey ON health_guard USING btree (id);
CREATE INDEX hosted_auth_failures_account_idx ON hosted_auth_failures USING btree (account_id, created_at);
CREATE UNIQUE INDEX hosted_auth_failures_pkey ON hosted_auth_failures USING btree (link_id);
CREATE UNIQUE INDEX hosted_auth_links_pkey ON hosted_auth_links USING btree (id);
CREATE UNIQUE INDEX hosted_auth_links_token_hash_key ON hosted_auth_links USING btree (token_hash);
CREATE INDEX hosted_auth_links_workspace_idx ON hosted_auth_links USING btree (workspace_id, created_at);
CREATE UNIQUE INDEX inbox_backfill_chats_pkey ON inbox_backfill_chats USING btree (account_id, provider_chat_id);
CREATE INDEX inbox_backfill_chats_todo_idx ON inbox_backfill_chats USING btree (account_id) WHERE (NOT done);
CREATE UNIQUE INDEX inbox_backfills_pkey ON inbox_backfills USING btree (account_id);
CREATE INDEX inmail_top_ups_account_idx ON inmail_top_ups USING btree (account_id, id);
CREATE UNIQUE INDEX inmail_top_ups_pkey ON inmail_top_ups USING btree (id);
CREATE UNIQUE INDEX invitation_syncs_pkey ON invitation_syncs USING btree (account_id);
CREATE INDEX invitations_pending_idx ON invitations USING btree (account_id, sent_at) WHERE (state = 'pending'::text);
CREATE UNIQUE INDEX invitations_pkey ON invitations USING btree (id);
CREATE INDEX invitations_prospect_idx ON invitations USING btree (prospect_id, state) WHERE (prospect_id IS NOT NULL);
CREATE UNIQUE INDEX invitations_provider_uidx ON invitations USING btree (account_id, provider_invitation_id) WHERE (provider_invitation_id IS NOT NULL);
CREATE UNIQUE INDEX invitations_send_id_key ON invitations USING btree (send_id);
CREATE INDEX invitations_withdraw_due_idx ON invitations USING btree (withdraw_at) WHERE (withdraw_at IS NOT NULL);
CREATE INDEX linkedin_account_status_audit_account_idx ON linkedin_account_status_audit USING btree (account_id, id);
CREATE UNIQUE INDEX linkedin_account_status_audit_pkey ON linkedin_account_status_audit USING btree (id);
CREATE UNIQUE INDEX linkedin_accounts_id_workspace_uidx ON linkedin_accounts USING btree (id, workspace_id);
CREATE UNIQUE INDEX linkedin_accounts_pkey ON linkedin_accounts USING btree (id);
CREATE UNIQUE INDEX linkedin_accounts_provider_account_id_key ON linkedin_accounts USING btree (provider_account_id);
CREATE INDEX linkedin_accounts_workspace_idx ON linkedin_accounts USING btree (workspace_id, id);
CREATE INDEX linkedin_accounts_workspace_name_idx ON linkedin_accounts USING btree (workspace_id, lower(name), id);
CREATE INDEX login_failures_account_idx ON login_failures USING btree (account_key, at);
CREATE INDEX login_failures_at_idx ON login_failures USING btree (at);
CREATE UNIQUE INDEX login_failures_pkey ON login_failures USING btree (id);
CREATE INDEX login_failures_source_idx ON login_failures USING btree (source, at);
CREATE UNIQUE INDEX memberships_user_workspace_key ON memberships USING btree (user_id, workspace_id);
CREATE INDEX memberships_workspace_idx ON memberships USING btree (workspace_id);
CREATE INDEX outbound_deliveries_due_idx ON outbound_deliveries USING btree (next_attempt_at) WHERE (state = 'pending'::text);
CREATE UNIQUE INDEX outbound_deliveries_once_uniq ON outbound_deliveries USING btree (event_id, endpoint_id);
CREATE UNIQUE INDEX outbound_deliveries_pkey ON outbound_deliveries USING btree (id);
CREATE INDEX outbound_deliveries_workspace_idx ON outbound_deliveries USING btree (workspace_id, created_at, id);
CREATE UNIQUE INDEX outbound_delivery_attempts_once_uniq ON outbound_delivery_attempts USING btree (delivery_id, attempt);
CREATE UNIQUE INDEX outbound_delivery_attempts_pkey ON outbound_delivery_attempts USING btree (id);
CREATE UNIQUE INDEX outbound_endpoints_pkey ON outbound_endpoints USING btree (id);
CREATE UNIQUE INDEX outbound_endpoints_url_uidx ON outbound_endpoints USING btree (workspace_id, url) WHERE (deleted_at IS NULL);
CREATE UNIQUE INDEX outbound_endpoints_ws_uniq ON outbound_endpoints USING btree (id, workspace_id);
CREATE UNIQUE INDEX outbound_events_pkey ON outbound_events USING btree (id);
CREATE INDEX outbound_events_workspace_idx ON outbound_events USING btree (workspace_id, created_at);
CREATE UNIQUE INDEX outbound_events_ws_uniq ON outbound_events USING btree (id, workspace_id);
CREATE UNIQUE INDEX periodic_task_runs_pkey ON periodic_task_runs USING btree (task);
CREATE UNIQUE INDEX prospects_id_workspace_key ON prospects USING btree (id, workspace_id);
CREATE INDEX prospects_member_id_idx ON prospects USING btree (workspace_id, member_id) WHERE (member_id IS NOT NULL);
CREATE UNIQUE INDEX prospects_pkey ON prospects USING btree (id);
CREATE UNIQUE INDEX prospects_provider_id_uidx ON prospects USING btree (workspace_id, provider_id) WHERE (provider_id IS NOT NULL);
CREATE INDEX prospects_public_handle_idx ON prospects USING btree (workspace_id, public_handle) WHERE (public_handle IS NOT NULL);
CREATE UNIQUE INDEX prospects_public_slug_uidx ON prospects USING btree (workspace_id, public_slug) WHERE (public_slug IS NOT NULL);
CREATE UNIQUE INDEX prospects_sales_nav_id_uidx ON prospects USING btree (workspace_id, sales_nav_id) WHERE (sales_nav_id IS NOT NULL);
CREATE UNIQUE INDEX send_blocks_pkey ON send_blocks USING btree (account_id, action, kind);
CREATE INDEX sends_account_action_idx ON sends USING btree (account_id, action, claimed_at);
CREATE INDEX sends_campaign_action_idx ON sends USING btree (campaign_id, action, claimed_at);
CREATE INDEX sends_campaign_unknown_idx ON sends USING btree (campaign_id, claimed_at, id) WHERE (state = 'unknown'::text);
CREATE INDEX sends_conversation_idx ON sends USING btree (conversation_id, claimed_at) WHERE (conversation_id IS NOT NULL);
CREATE INDEX sends_enrollment_confirmed_idx ON sends USING btree (enrollment_id, campaign_id, action, account_id, step_id, dispatched_at) WHERE (state = 'confirmed'::text);
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends USING btree (campaign_id, step_id, prospect_id, action) WHERE (state <> ALL (ARRAY['failed'::text, 'cancelled'::text]));
CREATE INDEX sends_open_idx ON sends USING btree (state, claimed_at) WHERE (state = ANY (ARRAY['intent'::text, 'dispatched'::text, 'unknown'::text]));
CREATE UNIQUE INDEX sends_pkey ON sends USING btree (id);
CREATE UNIQUE INDEX unmatched_accepts_person_key ON unmatched_accepts USING btree (account_id, person_key);
CREATE UNIQUE INDEX unmatched_accepts_pkey ON unmatched_accepts USING btree (id);
CREATE INDEX unmatched_accepts_workspace_idx ON unmatched_accepts USING btree (workspace_id, seen_at);
CREATE UNIQUE INDEX users_id_workspace_key ON users USING btree (id, workspace_id);
CREATE UNIQUE INDEX users_pkey ON users USING btree (id);
CREATE UNIQUE INDEX users_workspace_email_key ON users USING btree (workspace_id, email);
CREATE INDEX web_sessions_expires_idx ON web_sessions USING btree (expires_at);
CREATE UNIQUE INDEX web_sessions_pkey ON web_sessions USING btree (id_hash);
CREATE INDEX web_sessions_user_idx ON web_sessions USING btree (user_id);
CREATE UNIQUE INDEX webhook_inbox_dedupe_key_key ON webhook_inbox USING btree (dedupe_key);
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox USING btree (id) WHERE (state = 'pending'::text);
CREATE UNIQUE INDEX webhook_inbox_pkey ON webhook_inbox USING btree (id);
CREATE INDEX webhook_inbox_status_account_idx ON webhook_inbox USING btree (provider_account_id, id) WHERE (source = 'account_status'::text);
CREATE UNIQUE INDEX workspaces_pkey ON workspaces USING btree (id);
CREATE UNIQUE INDEX workspaces_slug_key ON workspaces USING btree (slug);

-- triggers
CREATE TRIGGER account_tier_changes_append_only BEFORE DELETE OR UPDATE ON account_tier_changes FOR EACH ROW EXECUTE FUNCTION account_tier_changes_append_only();
CREATE TRIGGER api_tokens_revocation_final BEFORE UPDATE ON api_tokens FOR EACH ROW EXECUTE FUNCTION api_tokens_revocation_final();
CREATE TRIGGER campaign_accounts_removal_guard BEFORE UPDATE OF removed_at ON campaign_accounts FOR EACH ROW WHEN (((new.removed_at IS NOT NULL) AND (old.removed_at IS NULL))) EXECUTE FUNCTION campaign_accounts_removal_guard();
CREATE TRIGGER campaign_send_counts_immutable BEFORE UPDATE ON campaign_send_counts FOR EACH ROW EXECUTE FUNCTION campaign_send_counts_immutable();
CREATE TRIGGER enrollment_state_counts_immutable BEFORE UPDATE ON enrollment_state_counts FOR EACH ROW EXECUTE FUNCTION enrollment_state_counts_immutable();
CREATE TRIGGER enrollment_step_counts_immutable BEFORE UPDATE ON enrollment_step_counts FOR EACH ROW EXECUTE FUNCTION enrollment_step_counts_immutable();
CREATE TRIGGER campaign_send_counts_stamped AFTER UPDATE ON enrollments REFERENCING OLD TABLE AS enrollment_stamps_before NEW TABLE AS enrollment_stamps_after FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_stamped();
CREATE TRIGGER enrollment_state_counts_added AFTER INSERT ON enrollments REFERENCING NEW TABLE AS enrollment_rows_added FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_added();
CREATE TRIGGER enrollment_state_counts_moved AFTER UPDATE ON enrollments REFERENCING OLD TABLE AS enrollment_rows_before NEW TABLE AS enrollment_rows_after FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_moved();
CREATE TRIGGER enrollment_state_counts_removed AFTER DELETE ON enrollments REFERENCING OLD TABLE AS enrollment_rows_removed FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_removed();
CREATE TRIGGER enrollment_step_counts_added AFTER INSERT ON enrollments REFERENCING NEW TABLE AS enrollment_steps_added FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_added();
CREATE TRIGGER enrollment_step_counts_moved AFTER UPDATE ON enrollments REFERENCING OLD TABLE AS enrollment_steps_before NEW TABLE AS enrollment_steps_after FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_moved();
CREATE TRIGGER enrollment_step_counts_removed AFTER DELETE ON enrollments REFERENCING OLD TABLE AS enrollment_steps_removed FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_removed();
CREATE TRIGGER enrollments_ended_at BEFORE INSERT OR UPDATE OF state ON enrollments FOR EACH ROW EXECUTE FUNCTION enrollments_ended_at();
CREATE TRIGGER enrollments_sender_current BEFORE INSERT OR UPDATE OF state, account_id ON enrollments FOR EACH ROW EXECUTE FUNCTION enrollments_sender_current();
CREATE TRIGGER health_disconnects_final BEFORE DELETE OR UPDATE ON health_disconnects FOR EACH ROW EXECUTE FUNCTION health_disconnects_final();
CREATE TRIGGER hosted_auth_links_guard BEFORE INSERT OR UPDATE ON hosted_auth_links FOR EACH ROW EXECUTE FUNCTION hosted_auth_links_guard();
CREATE TRIGGER inmail_top_ups_no_change BEFORE DELETE OR UPDATE ON inmail_top_ups FOR EACH ROW EXECUTE FUNCTION inmail_top_ups_append_only();
CREATE TRIGGER linkedin_account_status_audit_append_only BEFORE DELETE OR UPDATE ON linkedin_account_status_audit FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_append_only();
CREATE TRIGGER linkedin_account_status_audit_apply BEFORE INSERT ON linkedin_account_status_audit FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_apply();
CREATE TRIGGER linkedin_account_status_audit_no_truncate BEFORE TRUNCATE ON linkedin_account_status_audit FOR EACH STATEMENT EXECUTE FUNCTION linkedin_account_status_audit_append_only();
CREATE TRIGGER linkedin_accounts_audit_creation AFTER INSERT ON linkedin_accounts FOR EACH ROW EXECUTE FUNCTION linkedin_accounts_audit_creation();
CREATE TRIGGER linkedin_accounts_audit_pairing BEFORE UPDATE ON linkedin_accounts FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) AND (pg_trigger_depth() < 1))) EXECUTE FUNCTION linkedin_accounts_status_from_audit();
CREATE TRIGGER linkedin_accounts_tier_guard BEFORE UPDATE OF tier ON linkedin_accounts FOR EACH ROW WHEN ((old.tier IS DISTINCT FROM new.tier)) EXECUTE FUNCTION linkedin_accounts_tier_guard();
CREATE TRIGGER linkedin_accounts_tier_record AFTER UPDATE OF tier ON linkedin_accounts FOR EACH ROW WHEN ((old.tier IS DISTINCT FROM new.tier)) EXECUTE FUNCTION linkedin_accounts_tier_record();
CREATE TRIGGER campaign_send_counts_added AFTER INSERT ON sends REFERENCING NEW TABLE AS send_rows_added FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_added();
CREATE TRIGGER campaign_send_counts_confirmed AFTER UPDATE ON sends REFERENCING OLD TABLE AS send_rows_before NEW TABLE AS send_rows_after FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_confirmed();
CREATE TRIGGER sends_confirmed_final BEFORE UPDATE OF dispatched_at ON sends FOR EACH ROW WHEN (((old.state = 'confirmed'::text) AND (new.dispatched_at IS DISTINCT FROM old.dispatched_at))) EXECUTE FUNCTION sends_confirmed_final();
CREATE TRIGGER sends_no_delete BEFORE DELETE ON sends FOR EACH ROW EXECUTE FUNCTION sends_no_delete();
CREATE TRIGGER sends_outcome_final BEFORE UPDATE ON sends FOR EACH ROW WHEN ((old.state = ANY (ARRAY['confirmed'::text, 'failed'::text, 'cancelled'::text]))) EXECUTE FUNCTION sends_outcome_final();
CREATE TRIGGER sends_reply_identity BEFORE UPDATE ON sends FOR EACH ROW WHEN (((old.conversation_id IS DISTINCT FROM new.conversation_id) OR (old.reply_text IS DISTINCT FROM new.reply_text))) EXECUTE FUNCTION sends_reply_identity();
CREATE TRIGGER sends_state_machine BEFORE UPDATE ON sends FOR EACH ROW WHEN (((old.state IS DISTINCT FROM new.state) OR ((((((((((old.id IS DISTINCT FROM new.id) OR (old.workspace_id IS DISTINCT FROM new.workspace_id)) OR (old.account_id IS DISTINCT FROM new.account_id)) OR (old.campaign_id IS DISTINCT FROM new.campaign_id)) OR (old.enrollment_id IS DISTINCT FROM new.enrollment_id)) OR (old.prospect_id IS DISTINCT FROM new.prospect_id)) OR (old.step_id IS DISTINCT FROM new.step_id)) OR (old.action IS DISTINCT FROM new.action)) OR (old.with_note IS DISTINCT FROM new.with_note)) OR (old.claimed_at IS DISTINCT FROM new.claimed_at)))) EXECUTE FUNCTION sends_state_machine();
CREATE TRIGGER sends_withdraw_of_invite BEFORE INSERT ON sends FOR EACH ROW WHEN ((new.action = 'withdraw'::text)) EXECUTE FUNCTION sends_withdraw_of_invite();
CREATE TRIGGER webhook_inbox_guard BEFORE DELETE OR UPDATE ON webhook_inbox FOR EACH ROW EXECUTE FUNCTION webhook_inbox_guard();

-- views
