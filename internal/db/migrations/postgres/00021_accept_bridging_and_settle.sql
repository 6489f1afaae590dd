-- Accept bridging and unknown outcomes settled by a person
-- (docs/campaigns.md#matching-accepts, docs/sending.md#settling-by-hand):
--   * prospects.member_id / public_handle: the invitee's member id and
--     /in/ handle as the provider resolved them when Keel first addressed
--     the person (a Sales Navigator lead or a provider-id import has
--     neither at import). Not unique: two prospects resolving to one
--     person is an ambiguity the accept path reports, not a write error.
--   * unmatched_accepts: an accept (webhook or poll) that matched no
--     prospect of the workspace, kept once per account and person.
--   * sends.settled_by / settled_at: a person settled an unknown outcome.
--     A message or InMail confirmed by a person may carry no chat id (they
--     saw it on LinkedIn); that is the only confirmed message row without
--     one.

-- +goose Up
ALTER TABLE prospects ADD COLUMN member_id text
    CONSTRAINT prospects_member_id_chk CHECK (length(member_id) BETWEEN 1 AND 200);
ALTER TABLE prospects ADD COLUMN public_handle text
    CONSTRAINT prospects_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200 AND public_handle = lower(public_handle));
CREATE INDEX prospects_member_id_idx ON prospects (workspace_id, member_id) WHERE member_id IS NOT NULL;
CREATE INDEX prospects_public_handle_idx ON prospects (workspace_id, public_handle) WHERE public_handle IS NOT NULL;

CREATE TABLE unmatched_accepts (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    account_id    text NOT NULL REFERENCES linkedin_accounts (id),
    -- person_key is the member id when known, else 'handle:' || handle:
    -- the one key a repeated accept of the same person collides on.
    person_key    text NOT NULL CONSTRAINT unmatched_accepts_person_key_chk CHECK (length(person_key) BETWEEN 1 AND 220),
    provider_id   text CONSTRAINT unmatched_accepts_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    public_handle text CONSTRAINT unmatched_accepts_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200),
    source        text NOT NULL CONSTRAINT unmatched_accepts_source_chk CHECK (length(source) BETWEEN 1 AND 50),
    seen_at       timestamptz NOT NULL,
    CONSTRAINT unmatched_accepts_identity_chk CHECK (
        (provider_id IS NOT NULL AND person_key = provider_id)
        OR (provider_id IS NULL AND public_handle IS NOT NULL AND person_key = 'handle:' || public_handle)),
    CONSTRAINT unmatched_accepts_person_key UNIQUE (account_id, person_key)
);
CREATE INDEX unmatched_accepts_workspace_idx ON unmatched_accepts (workspace_id, seen_at);

ALTER TABLE sends ADD COLUMN settled_by text;
ALTER TABLE sends ADD COLUMN settled_at timestamptz;
ALTER TABLE sends ADD CONSTRAINT sends_settled_chk CHECK ((settled_by IS NULL) = (settled_at IS NULL)
    AND (settled_by IS NULL OR (length(settled_by) BETWEEN 1 AND 200 AND state IN ('confirmed', 'failed'))));
ALTER TABLE sends DROP CONSTRAINT sends_confirmed_chat_chk;
ALTER TABLE sends ADD CONSTRAINT sends_confirmed_chat_chk
    CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL OR settled_by IS NOT NULL);

-- +goose Down
ALTER TABLE sends DROP CONSTRAINT sends_confirmed_chat_chk;
ALTER TABLE sends ADD CONSTRAINT sends_confirmed_chat_chk
    CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL);
ALTER TABLE sends DROP CONSTRAINT sends_settled_chk;
ALTER TABLE sends DROP COLUMN settled_at;
ALTER TABLE sends DROP COLUMN settled_by;
DROP TABLE unmatched_accepts;
DROP INDEX prospects_public_handle_idx;
DROP INDEX prospects_member_id_idx;
ALTER TABLE prospects DROP COLUMN public_handle;
ALTER TABLE prospects DROP COLUMN member_id;
