-- Accounts, sessions, API tokens and the CASE-shaped competency registry (PostgreSQL).
-- Identifiers are UUID text (the same text as on SQLite, so the store binds one type);
-- timestamps are TIMESTAMPTZ; JSON documents are TEXT, kept exactly as written.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('school', 'district', 'university', 'employer')),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    email              TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    is_platform_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'reviewer', 'learner')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id, role)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'reviewer', 'learner')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- CASE CFDocument. `id` is the CASE identifier; `revision` counts edits to the framework or any
-- of its competencies and associations; `case_extra` keeps CASE fields the registry does not
-- model (JSON object) so that export gives back what import took.
CREATE TABLE frameworks (
    id               TEXT PRIMARY KEY NOT NULL,
    uri              TEXT NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    title            TEXT NOT NULL,
    creator          TEXT,
    description      TEXT,
    language         TEXT,
    version          TEXT,
    adoption_status  TEXT,
    status           TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    revision         BIGINT NOT NULL,
    last_changed     TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    case_extra       TEXT
);
CREATE INDEX frameworks_org ON frameworks (org_id, title);

-- CASE CFItem.
CREATE TABLE competencies (
    id                     TEXT PRIMARY KEY NOT NULL,
    uri                    TEXT NOT NULL,
    framework_id           TEXT NOT NULL REFERENCES frameworks (id),
    code                   TEXT,
    statement              TEXT NOT NULL,
    abbreviated_statement  TEXT,
    description            TEXT,
    item_type              TEXT,
    language               TEXT,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    framework_revision     BIGINT NOT NULL,
    last_changed           TIMESTAMPTZ NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    case_extra             TEXT
);
CREATE INDEX competencies_framework_code ON competencies (framework_id, code);
CREATE INDEX competencies_code ON competencies (code);

-- CASE CFAssociation. Origin and destination are CASE identifiers: of a competency, of a
-- framework, or of something outside the registry (then uri/title say what).
CREATE TABLE associations (
    id                 TEXT PRIMARY KEY NOT NULL,
    uri                TEXT NOT NULL,
    framework_id       TEXT NOT NULL REFERENCES frameworks (id),
    association_type   TEXT NOT NULL,
    origin_id          TEXT NOT NULL,
    origin_uri         TEXT NOT NULL,
    origin_title       TEXT,
    destination_id     TEXT NOT NULL,
    destination_uri    TEXT NOT NULL,
    destination_title  TEXT,
    sequence_number    BIGINT,
    last_changed       TIMESTAMPTZ NOT NULL,
    case_extra         TEXT
);
CREATE INDEX associations_origin ON associations (origin_id, association_type);
CREATE INDEX associations_destination ON associations (destination_id, association_type);
CREATE INDEX associations_framework ON associations (framework_id, association_type);

-- CASE CFRubric, kept whole for the rubric work.
CREATE TABLE case_rubrics (
    id            TEXT PRIMARY KEY NOT NULL,
    uri           TEXT NOT NULL,
    framework_id  TEXT NOT NULL REFERENCES frameworks (id),
    title         TEXT,
    document      TEXT NOT NULL,
    last_changed  TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_rubrics_framework ON case_rubrics (framework_id);
