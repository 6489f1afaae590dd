-- A concluded send is final (see the PostgreSQL migration of the same
-- number): once confirmed, failed or cancelled, no column of its row
-- changes.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER sends_outcome_final
    BEFORE UPDATE ON sends
    WHEN OLD.state IN ('confirmed', 'failed', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'sends_outcome_final: a concluded send never changes');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER sends_outcome_final;
