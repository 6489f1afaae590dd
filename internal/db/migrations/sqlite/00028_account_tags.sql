-- Account tags (docs/accounts.md#tags): labels an operator sets on an
-- account to group and filter the accounts overview. A tag is 1 to 32
-- characters of lowercase letters, digits, '-' and '_', starting with a
-- letter or digit; an account has each tag at most once.

-- +goose Up
CREATE TABLE account_tags (
    account_id  TEXT NOT NULL REFERENCES linkedin_accounts (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL
                CONSTRAINT account_tags_tag_chk CHECK (length(tag) BETWEEN 1 AND 32
                    AND tag GLOB '[a-z0-9]*' AND tag NOT GLOB '*[^a-z0-9_-]*'),
    created_at  TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL CONSTRAINT account_tags_created_by_chk CHECK (created_by <> ''),
    PRIMARY KEY (account_id, tag)
);
CREATE INDEX account_tags_tag_idx ON account_tags (tag, account_id);

-- +goose Down
DROP TABLE account_tags;
