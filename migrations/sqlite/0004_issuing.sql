-- Issuing credentials (issue 5): issuer keys per organisation (encrypted at rest), the issuer
-- settings, the pairwise subject ids, issued credentials (the exact signed bytes) and the
-- Bitstring Status Lists with their entries.

-- Ed25519 issuer keys. The secret is sealed with the service's master key (XChaCha20-Poly1305,
-- the key id and organisation bound as associated data); only the public key is ever served.
-- One `current` key per organisation; rotated ones stay as `past` so old credentials verify.
-- `seq` (1, 2, …) names the verification method: `<issuer DID>#key-<seq>`.
CREATE TABLE issuer_keys (
    id                    TEXT PRIMARY KEY NOT NULL,
    org_id                TEXT NOT NULL REFERENCES organisations (id),
    seq                   BIGINT NOT NULL,
    public_key_multibase  TEXT NOT NULL,
    sealed_secret         TEXT NOT NULL,  -- hex: 24-byte nonce ‖ ciphertext ‖ tag
    master_key_id         TEXT NOT NULL,  -- which master key sealed it (a digest prefix)
    status                TEXT NOT NULL CHECK (status IN ('current', 'past')),
    created_at            TEXT NOT NULL,
    retired_at            TEXT,
    UNIQUE (org_id, seq)
);
CREATE UNIQUE INDEX issuer_keys_one_current ON issuer_keys (org_id) WHERE status = 'current';

-- Per organisation: which DID method names the issuer (did:web by default, or did:key of the
-- current key) and how a mastery becomes a credential (`approval`: a teacher issues it;
-- `automatic`: every mastered, unissued record is issued by the sweep).
CREATE TABLE issuer_settings (
    org_id      TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    did_method  TEXT NOT NULL CHECK (did_method IN ('web', 'key')),
    issuance    TEXT NOT NULL CHECK (issuance IN ('approval', 'automatic')),
    updated_at  TEXT NOT NULL
);

-- The learner's subject id in an organisation's credentials: their own DID when they gave one,
-- else a pairwise `urn:uuid:…` made once per (learner, organisation) and kept.
CREATE TABLE credential_subjects (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    learner_id  TEXT NOT NULL REFERENCES users (id),
    subject_id  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, learner_id)
);

-- Bitstring Status Lists, per organisation and purpose, numbered 1, 2, … (`seq`); a new one is
-- opened when one fills. `version` counts changes to its bits; `published` holds the signed
-- BitstringStatusListCredential for `published_version` (republished when they differ).
CREATE TABLE status_lists (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organisations (id),
    purpose            TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    seq                BIGINT NOT NULL,
    size               BIGINT NOT NULL,
    used               BIGINT NOT NULL,
    version            BIGINT NOT NULL,
    published_version  BIGINT,
    published          TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (org_id, purpose, seq)
);

-- Assigned indexes (never reused). `credential_id` is NULL while the credential is being signed
-- (and stays NULL if that failed: the index is simply not used again). `value` is the entry's bit.
CREATE TABLE status_entries (
    list_id        TEXT NOT NULL REFERENCES status_lists (id),
    idx            BIGINT NOT NULL,
    credential_id  TEXT,
    value          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_entries_set ON status_entries (list_id, value);

-- Issued credentials: the exact bytes that were signed, never re-serialised. `idempotency_key`
-- makes issuing repeatable: `mastery:<learner>:<competency>:<mastered at>` for a mastery, or a
-- key the caller chose (bulk rows).
CREATE TABLE credentials (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organisations (id),
    learner_id         TEXT NOT NULL REFERENCES users (id),
    competency_id      TEXT NOT NULL REFERENCES competencies (id),
    idempotency_key    TEXT NOT NULL UNIQUE,
    key_id             TEXT NOT NULL REFERENCES issuer_keys (id),
    subject_id         TEXT NOT NULL,
    issuer_id          TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    signed             TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    revocation_list    TEXT NOT NULL REFERENCES status_lists (id),
    revocation_index   BIGINT NOT NULL,
    suspension_list    TEXT NOT NULL REFERENCES status_lists (id),
    suspension_index   BIGINT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    status_reason      TEXT,
    status_changed_at  TEXT,
    issued_by          TEXT REFERENCES users (id),
    issued_at          TEXT NOT NULL
);
CREATE INDEX credentials_learner ON credentials (org_id, learner_id, issued_at);
CREATE INDEX credentials_org ON credentials (org_id, issued_at);
CREATE INDEX credentials_competency ON credentials (learner_id, competency_id);

-- A learner's own DID, used as the subject of credentials issued to them from then on.
CREATE TABLE learner_dids (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    did         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Bulk issuance: a batch of rows, each issued at most once (`row_key` is unique per
-- organisation, so rerunning a batch issues nothing twice). Rows are claimed by workers
-- (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite); a claim older than a
-- timeout is taken over, so a killed process loses nothing.
CREATE TABLE issue_batches (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    created_by  TEXT REFERENCES users (id),
    total       BIGINT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE issue_batch_rows (
    batch_id        TEXT NOT NULL REFERENCES issue_batches (id),
    row_no          BIGINT NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    row_key         TEXT NOT NULL,
    learner_id      TEXT NOT NULL,
    competency_id   TEXT NOT NULL,
    level           TEXT,
    activity_start  TEXT,
    activity_end    TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'issued', 'failed')),
    claimed_at      TEXT,
    credential_id   TEXT,
    error           TEXT,
    PRIMARY KEY (batch_id, row_no),
    UNIQUE (org_id, row_key)
);
CREATE INDEX issue_batch_rows_state ON issue_batch_rows (state, batch_id, row_no);
