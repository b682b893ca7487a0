-- Issue 4, service side: moderation (second reviews and moderator decisions), per-organisation
-- review settings, prerequisite gating per framework with per-learner exceptions, and target
-- dates per learner × competency.

-- A review now has a stage: `first` (the usual review), `second` (a second reviewer, when the
-- first review was borderline or sampled) and `moderation` (the two disagreed). `state` stays
-- `pending` until the outcome stands; each stage moves by a conditional update on (state, stage).
ALTER TABLE reviews ADD COLUMN stage TEXT NOT NULL DEFAULT 'first'
    CHECK (stage IN ('first', 'second', 'moderation'));
ALTER TABLE reviews ADD COLUMN second_reason TEXT CHECK (second_reason IN ('borderline', 'sampled'));
ALTER TABLE reviews ADD COLUMN first_reviewer_id TEXT REFERENCES users (id);
ALTER TABLE reviews ADD COLUMN first_scored TEXT;
ALTER TABLE reviews ADD COLUMN first_outcome TEXT CHECK (first_outcome IN ('mastered', 'not_yet'));
ALTER TABLE reviews ADD COLUMN second_reviewer_id TEXT REFERENCES users (id);
ALTER TABLE reviews ADD COLUMN second_scored TEXT;
ALTER TABLE reviews ADD COLUMN second_outcome TEXT CHECK (second_outcome IN ('mastered', 'not_yet'));
ALTER TABLE reviews ADD COLUMN moderator_id TEXT REFERENCES users (id);
CREATE INDEX reviews_queue_stage ON reviews (org_id, state, stage, created_at, id);
CREATE INDEX reviews_double_rated ON reviews (org_id, rubric_id, rubric_version)
    WHERE second_scored IS NOT NULL;

-- Review settings of an organisation. `first_reviews` counts decided first reviews that were
-- not borderline: the sample is drawn from it, so selection is deterministic.
CREATE TABLE review_settings (
    org_id            TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    sample_per_mille  BIGINT NOT NULL DEFAULT 0 CHECK (sample_per_mille BETWEEN 0 AND 1000),
    first_reviews     BIGINT NOT NULL DEFAULT 0,
    updated_at        TEXT NOT NULL
);

-- Whether prerequisites gate submissions in a framework (no row: they do).
CREATE TABLE framework_settings (
    framework_id        TEXT PRIMARY KEY NOT NULL REFERENCES frameworks (id),
    gate_prerequisites  BOOLEAN NOT NULL,
    updated_at          TEXT NOT NULL
);

-- A teacher lets one learner submit for a gated competency before its prerequisites.
CREATE TABLE prerequisite_exceptions (
    learner_id     TEXT NOT NULL REFERENCES users (id),
    competency_id  TEXT NOT NULL REFERENCES competencies (id),
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    reason         TEXT NOT NULL,
    granted_by     TEXT NOT NULL REFERENCES users (id),
    granted_at     TEXT NOT NULL,
    PRIMARY KEY (learner_id, competency_id)
);

-- Optional target dates (a calendar date), shown in the record, never enforced.
CREATE TABLE target_dates (
    learner_id     TEXT NOT NULL REFERENCES users (id),
    competency_id  TEXT NOT NULL REFERENCES competencies (id),
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    target_date    TEXT NOT NULL,  -- YYYY-MM-DD
    set_by         TEXT NOT NULL REFERENCES users (id),
    set_at         TEXT NOT NULL,
    PRIMARY KEY (learner_id, competency_id)
);
CREATE INDEX target_dates_org_learner ON target_dates (org_id, learner_id);
