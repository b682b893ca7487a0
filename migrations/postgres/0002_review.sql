-- Rubric review and the mastery record (issue 4), PostgreSQL: the hash-chained audit log, rubric
-- versions, evidence submissions (attempts) with content-addressed files, reviews and mastery events.

-- Audit log: one row per `tessera_review::AuditEntry`. Append-only; the hashed content holds
-- only opaque ids and a payload digest (no personal data).
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY NOT NULL,
    prev_hash       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subjects        TEXT NOT NULL,  -- JSON array of pseudonymous ids
    payload_digest  TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    hash            TEXT NOT NULL
);

-- The payload beside the chain (may hold personal data; erasable without breaking the chain).
-- No foreign key: audit rows are never deleted by the application, and a sabotaged log must
-- still be readable by `tessera audit verify`.
CREATE TABLE audit_payloads (
    seq      BIGINT PRIMARY KEY NOT NULL,
    payload  TEXT NOT NULL
);

-- The chain head, updated in the same transaction as every append; appends read it first, so
-- (with one writer on SQLite, `FOR UPDATE` on PostgreSQL) appends are serialised.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Rubric versions. (id, version) is immutable: the digest of the canonical form is kept so a
-- re-upload of the same version with other content is refused. `org_id` is NULL for the
-- rubrics shipped in `rubrics/` and loaded at start.
CREATE TABLE rubrics (
    id            TEXT NOT NULL,
    version       TEXT NOT NULL,
    major         BIGINT NOT NULL,
    minor         BIGINT NOT NULL,
    patch         BIGINT NOT NULL,
    org_id        TEXT REFERENCES organisations (id),
    title         TEXT NOT NULL,
    digest        TEXT NOT NULL,
    competencies  TEXT NOT NULL,  -- JSON array, as in the file
    source        TEXT NOT NULL,  -- canonical TOML
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, version)
);

-- Content-addressed evidence files (SHA-256), stored once under the data directory.
CREATE TABLE evidence_blobs (
    sha256      TEXT PRIMARY KEY NOT NULL,
    size_bytes  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One submission = one attempt.
CREATE TABLE submissions (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    learner_id      TEXT NOT NULL REFERENCES users (id),
    competency_id   TEXT NOT NULL REFERENCES competencies (id),
    rubric_id       TEXT NOT NULL,
    rubric_version  TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    body_text       TEXT,
    links           TEXT NOT NULL,  -- JSON array of URLs
    submitted_at    TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics (id, version),
    UNIQUE (learner_id, competency_id, attempt)
);
CREATE INDEX submissions_org_learner ON submissions (org_id, learner_id);

CREATE TABLE submission_files (
    submission_id  TEXT NOT NULL REFERENCES submissions (id),
    position       BIGINT NOT NULL,
    sha256         TEXT NOT NULL REFERENCES evidence_blobs (sha256),
    media_type     TEXT NOT NULL,
    filename       TEXT,
    size_bytes     BIGINT NOT NULL,
    PRIMARY KEY (submission_id, position)
);

-- The review of one submission. `state` goes pending → scored exactly once (a conditional
-- update). The queue index serves "oldest pending first" per organisation.
CREATE TABLE reviews (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    submission_id   TEXT NOT NULL UNIQUE REFERENCES submissions (id),
    learner_id      TEXT NOT NULL REFERENCES users (id),
    competency_id   TEXT NOT NULL REFERENCES competencies (id),
    rubric_id       TEXT NOT NULL,
    rubric_version  TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'scored')),
    created_at      TIMESTAMPTZ NOT NULL,
    reviewer_id     TEXT REFERENCES users (id),
    outcome         TEXT CHECK (outcome IN ('mastered', 'not_yet')),
    scored          TEXT,  -- JSON tessera_review::ScoredReview, with comments
    decided_at      TIMESTAMPTZ
);
CREATE INDEX reviews_queue ON reviews (org_id, state, created_at, id);
CREATE INDEX reviews_queue_competency ON reviews (org_id, state, competency_id, created_at, id);
CREATE INDEX reviews_queue_learner ON reviews (org_id, state, learner_id, created_at, id);

-- Mastery events per learner × competency, in order (`seq` 1, 2, …); the record is their fold.
CREATE TABLE mastery_events (
    learner_id     TEXT NOT NULL REFERENCES users (id),
    competency_id  TEXT NOT NULL REFERENCES competencies (id),
    seq            BIGINT NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    at             TIMESTAMPTZ NOT NULL,
    state          TEXT NOT NULL,  -- the state after the event
    event          TEXT NOT NULL,  -- JSON tessera_review::EventKind
    PRIMARY KEY (learner_id, competency_id, seq)
);
CREATE INDEX mastery_events_org_learner ON mastery_events (org_id, learner_id, competency_id, seq);
