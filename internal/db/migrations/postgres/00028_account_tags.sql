-- Account tags (docs/accounts.md#tags): labels an operator sets on an
-- account to group and filter the accounts overview. A tag is 1 to 32
-- characters of lowercase letters, digits, '-' and '_', starting with a
-- letter or digit; an account has each tag at most once.

-- +goose Up
CREATE TABLE account_tags (
    account_id  text NOT NULL REFERENCES linkedin_accounts (id) ON DELETE CASCADE,
    tag         text NOT NULL
                CONSTRAINT account_tags_tag_chk CHECK (tag ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL CONSTRAINT account_tags_created_by_chk CHECK (created_by <> ''),
    PRIMARY KEY (account_id, tag)
);
CREATE INDEX account_tags_tag_idx ON account_tags (tag, account_id);

-- +goose Down
DROP TABLE account_tags;
