-- Ledger rules (see the PostgreSQL migration of the same number): the
-- identity check also covers workspace and note; a note rides only on an
-- invitation; a credits breaker only holds InMail. SQLite cannot add a CHECK
-- to an existing table, so the two rules are triggers that raise with the
-- names PostgreSQL's constraints carry.

-- +goose Up
DROP TRIGGER sends_state_machine;
-- +goose StatementBegin
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
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sends_note_invite_chk
    BEFORE INSERT ON sends
    WHEN NEW.with_note AND NEW.action <> 'invite'
BEGIN
    SELECT RAISE(ABORT, 'sends_note_invite_chk: only an invitation carries a note');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER send_blocks_credits_inmail_chk_insert
    BEFORE INSERT ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER send_blocks_credits_inmail_chk_update
    BEFORE UPDATE ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER send_blocks_credits_inmail_chk_update;
DROP TRIGGER send_blocks_credits_inmail_chk_insert;
DROP TRIGGER sends_note_invite_chk;
