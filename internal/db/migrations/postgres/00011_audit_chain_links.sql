-- Audit pairing by chain links instead of a "paired" flag.
--
-- Before: a status UPDATE marked its audit row paired (an UPDATE of the
-- audit row, its guard trigger and three index entries per flip), and a
-- deferred trigger checked the flag at commit. Now every audit row records
-- the row it follows (prev_id, set by the insert trigger to the account's
-- newest row, never by the caller), and a unique index lets each row have
-- one successor only. That makes the trail a single line per account, and:
--   * a status UPDATE consumes the account's newest row, which must be this
--     transaction's and describe exactly OLD.status -> NEW.status (a
--     consumed newest row ends where the account is, so it cannot match);
--   * at commit a row is consumed iff its successor starts where it ends,
--     or, with no successor, the account is where it ends.
-- Writing an audit row locks the account row first (account.Flip already
-- holds it), so two transactions writing rows for one account queue on the
-- row lock and never deadlock on the unique index; should they still meet
-- there, the second fails if the first commits.
-- The audit trail becomes strictly append-only (no permitted UPDATE).

-- +goose Up
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
DROP TRIGGER linkedin_account_status_audit_must_pair ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_before_insert ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_guard ON linkedin_account_status_audit;
DROP INDEX linkedin_account_status_audit_unpaired_idx;

ALTER TABLE linkedin_account_status_audit ADD COLUMN prev_id bigint;
UPDATE linkedin_account_status_audit a
   SET prev_id = l.prev
  FROM (SELECT id, lag(id) OVER (PARTITION BY account_id ORDER BY id) AS prev
          FROM linkedin_account_status_audit) l
 WHERE a.id = l.id AND l.prev IS NOT NULL;
ALTER TABLE linkedin_account_status_audit DROP COLUMN paired;
CREATE UNIQUE INDEX linkedin_account_status_audit_prev_uidx ON linkedin_account_status_audit (prev_id);
ALTER TABLE linkedin_account_status_audit ADD CONSTRAINT linkedin_account_status_audit_prev_chk
    CHECK ((from_status IS NULL) = (prev_id IS NULL) AND prev_id < id);

-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    current_status text;
    newest bigint;
BEGIN
    SELECT a.status,
           (SELECT max(s.id) FROM linkedin_account_status_audit s WHERE s.account_id = a.id)
      INTO current_status, newest
      FROM linkedin_accounts a WHERE a.id = NEW.account_id
       FOR UPDATE;
    IF NEW.from_status IS NULL THEN
        IF newest IS NOT NULL OR NEW.to_status IS DISTINCT FROM current_status THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: only the account''s creation row may have no from_status'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
    ELSIF NEW.from_status IS DISTINCT FROM current_status THEN
        RAISE EXCEPTION 'linkedin_account_status_audit: row for account % starts at % but the account is %; use the state-flip helper (account.Flip)',
            NEW.account_id, NEW.from_status, current_status
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
    END IF;
    NEW.prev_id := newest;
    NEW.txid := txid_current();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_link
    BEFORE INSERT ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_link();

-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be changed'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_append_only
    BEFORE UPDATE OR DELETE ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_append_only();
CREATE TRIGGER linkedin_account_status_audit_no_truncate
    BEFORE TRUNCATE ON linkedin_account_status_audit
    FOR EACH STATEMENT EXECUTE FUNCTION linkedin_account_status_audit_append_only();

-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_consumed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ends_where text;
BEGIN
    -- Where the line continues from this row: its successor's start, or,
    -- for the newest row, the account's status.
    SELECT COALESCE((SELECT s.from_status FROM linkedin_account_status_audit s WHERE s.prev_id = NEW.id),
                    (SELECT a.status FROM linkedin_accounts a WHERE a.id = NEW.account_id))
      INTO ends_where;
    IF ends_where IS DISTINCT FROM NEW.to_status THEN
        RAISE EXCEPTION 'linkedin_account_status_audit: row % (% -> %) was never paired with a status change of account %; use the state-flip helper (account.Flip)',
            NEW.id, NEW.from_status, NEW.to_status, NEW.account_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_pairing';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER linkedin_account_status_audit_must_pair
    AFTER INSERT ON linkedin_account_status_audit
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.from_status IS NOT NULL)
    EXECUTE FUNCTION linkedin_account_status_audit_consumed();

-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_consume_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF NEW.status = 'connected' AND NEW.strikes <> 0 THEN
        RAISE EXCEPTION 'linkedin_accounts %: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    SELECT from_status, to_status, txid INTO r
      FROM linkedin_account_status_audit WHERE account_id = NEW.id
     ORDER BY id DESC LIMIT 1;
    IF NOT FOUND OR r.from_status IS DISTINCT FROM OLD.status OR r.to_status IS DISTINCT FROM NEW.status
       OR r.txid <> txid_current() THEN
        RAISE EXCEPTION 'linkedin_accounts %: status change % -> % has no fresh audit row in this transaction; change status only through the state-flip helper (account.Flip)',
            NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_consume_audit();

-- A flip rewrites the account row; with no index on status (a handful of
-- status filters scan a table of at most some thousand rows) and room left
-- on each page, that rewrite is a heap-only update: no index entries and
-- about 40% less WAL per flip.
DROP INDEX linkedin_accounts_status_idx;
ALTER TABLE linkedin_accounts SET (fillfactor = 80);

-- +goose Down
ALTER TABLE linkedin_accounts RESET (fillfactor);
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
DROP TRIGGER linkedin_account_status_audit_must_pair ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_no_truncate ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_append_only ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_link ON linkedin_account_status_audit;
DROP FUNCTION linkedin_accounts_consume_audit();
DROP FUNCTION linkedin_account_status_audit_consumed();
DROP FUNCTION linkedin_account_status_audit_append_only();
DROP FUNCTION linkedin_account_status_audit_link();
ALTER TABLE linkedin_account_status_audit DROP CONSTRAINT linkedin_account_status_audit_prev_chk;
DROP INDEX linkedin_account_status_audit_prev_uidx;
ALTER TABLE linkedin_account_status_audit DROP COLUMN prev_id;
ALTER TABLE linkedin_account_status_audit ADD COLUMN paired boolean NOT NULL DEFAULT true;
ALTER TABLE linkedin_account_status_audit ALTER COLUMN paired SET DEFAULT false;
CREATE INDEX linkedin_account_status_audit_unpaired_idx ON linkedin_account_status_audit (account_id) WHERE NOT paired;
CREATE TRIGGER linkedin_account_status_audit_before_insert
    BEFORE INSERT ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_before_insert();
CREATE TRIGGER linkedin_account_status_audit_guard
    BEFORE UPDATE OR DELETE ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_guard();
CREATE CONSTRAINT TRIGGER linkedin_account_status_audit_must_pair
    AFTER INSERT ON linkedin_account_status_audit
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_must_pair();
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_audit_pairing();
