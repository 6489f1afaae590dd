-- Who Keel contacts (docs/contacts.md):
--   * one live sequence per person per workspace
--     (docs/contacts.md#one-live-sequence): a partial unique index over the
--     live enrollments (pending, active, soft_paused) by (workspace_id,
--     prospect_id). A database that already holds several live enrollments
--     of one person keeps the oldest (created_at, then id) and ends the
--     others with ended_reason 'in_other_campaign'.
--   * enrollments.ended_at: when the sequence left live, kept by triggers
--     (set when the state leaves the live states; the campaign package
--     clears it when a sequence comes back); the re-contact cool-off counts
--     from it (docs/contacts.md#recontact-cooloff). A live enrollment has
--     none. Existing finished rows take their updated_at.
--   * workspaces.recontact_cooloff_days (0..3650, 30 by default) and
--     workspaces.recontact_never: how long after a sequence ended without a
--     reply the person may be enrolled again, or never.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN recontact_cooloff_days INTEGER NOT NULL DEFAULT 30
    CONSTRAINT workspaces_recontact_cooloff_days_chk CHECK (recontact_cooloff_days BETWEEN 0 AND 3650);
ALTER TABLE workspaces ADD COLUMN recontact_never INTEGER NOT NULL DEFAULT 0
    CONSTRAINT workspaces_recontact_never_chk CHECK (recontact_never IN (0, 1));

ALTER TABLE enrollments ADD COLUMN ended_at TIMESTAMP
    CONSTRAINT enrollments_ended_at_chk CHECK (ended_at IS NULL OR state NOT IN ('pending', 'active', 'soft_paused'));
UPDATE enrollments SET ended_at = updated_at WHERE state NOT IN ('pending', 'active', 'soft_paused');

-- Keep the oldest live enrollment of each person; end the others.
UPDATE enrollments
   SET state = 'ended', ended_reason = 'in_other_campaign', next_action_at = NULL, parked_by = NULL,
       updated_at = CURRENT_TIMESTAMP, ended_at = CURRENT_TIMESTAMP
 WHERE state IN ('pending', 'active', 'soft_paused')
   AND EXISTS (SELECT 1 FROM enrollments o
                WHERE o.workspace_id = enrollments.workspace_id AND o.prospect_id = enrollments.prospect_id
                  AND o.state IN ('pending', 'active', 'soft_paused')
                  AND (o.created_at < enrollments.created_at OR (o.created_at = enrollments.created_at AND o.id < enrollments.id)));

-- +goose StatementBegin
CREATE TRIGGER enrollments_ended_at_insert AFTER INSERT ON enrollments
FOR EACH ROW WHEN NEW.state NOT IN ('pending', 'active', 'soft_paused') AND NEW.ended_at IS NULL
BEGIN
    UPDATE enrollments SET ended_at = NEW.updated_at WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER enrollments_ended_at_update AFTER UPDATE OF state ON enrollments
FOR EACH ROW WHEN OLD.state IN ('pending', 'active', 'soft_paused') AND NEW.state NOT IN ('pending', 'active', 'soft_paused')
BEGIN
    UPDATE enrollments SET ended_at = NEW.updated_at WHERE id = NEW.id;
END;
-- +goose StatementEnd

CREATE UNIQUE INDEX enrollments_one_live_per_person_uidx ON enrollments (workspace_id, prospect_id)
    WHERE state IN ('pending', 'active', 'soft_paused');

-- +goose Down
DROP INDEX enrollments_one_live_per_person_uidx;
DROP TRIGGER enrollments_ended_at_update;
DROP TRIGGER enrollments_ended_at_insert;
ALTER TABLE enrollments DROP COLUMN ended_at;
ALTER TABLE workspaces DROP COLUMN recontact_never;
ALTER TABLE workspaces DROP COLUMN recontact_cooloff_days;
