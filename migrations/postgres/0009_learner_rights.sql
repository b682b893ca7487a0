-- Learner rights (issue 7, PostgreSQL): consent records, the staff access log, retention settings, the
-- privacy and AI-use note per organisation, evidence purged by retention, and erasures.

-- What a learner agreed to share, with whom, when. A grant is a row; withdrawing sets
-- `withdrawn_at`; granting again makes a new row, so the history is kept.
CREATE TABLE consents (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    learner_id    TEXT NOT NULL REFERENCES users (id),
    scope         TEXT NOT NULL CHECK (scope IN ('record', 'evidence', 'credentials',
                      'transcripts', 'subgroup_attributes', 'research')),
    recipient     TEXT NOT NULL,  -- with whom, in the learner's words
    purpose       TEXT,
    granted_at    TIMESTAMPTZ NOT NULL,
    withdrawn_at  TIMESTAMPTZ
);
CREATE INDEX consents_learner ON consents (org_id, learner_id, granted_at);

-- Every read of a learner's record or evidence by someone other than the learner (staff,
-- platform admins): who, what, when. Written once per request; purged by retention.
CREATE TABLE access_log (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    learner_id   TEXT NOT NULL REFERENCES users (id),
    staff_id     TEXT NOT NULL REFERENCES users (id),
    staff_roles  TEXT NOT NULL,  -- the reader's roles there, e.g. "teacher" or "platform admin"
    what         TEXT NOT NULL CHECK (what IN ('record', 'evidence')),
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_log_learner ON access_log (org_id, learner_id, at);
CREATE INDEX access_log_org_at ON access_log (org_id, at);

-- Retention per organisation (no row, or NULL: keep). `evidence_files_days`: evidence files of a
-- mastered competency are deleted that many days after the mastery; `access_log_days`: access
-- log rows older than that are deleted.
CREATE TABLE retention_settings (
    org_id               TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    evidence_files_days  BIGINT CHECK (evidence_files_days BETWEEN 0 AND 36500),
    access_log_days      BIGINT CHECK (access_log_days BETWEEN 1 AND 36500),
    updated_by           TEXT REFERENCES users (id),
    updated_at           TIMESTAMPTZ NOT NULL
);

-- The organisation's privacy and AI-use note (no row: the default text).
CREATE TABLE privacy_notes (
    org_id      TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    body        TEXT NOT NULL,
    updated_by  TEXT REFERENCES users (id),
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Submissions whose files retention deleted (so the record can say why they are gone).
CREATE TABLE evidence_purges (
    submission_id  TEXT PRIMARY KEY NOT NULL REFERENCES submissions (id),
    files          BIGINT NOT NULL,
    purged_at      TIMESTAMPTZ NOT NULL
);

-- Users whose personal data was erased. The user row stays (credentials and the audit chain
-- point at its id) with its name and e-mail replaced.
CREATE TABLE erasures (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    erased_by   TEXT NOT NULL,  -- a user id: the learner themself or an admin
    erased_at   TIMESTAMPTZ NOT NULL,
    audit_seq   BIGINT NOT NULL
);
