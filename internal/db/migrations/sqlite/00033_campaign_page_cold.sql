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
CREATE INDEX campaign_send_counts_campaign_idx ON campaign_send_counts (campaign_id, scope, key, action, measure);
-- An enrollment's confirmed sends, for its stamps' triggers.
CREATE INDEX sends_enrollment_confirmed_idx ON sends (enrollment_id, campaign_id, step_id, action, account_id, dispatched_at)
    WHERE state = 'confirmed';

-- A confirmed send's dispatch time is what its reply is compared with: it
-- never changes (nor does anything else of it: sends_state_machine).
-- +goose StatementBegin
CREATE TRIGGER sends_confirmed_final BEFORE UPDATE OF dispatched_at ON sends
    WHEN OLD.state = 'confirmed' AND NEW.dispatched_at IS NOT OLD.dispatched_at
BEGIN
    SELECT RAISE(ABORT, 'sends_confirmed_final: a confirmed send''s dispatch time cannot change');
END;
-- +goose StatementEnd

-- SQLite has row triggers only: each send that becomes confirmed appends
-- its own deltas; "once per prospect" is a send finding no other confirmed
-- send of its prospect before it.
-- +goose StatementBegin
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
-- +goose StatementEnd
-- +goose StatementBegin
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
-- +goose StatementEnd

-- An enrollment's accept stamp set or cleared moves the accepted counts of
-- its confirmed invitations; its reply stamp, the replied counts of its
-- confirmed sends (each compared with the stamp before and after).
-- +goose StatementBegin
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
-- +goose StatementEnd
-- +goose StatementBegin
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
-- +goose StatementEnd

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE TRIGGER campaign_send_counts_immutable BEFORE UPDATE ON campaign_send_counts
BEGIN
    SELECT RAISE(ABORT, 'campaign_send_counts_immutable: a count delta cannot change');
END;
-- +goose StatementEnd

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
DROP TRIGGER campaign_send_counts_immutable;
DROP TRIGGER campaign_send_counts_replied;
DROP TRIGGER campaign_send_counts_accepted;
DROP TRIGGER campaign_send_counts_confirmed;
DROP TRIGGER campaign_send_counts_added;
DROP TRIGGER sends_confirmed_final;
DROP INDEX sends_enrollment_confirmed_idx;
DROP TABLE campaign_send_counts;
DROP INDEX enrollments_campaign_live_idx;
