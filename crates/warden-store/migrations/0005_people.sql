-- Warden schema, version 5: invitations, passwords, platform operators.

-- An offer to join an organization. What it gives (namespaces with keys, groups) is JSON:
-- it names entities that may be deleted before it is accepted (the core then edits the
-- invitation in the same commit), and it is read whole. The link's secret is not stored:
-- its SHA-256, and the nonce the server derives it from with a key the database lacks.
CREATE TABLE invitations (
    id            TEXT   NOT NULL PRIMARY KEY,
    org_id        TEXT   NOT NULL REFERENCES organizations (id),
    email         TEXT   NOT NULL,
    invited_by    TEXT   NOT NULL,
    namespaces    TEXT   NOT NULL,
    admin         BIGINT NOT NULL CHECK (admin IN (0, 1)),
    billing       BIGINT NOT NULL CHECK (billing IN (0, 1)),
    groups        TEXT   NOT NULL,
    secret_hash   TEXT   NOT NULL,
    nonce         TEXT   NOT NULL,
    status        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    sent_at       BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    accepted_user TEXT
);
CREATE INDEX invitations_org ON invitations (org_id);

-- A user's password (argon2id, PHC string). Not part of the organization's state: never in
-- memory, never in the change log or the audit log. Written in the transaction of the
-- commit that creates the user (accepting an invitation).
CREATE TABLE user_credentials (
    user_id       TEXT   NOT NULL PRIMARY KEY REFERENCES users (id),
    org_id        TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Platform operators: principals outside every organization.
CREATE TABLE operators (
    id         TEXT   NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    created_by TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE operator_tokens (
    id             TEXT   NOT NULL PRIMARY KEY,
    operator_id    TEXT   NOT NULL REFERENCES operators (id),
    secret_hash    TEXT   NOT NULL UNIQUE,
    display_prefix TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT
);

-- Console sessions: the SHA-256 of the cookie's secret, never the secret. A session ends at
-- `expires_at` (absolute), after `idle` ms without use, on sign-out, on a password change or
-- reset, and when its user is deactivated (checked on every use) or removed (deleted here).
CREATE TABLE sessions (
    secret_hash  TEXT   NOT NULL PRIMARY KEY,
    org_id       TEXT   NOT NULL,
    user_id      TEXT   NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (org_id, user_id);

-- Password resets: the SHA-256 of the emailed link's secret and the nonce it is derived from
-- (as for invitations); used once.
CREATE TABLE password_resets (
    secret_hash TEXT   NOT NULL PRIMARY KEY,
    org_id      TEXT   NOT NULL,
    user_id     TEXT   NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
