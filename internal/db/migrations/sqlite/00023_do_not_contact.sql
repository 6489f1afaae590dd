-- The do-not-contact list of a workspace (docs/contacts.md#do-not-contact):
-- each entry names one person (normalised /in/ profile URL, kept with its
-- handle for matching, or a provider id) or one company (normalised
-- LinkedIn company URL), exactly one of them, once per workspace.

-- +goose Up
CREATE TABLE do_not_contact (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    linkedin_url TEXT CONSTRAINT do_not_contact_linkedin_url_chk
                 CHECK (substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/'),
    public_slug  TEXT CONSTRAINT do_not_contact_public_slug_chk CHECK (length(public_slug) BETWEEN 1 AND 200),
    provider_id  TEXT CONSTRAINT do_not_contact_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    company_url  TEXT CONSTRAINT do_not_contact_company_url_chk
                 CHECK (substr(company_url, 1, 33) = 'https://www.linkedin.com/company/'),
    reason       TEXT NOT NULL DEFAULT '' CONSTRAINT do_not_contact_reason_chk CHECK (length(reason) <= 1000),
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT NOT NULL CONSTRAINT do_not_contact_created_by_chk CHECK (length(created_by) > 0),
    CONSTRAINT do_not_contact_one_key_chk CHECK (
        (CASE WHEN linkedin_url IS NULL THEN 0 ELSE 1 END) + (CASE WHEN provider_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN company_url IS NULL THEN 0 ELSE 1 END) = 1),
    CONSTRAINT do_not_contact_slug_chk CHECK ((linkedin_url IS NULL) = (public_slug IS NULL))
);
CREATE UNIQUE INDEX do_not_contact_slug_uidx ON do_not_contact (workspace_id, public_slug) WHERE public_slug IS NOT NULL;
CREATE UNIQUE INDEX do_not_contact_provider_id_uidx ON do_not_contact (workspace_id, provider_id) WHERE provider_id IS NOT NULL;
CREATE UNIQUE INDEX do_not_contact_company_url_uidx ON do_not_contact (workspace_id, company_url) WHERE company_url IS NOT NULL;
CREATE INDEX do_not_contact_list_idx ON do_not_contact (workspace_id, id);

-- +goose Down
DROP TABLE do_not_contact;
