-- PostgreSQL. Share links (issue 5, learner sharing; transcripts reuse them): a learner makes a link to one
-- thing they own (a credential now, a transcript later); anyone holding the link sees that thing
-- and nothing else of the learner. Only a SHA-256 of the token is stored, so a database leak
-- does not open any link. Opens are counted for the learner, with the time only: no IP address,
-- no user agent (data minimisation; the learner needs "when", not "who").
CREATE TABLE share_links (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    owner_id    TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('credential', 'transcript')),
    target_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX share_links_owner ON share_links (owner_id, created_at);
CREATE INDEX share_links_target ON share_links (kind, target_id);

CREATE TABLE share_link_opens (
    link_id    TEXT NOT NULL REFERENCES share_links (id) ON DELETE CASCADE,
    opened_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX share_link_opens_link ON share_link_opens (link_id, opened_at);
