-- A concluded send is final (docs/sending.md#the-send-ledger): once
-- confirmed, failed or cancelled, no column of its row changes. The state
-- machine already kept such a row from moving to another state; this also
-- keeps its outcome (reference, chat, error, times, settlement) from being
-- written a second time, as a provider answer that came after the
-- reconciliation would have.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION sends_outcome_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sends_outcome_final: send % is %; a concluded send never changes', OLD.id, OLD.state
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_outcome_final';
END $$;
-- +goose StatementEnd
CREATE TRIGGER sends_outcome_final BEFORE UPDATE ON sends
    FOR EACH ROW WHEN (OLD.state IN ('confirmed', 'failed', 'cancelled'))
    EXECUTE FUNCTION sends_outcome_final();

-- +goose Down
DROP TRIGGER sends_outcome_final ON sends;
DROP FUNCTION sends_outcome_final();
