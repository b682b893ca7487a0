-- The equity audit (issue 7), PostgreSQL: subgroup attributes an organisation's admins define, and
-- each learner's own, consented values, kept apart from the profile (`users`) so they are read
-- only by the audit's aggregates and removed with one DELETE (withdrawal or erasure).

-- What may be asked, per organisation: a key (`name`, lowercase letters, digits, '-'), the
-- question shown to learners (`label`) and the answers offered (`allowed_values`, a JSON array of
-- strings, in display order). Free text is not offered: it would make one-person groups.
CREATE TABLE subgroup_attributes (
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    label           TEXT NOT NULL,
    allowed_values  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- A learner's answer, given with consent (`consented_at`). Withdrawing deletes the row; so does
-- removing the attribute (cascade) or erasing the learner.
CREATE TABLE learner_subgroups (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL,
    attribute     TEXT NOT NULL,
    value         TEXT NOT NULL,
    consented_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, org_id, attribute),
    FOREIGN KEY (org_id, attribute) REFERENCES subgroup_attributes (org_id, name) ON DELETE CASCADE
);
CREATE INDEX learner_subgroups_org ON learner_subgroups (org_id, attribute, user_id);
