-- Issuance per framework (issue 5), PostgreSQL: `approval` (a teacher issues each credential) or
-- `automatic` (the background sweep issues every mastered, unissued record). No row: the
-- organisation's default from `issuer_settings` (itself `approval` when unset).
CREATE TABLE framework_issuance (
    framework_id  TEXT PRIMARY KEY NOT NULL REFERENCES frameworks (id),
    issuance      TEXT NOT NULL CHECK (issuance IN ('approval', 'automatic')),
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Bulk rows: `row_key` is the claim on the caller's key (unique per organisation, so a rerun
-- batch issues nothing twice). A row refused at upload (malformed, unknown learner or
-- competency, duplicate key) gives its claim up: its `row_key` becomes `!<batch>:<row>` and the
-- caller's key is kept in `source_key` for display.
ALTER TABLE issue_batch_rows ADD COLUMN source_key TEXT;
-- Where a batch came from (`api`, `csv`, `cli`) and its file name, for the progress view.
ALTER TABLE issue_batches ADD COLUMN source TEXT;
-- Stale claims are found by state and age.
CREATE INDEX issue_batch_rows_claims ON issue_batch_rows (state, claimed_at);
CREATE INDEX issue_batch_rows_org ON issue_batch_rows (org_id, batch_id);
