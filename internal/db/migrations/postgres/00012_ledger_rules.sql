-- Ledger rules the database did not yet hold on PostgreSQL:
--   * a send's identity never changes. The state-machine trigger compared
--     the identity columns, but its WHEN clause only woke it for changes of
--     state, account, claim time or action, so an UPDATE of step_id alone
--     (or campaign, prospect, enrollment, workspace) went through. SQLite's
--     trigger has no such clause and refused it.
--   * a note rides only on an invitation; a credits breaker only holds InMail.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sends_state_machine() RETURNS trigger
LANGUAGE plpgsql AS $$
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
$$;
-- +goose StatementEnd
DROP TRIGGER sends_state_machine ON sends;
CREATE TRIGGER sends_state_machine
    BEFORE UPDATE ON sends
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
        OR (OLD.id, OLD.workspace_id, OLD.account_id, OLD.campaign_id, OLD.enrollment_id, OLD.prospect_id, OLD.step_id,
            OLD.action, OLD.with_note, OLD.claimed_at)
           IS DISTINCT FROM (NEW.id, NEW.workspace_id, NEW.account_id, NEW.campaign_id, NEW.enrollment_id, NEW.prospect_id,
            NEW.step_id, NEW.action, NEW.with_note, NEW.claimed_at))
    EXECUTE FUNCTION sends_state_machine();

ALTER TABLE sends ADD CONSTRAINT sends_note_invite_chk CHECK (NOT with_note OR action = 'invite');
ALTER TABLE send_blocks ADD CONSTRAINT send_blocks_credits_inmail_chk CHECK (kind <> 'credits' OR action = 'inmail');

-- +goose Down
ALTER TABLE send_blocks DROP CONSTRAINT send_blocks_credits_inmail_chk;
ALTER TABLE sends DROP CONSTRAINT sends_note_invite_chk;
DROP TRIGGER sends_state_machine ON sends;
CREATE TRIGGER sends_state_machine
    BEFORE UPDATE ON sends
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.account_id IS DISTINCT FROM NEW.account_id
                       OR OLD.claimed_at IS DISTINCT FROM NEW.claimed_at OR OLD.action IS DISTINCT FROM NEW.action)
    EXECUTE FUNCTION sends_state_machine();
