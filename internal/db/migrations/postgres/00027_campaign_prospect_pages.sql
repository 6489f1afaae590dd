-- The campaign page's prospect list (docs/surfaces.md#the-campaign-page)
-- pages a campaign's enrollments by id, all of them or one state's: two
-- indexes let a page of 50 read 50 index entries instead of sorting the
-- whole campaign (docs/benchmarks.md#campaign-page).

-- +goose Up
CREATE INDEX enrollments_campaign_page_idx ON enrollments (campaign_id, id);
CREATE INDEX enrollments_campaign_state_page_idx ON enrollments (campaign_id, state, id);

-- +goose Down
DROP INDEX enrollments_campaign_state_page_idx;
DROP INDEX enrollments_campaign_page_idx;
