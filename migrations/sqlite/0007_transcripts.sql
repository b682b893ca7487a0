-- Mastery transcripts (issue 6): a signed CLR 2.0 ClrCredential per request, stored as the exact
-- signed bytes (never re-serialised) with their SHA-256. `kind` says who asked: the learner for
-- themself (`learner`), or a teacher or admin for the organisation's own records (`official`,
-- always the full record). The learner's choice is recorded as asked: `scope` with the framework
-- or the competency ids (a JSON array) it names; `partial` is what the signed CLR says.
CREATE TABLE transcripts (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    learner_id      TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL CHECK (kind IN ('learner', 'official')),
    scope           TEXT NOT NULL CHECK (scope IN ('everything', 'framework', 'competencies')),
    framework_id    TEXT,
    competency_ids  TEXT,
    partial         BOOLEAN NOT NULL,
    credentials     BIGINT NOT NULL,
    key_id          TEXT NOT NULL REFERENCES issuer_keys (id),
    signed          TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL
);
CREATE INDEX transcripts_learner ON transcripts (org_id, learner_id, created_at);
