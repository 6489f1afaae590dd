-- Account tags (docs/accounts.md#tags): labels an operator sets on an
-- account to group and filter the accounts overview. A tag is 1 to 32
-- characters of lowercase letters, digits, '-' and '_', starting with a
-- letter or digit; an account has each tag at most once.
--
-- Failed reconnects (docs/accounts.md#failed-reconnects): a reconnect
-- hosted-auth link that expired unused, or whose callback reported a
-- status that does not complete it, is recorded once per link in
-- hosted_auth_failures, shown in the account's history. It is not a
-- status change: the account's status and audit trail stay as they are.
--
-- Two indexes for the accounts overview of thousands of accounts
-- (docs/surfaces.md#accounts-overview): its status counts read
-- (workspace_id, status) alone, and its pages by name walk
-- (workspace_id, lower(name), id) instead of sorting every account.

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

CREATE TABLE hosted_auth_failures (
    link_id       text PRIMARY KEY REFERENCES hosted_auth_links (id),
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    account_id    text NOT NULL REFERENCES linkedin_accounts (id),
    kind          text NOT NULL CONSTRAINT hosted_auth_failures_kind_chk CHECK (kind IN ('expired', 'failed')),
    detail        text NOT NULL CONSTRAINT hosted_auth_failures_detail_chk CHECK (detail <> ''),
    created_at    timestamptz NOT NULL
);
CREATE INDEX hosted_auth_failures_account_idx ON hosted_auth_failures (account_id, created_at);

CREATE INDEX linkedin_accounts_workspace_status_idx ON linkedin_accounts (workspace_id, status);
CREATE INDEX linkedin_accounts_workspace_name_idx ON linkedin_accounts (workspace_id, lower(name), id);

-- +goose Down
DROP INDEX linkedin_accounts_workspace_name_idx;
DROP INDEX linkedin_accounts_workspace_status_idx;
DROP TABLE hosted_auth_failures;
DROP TABLE account_tags;
