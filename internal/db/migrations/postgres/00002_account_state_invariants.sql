-- The account-state invariants of docs/accounts.md#invariants:
--   connected iff disconnected_at IS NULL (and no disconnect cause while connected);
--   no split state: a connected row never carries terminal, reconnect-type copy.
-- A database restored from before these rules may hold rows that break
-- them. Then the constraints are added NOT VALID (new writes are checked,
-- old rows are not), and Keel's migrate step reports the rows and tells the
-- operator to run `keel repair split-state --apply`; the next `keel migrate`
-- validates the constraints once no row breaks them.
-- The phrase list must stay equal to account.TerminalPatterns (a test checks).

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    violating bigint;
    suffix text := '';
BEGIN
    SELECT count(*) INTO violating FROM linkedin_accounts
     WHERE (status = 'connected') <> (disconnected_at IS NULL)
        OR (status = 'connected' AND disconnected_by IS NOT NULL)
        OR (status = 'connected' AND last_error IS NOT NULL AND (
               lower(last_error) LIKE '%no longer registered%'
            OR lower(last_error) LIKE '%please reconnect%'
            OR lower(last_error) LIKE '%account not found%reconnect%'
            OR lower(last_error) LIKE '%reconnect needed%'
            OR lower(last_error) LIKE '%reconnect required%'
            OR lower(last_error) LIKE '%must be connected again%'
            OR lower(last_error) LIKE '%credentials expired%'));
    IF violating > 0 THEN
        suffix := ' NOT VALID';
        RAISE WARNING '% linkedin_accounts rows break the account-state invariants; constraints added NOT VALID. Run "keel repair split-state --apply", then "keel migrate".', violating;
    END IF;
    EXECUTE 'ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_connected_iff_not_disconnected_chk
             CHECK ((status = ''connected'') = (disconnected_at IS NULL))' || suffix;
    EXECUTE 'ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_disconnected_by_chk
             CHECK (status <> ''connected'' OR disconnected_by IS NULL)' || suffix;
    EXECUTE 'ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_no_split_state_chk
             CHECK (status <> ''connected'' OR last_error IS NULL OR NOT (
                    lower(last_error) LIKE ''%no longer registered%''
                 OR lower(last_error) LIKE ''%please reconnect%''
                 OR lower(last_error) LIKE ''%account not found%reconnect%''
                 OR lower(last_error) LIKE ''%reconnect needed%''
                 OR lower(last_error) LIKE ''%reconnect required%''
                 OR lower(last_error) LIKE ''%must be connected again%''
                 OR lower(last_error) LIKE ''%credentials expired%''))' || suffix;
END;
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE linkedin_accounts DROP CONSTRAINT linkedin_accounts_no_split_state_chk;
ALTER TABLE linkedin_accounts DROP CONSTRAINT linkedin_accounts_disconnected_by_chk;
ALTER TABLE linkedin_accounts DROP CONSTRAINT linkedin_accounts_connected_iff_not_disconnected_chk;
