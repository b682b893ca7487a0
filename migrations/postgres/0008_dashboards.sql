-- Issue 7, progress dashboards: cohorts (named groups of an organisation's learners, kept by
-- teachers and admins), flag thresholds per course (framework), teachers' decisions on flags,
-- and `mastery_cells`, the current state of every learner × competency kept beside the events
-- by triggers, so the teacher dashboard reads one row per cell instead of folding every event.
-- Flags themselves are never stored: they are computed from the record on every read,
-- so they cannot go stale; only what a teacher decided about one is kept (and audited).

CREATE TABLE cohorts (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE cohort_members (
    cohort_id   TEXT NOT NULL REFERENCES cohorts (id),
    learner_id  TEXT NOT NULL REFERENCES users (id),
    added_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cohort_id, learner_id)
);
CREATE INDEX cohort_members_learner ON cohort_members (learner_id);

-- No row: the defaults (3 attempts, 14 days, 0 days). A NULL threshold switches its rule off.
CREATE TABLE flag_settings (
    framework_id              TEXT PRIMARY KEY NOT NULL REFERENCES frameworks (id),
    attempts_without_mastery  BIGINT,
    days_without_activity     BIGINT,
    days_past_target          BIGINT,
    updated_by                TEXT NOT NULL REFERENCES users (id),
    updated_at                TIMESTAMPTZ NOT NULL
);

-- The standing decision per learner × competency × rule: `dismissed` holds until something new
-- happens on the competency, `overridden` until a teacher clears it. `reason` is the flag's
-- reason as the teacher saw it; `note` is the teacher's (required).
CREATE TABLE flag_decisions (
    learner_id     TEXT NOT NULL REFERENCES users (id),
    competency_id  TEXT NOT NULL REFERENCES competencies (id),
    kind           TEXT NOT NULL CHECK (kind IN ('attempts_without_mastery', 'no_recent_activity', 'past_target')),
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    decision       TEXT NOT NULL CHECK (decision IN ('dismissed', 'overridden')),
    reason         TEXT NOT NULL,
    note           TEXT NOT NULL,
    decided_by     TEXT NOT NULL REFERENCES users (id),
    decided_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (learner_id, competency_id, kind)
);
CREATE INDEX flag_decisions_org ON flag_decisions (org_id, learner_id);

-- Derived from `mastery_events` and never written by the application: the state after the
-- latest event (`last_seq`), the number of submissions (attempts), first and last activity in
-- Unix seconds (the dashboard packs a learner's cells into one text: numbers read the same on
-- both databases).
-- Events are appended in `seq` order (the store's one write path), so an insert only moves the
-- cell forward; a deleted event (erasure) makes the cell be recomputed from what is left.
CREATE TABLE mastery_cells (
    learner_id     TEXT NOT NULL,
    competency_id  TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    first_at       BIGINT NOT NULL,  -- Unix seconds
    last_at        BIGINT NOT NULL,  -- Unix seconds
    last_seq       BIGINT NOT NULL,
    PRIMARY KEY (learner_id, competency_id)
);
CREATE INDEX mastery_cells_org ON mastery_cells (org_id, competency_id, learner_id);

INSERT INTO mastery_cells (learner_id, competency_id, org_id, state, attempts, first_at, last_at, last_seq)
SELECT e.learner_id, e.competency_id, e.org_id, e.state, g.attempts, CAST(EXTRACT(EPOCH FROM g.first_at) AS BIGINT), CAST(EXTRACT(EPOCH FROM e.at) AS BIGINT), e.seq
FROM (SELECT learner_id, competency_id, MAX(seq) AS last_seq,
             COUNT(CASE WHEN state = 'submitted' THEN 1 END) AS attempts, MIN(at) AS first_at
      FROM mastery_events GROUP BY learner_id, competency_id) g
JOIN mastery_events e ON e.learner_id = g.learner_id AND e.competency_id = g.competency_id
 AND e.seq = g.last_seq;

CREATE FUNCTION mastery_cells_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mastery_cells (learner_id, competency_id, org_id, state, attempts, first_at, last_at, last_seq)
    VALUES (NEW.learner_id, NEW.competency_id, NEW.org_id, NEW.state,
            CASE WHEN NEW.state = 'submitted' THEN 1 ELSE 0 END, CAST(EXTRACT(EPOCH FROM NEW.at) AS BIGINT), CAST(EXTRACT(EPOCH FROM NEW.at) AS BIGINT), NEW.seq)
    ON CONFLICT (learner_id, competency_id) DO UPDATE SET
        state = excluded.state,
        attempts = mastery_cells.attempts + excluded.attempts,
        last_at = excluded.last_at,
        last_seq = excluded.last_seq;
    RETURN NULL;
END
$$;
CREATE TRIGGER mastery_cells_after_insert AFTER INSERT ON mastery_events
    FOR EACH ROW EXECUTE FUNCTION mastery_cells_after_insert();

CREATE FUNCTION mastery_cells_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mastery_cells
    WHERE learner_id = OLD.learner_id AND competency_id = OLD.competency_id;
    INSERT INTO mastery_cells (learner_id, competency_id, org_id, state, attempts, first_at, last_at, last_seq)
    SELECT e.learner_id, e.competency_id, e.org_id, e.state,
           (SELECT COUNT(*) FROM mastery_events x WHERE x.learner_id = e.learner_id
             AND x.competency_id = e.competency_id AND x.state = 'submitted'),
           (SELECT CAST(EXTRACT(EPOCH FROM MIN(x.at)) AS BIGINT) FROM mastery_events x WHERE x.learner_id = e.learner_id
             AND x.competency_id = e.competency_id),
           CAST(EXTRACT(EPOCH FROM e.at) AS BIGINT), e.seq
    FROM mastery_events e
    WHERE e.learner_id = OLD.learner_id AND e.competency_id = OLD.competency_id
    ORDER BY e.seq DESC LIMIT 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER mastery_cells_after_delete AFTER DELETE ON mastery_events
    FOR EACH ROW EXECUTE FUNCTION mastery_cells_after_delete();
