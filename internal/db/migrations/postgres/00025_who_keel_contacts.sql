-- Who Keel contacts (docs/contacts.md):
--   * one live sequence per person per workspace
--     (docs/contacts.md#one-live-sequence): a partial unique index over the
--     live enrollments (pending, active, soft_paused) by (workspace_id,
--     prospect_id). A database that already holds several live enrollments
--     of one person keeps the oldest (created_at, then id) and ends the
--     others with ended_reason 'in_other_campaign'.
--   * enrollments.ended_at: when the sequence left live, kept by a trigger
--     (set when the state leaves the live states, cleared when it comes
--     back); the re-contact cool-off counts from it
--     (docs/contacts.md#recontact-cooloff). A live enrollment has none.
--     Existing finished rows take their updated_at.
--   * workspaces.recontact_cooloff_days (0..3650, 30 by default) and
--     workspaces.recontact_never: how long after a sequence ended without a
--     reply the person may be enrolled again, or never.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN recontact_cooloff_days integer NOT NULL DEFAULT 30;
ALTER TABLE workspaces ADD CONSTRAINT workspaces_recontact_cooloff_days_chk
    CHECK (recontact_cooloff_days BETWEEN 0 AND 3650);
ALTER TABLE workspaces ADD COLUMN recontact_never boolean NOT NULL DEFAULT false;

ALTER TABLE enrollments ADD COLUMN ended_at timestamptz;
UPDATE enrollments SET ended_at = updated_at WHERE state NOT IN ('pending', 'active', 'soft_paused');

-- Keep the oldest live enrollment of each person; end the others.
UPDATE enrollments e
   SET state = 'ended', ended_reason = 'in_other_campaign', next_action_at = NULL, parked_by = NULL,
       updated_at = now(), ended_at = now()
 WHERE e.state IN ('pending', 'active', 'soft_paused')
   AND EXISTS (SELECT 1 FROM enrollments o
                WHERE o.workspace_id = e.workspace_id AND o.prospect_id = e.prospect_id
                  AND o.state IN ('pending', 'active', 'soft_paused')
                  AND (o.created_at < e.created_at OR (o.created_at = e.created_at AND o.id < e.id)));

ALTER TABLE enrollments ADD CONSTRAINT enrollments_ended_at_chk
    CHECK (ended_at IS NULL OR state NOT IN ('pending', 'active', 'soft_paused'));

-- +goose StatementBegin
CREATE FUNCTION enrollments_ended_at() RETURNS trigger
LANGUAGE plpgsql AS $$
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
$$;
-- +goose StatementEnd
CREATE TRIGGER enrollments_ended_at
    BEFORE INSERT OR UPDATE OF state ON enrollments
    FOR EACH ROW EXECUTE FUNCTION enrollments_ended_at();

CREATE UNIQUE INDEX enrollments_one_live_per_person_uidx ON enrollments (workspace_id, prospect_id)
    WHERE state IN ('pending', 'active', 'soft_paused');

-- +goose Down
DROP INDEX enrollments_one_live_per_person_uidx;
DROP TRIGGER enrollments_ended_at ON enrollments;
DROP FUNCTION enrollments_ended_at();
ALTER TABLE enrollments DROP CONSTRAINT enrollments_ended_at_chk;
ALTER TABLE enrollments DROP COLUMN ended_at;
ALTER TABLE workspaces DROP COLUMN recontact_never;
ALTER TABLE workspaces DROP CONSTRAINT workspaces_recontact_cooloff_days_chk;
ALTER TABLE workspaces DROP COLUMN recontact_cooloff_days;
