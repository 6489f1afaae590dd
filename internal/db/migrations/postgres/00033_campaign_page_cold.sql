-- The campaign page's first render of a minute at 100,000 prospects
-- (docs/benchmarks.md#campaign-page). The forecast lists the live prospects its
-- horizon can reach, per step by due time, and counts the rest per sender
-- and step, all from this index: the count reads no row, and replied_at
-- before next_action_at keeps both the unreplied prospects due within the
-- horizon and the replied ones a range each. (state is a column for
-- SQLite, which reads it to check the query's own state term.)

-- +goose Up
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state)
    WHERE state IN ('active', 'soft_paused');

-- A campaign's stats and answer counts (docs/storage.md#campaign-send-counts)
-- are kept by the database beside the ledger, as deltas of (campaign,
-- scope, key, action, measure, n) that the triggers below append and a fold
-- sums: scope 'step' (key: step id, action: the step's) counts the
-- confirmed sends (sent), those of them invitations whose prospect
-- accepted (accepted) and those whose prospect's first reply came at or
-- after the send (replied); scope 'sender' (key: account id) counts its
-- sends and, once per prospect, accepted and replied alike; scope
-- 'campaign' counts, once per prospect, those invited (invited) and of them
-- accepted (accepted), those messaged (messaged) and of them replied
-- (replied). Withdrawals are not counted. A send is counted when it becomes
-- confirmed (a confirmed send never changes: sends_state_machine,
-- sends_confirmed_final), and an enrollment's accept and reply stamps move
-- the counts of its confirmed sends.
CREATE TABLE campaign_send_counts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id text NOT NULL,
    scope text NOT NULL CONSTRAINT campaign_send_counts_scope_chk CHECK (scope IN ('step', 'sender', 'campaign')),
    key text NOT NULL,
    action text NOT NULL,
    measure text NOT NULL CONSTRAINT campaign_send_counts_measure_chk CHECK (
        (scope IN ('step', 'sender') AND measure IN ('sent', 'accepted', 'replied'))
        OR (scope = 'campaign' AND measure IN ('invited', 'accepted', 'messaged', 'replied'))),
    n bigint NOT NULL CONSTRAINT campaign_send_counts_n_chk CHECK (n <> 0),
    CONSTRAINT campaign_send_counts_key_chk CHECK ((scope = 'step') = (action <> '') AND (scope = 'campaign') = (key = ''))
);
CREATE INDEX campaign_send_counts_campaign_idx ON campaign_send_counts (campaign_id, scope, key, action, measure);
-- An enrollment's confirmed sends, for its stamps' trigger.
CREATE INDEX sends_enrollment_confirmed_idx ON sends (enrollment_id, campaign_id, step_id, action, account_id, dispatched_at)
    WHERE state = 'confirmed';

-- A confirmed send's dispatch time is what its reply is compared with: it
-- never changes (nor does anything else of it: sends_state_machine).
-- +goose StatementBegin
CREATE FUNCTION sends_confirmed_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sends_confirmed_final: a confirmed send''s dispatch time cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_confirmed_final';
END $$;
-- +goose StatementEnd
CREATE TRIGGER sends_confirmed_final BEFORE UPDATE OF dispatched_at ON sends
    FOR EACH ROW WHEN (OLD.state = 'confirmed' AND NEW.dispatched_at IS DISTINCT FROM OLD.dispatched_at)
    EXECUTE FUNCTION sends_confirmed_final();

-- Statement-level triggers with transition tables: the sends a statement
-- confirms append their deltas together; "once per prospect" is a
-- prospect none of whose confirmed sends of the kind is older than the
-- statement (each an EXISTS through sends_enrollment_confirmed_idx).
-- +goose StatementBegin
CREATE FUNCTION campaign_send_counts_append(ids text[]) RETURNS void LANGUAGE sql AS $$
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
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION campaign_send_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text[] := ARRAY(SELECT id FROM send_rows_added WHERE state = 'confirmed');
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM campaign_send_counts_append(ids);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION campaign_send_counts_confirmed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text[] := ARRAY(SELECT a.id FROM send_rows_after a JOIN send_rows_before b ON b.id = a.id
        WHERE a.state = 'confirmed' AND b.state <> 'confirmed');
BEGIN
    -- Most updates of a send (claims, dispatches) confirm none.
    IF cardinality(ids) > 0 THEN
        PERFORM campaign_send_counts_append(ids);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_send_counts_added AFTER INSERT ON sends
    REFERENCING NEW TABLE AS send_rows_added
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_added();
CREATE TRIGGER campaign_send_counts_confirmed AFTER UPDATE ON sends
    REFERENCING OLD TABLE AS send_rows_before NEW TABLE AS send_rows_after
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_confirmed();

-- An enrollment's accept stamp set or cleared moves the accepted counts of
-- its confirmed invitations; its reply stamp, the replied counts of its
-- confirmed sends (each compared with the stamp before and after).
-- +goose StatementBegin
CREATE FUNCTION campaign_send_counts_stamped() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_send_counts_stamped AFTER UPDATE ON enrollments
    REFERENCING OLD TABLE AS enrollment_stamps_before NEW TABLE AS enrollment_stamps_after
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_send_counts_stamped();

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE FUNCTION campaign_send_counts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'campaign_send_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_send_counts_immutable';
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_send_counts_immutable BEFORE UPDATE ON campaign_send_counts
    FOR EACH ROW EXECUTE FUNCTION campaign_send_counts_immutable();

-- The ledger as it stands, counted once.
INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
SELECT * FROM (
    SELECT s.campaign_id, 'step' AS scope, s.step_id AS key, s.action, m.measure,
           sum(CASE m.measure WHEN 'sent' THEN 1
               WHEN 'accepted' THEN CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN 1 ELSE 0 END
               ELSE CASE WHEN en.replied_at IS NOT NULL AND en.replied_at >= s.dispatched_at THEN 1 ELSE 0 END END) AS n
      FROM sends s JOIN enrollments en ON en.id = s.enrollment_id,
           (SELECT 'sent' AS measure UNION ALL SELECT 'accepted' UNION ALL SELECT 'replied') m
     WHERE s.state = 'confirmed' AND s.action <> 'withdraw' AND s.campaign_id IS NOT NULL
     GROUP BY s.campaign_id, s.step_id, s.action, m.measure
    UNION ALL
    SELECT s.campaign_id, 'sender', s.account_id, '', m.measure,
           CASE m.measure WHEN 'sent' THEN count(*)
               WHEN 'accepted' THEN count(DISTINCT CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN en.id END)
               ELSE count(DISTINCT CASE WHEN en.replied_at IS NOT NULL AND en.replied_at >= s.dispatched_at THEN en.id END) END
      FROM sends s JOIN enrollments en ON en.id = s.enrollment_id,
           (SELECT 'sent' AS measure UNION ALL SELECT 'accepted' UNION ALL SELECT 'replied') m
     WHERE s.state = 'confirmed' AND s.action <> 'withdraw' AND s.campaign_id IS NOT NULL
     GROUP BY s.campaign_id, s.account_id, m.measure
    UNION ALL
    SELECT s.campaign_id, 'campaign', '', '', m.measure,
           CASE m.measure WHEN 'invited' THEN count(DISTINCT CASE WHEN s.action = 'invite' THEN en.id END)
               WHEN 'accepted' THEN count(DISTINCT CASE WHEN s.action = 'invite' AND en.accepted_at IS NOT NULL THEN en.id END)
               WHEN 'messaged' THEN count(DISTINCT CASE WHEN s.action IN ('message', 'inmail') THEN en.id END)
               ELSE count(DISTINCT CASE WHEN s.action IN ('message', 'inmail') AND en.replied_at IS NOT NULL THEN en.id END) END
      FROM sends s JOIN enrollments en ON en.id = s.enrollment_id,
           (SELECT 'invited' AS measure UNION ALL SELECT 'accepted' UNION ALL SELECT 'messaged' UNION ALL SELECT 'replied') m
     WHERE s.state = 'confirmed' AND s.action <> 'withdraw' AND s.campaign_id IS NOT NULL
     GROUP BY s.campaign_id, m.measure
) counts WHERE n <> 0;

-- +goose Down
DROP TRIGGER campaign_send_counts_immutable ON campaign_send_counts;
DROP FUNCTION campaign_send_counts_immutable();
DROP TRIGGER campaign_send_counts_stamped ON enrollments;
DROP FUNCTION campaign_send_counts_stamped();
DROP TRIGGER campaign_send_counts_confirmed ON sends;
DROP TRIGGER campaign_send_counts_added ON sends;
DROP FUNCTION campaign_send_counts_confirmed();
DROP FUNCTION campaign_send_counts_added();
DROP FUNCTION campaign_send_counts_append(text[]);
DROP TRIGGER sends_confirmed_final ON sends;
DROP FUNCTION sends_confirmed_final();
DROP INDEX sends_enrollment_confirmed_idx;
DROP TABLE campaign_send_counts;
DROP INDEX enrollments_campaign_live_idx;
