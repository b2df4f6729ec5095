-- Warden schema, version 1, for SQLite and PostgreSQL alike (one statement set serves both).
-- Forward-only: never edit a released migration, add one.
--
-- Ids are TEXT, times are BIGINT milliseconds since the Unix epoch, flags are BIGINT 0/1
-- (sqlx's Any driver cannot read SQLite BOOLEAN columns). Child rows name their
-- organization and reference parents through (org_id, id), so no row can point into
-- another organization. Foreign keys have no ON DELETE action: the core deletes children
-- explicitly, before their parents.

-- Loading one organization filters every table on org_id: each has an index starting with
-- it (its UNIQUE (org_id, ...) constraint, or one below).

CREATE TABLE organizations (
    id            TEXT   NOT NULL PRIMARY KEY,
    name          TEXT   NOT NULL,
    default_admin TEXT   NOT NULL,
    revision      BIGINT NOT NULL CHECK (revision >= 0),
    created_at    BIGINT NOT NULL
);

CREATE TABLE users (
    id          TEXT   NOT NULL PRIMARY KEY,
    org_id      TEXT   NOT NULL REFERENCES organizations (id),
    email       TEXT   NOT NULL,
    email_lower TEXT   NOT NULL,
    first_name  TEXT   NOT NULL,
    last_name   TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, email_lower),
    UNIQUE (org_id, id)
);

CREATE TABLE service_accounts (
    id             TEXT   NOT NULL PRIMARY KEY,
    org_id         TEXT   NOT NULL REFERENCES organizations (id),
    name           TEXT   NOT NULL,
    created_by     TEXT,
    active         BIGINT NOT NULL CHECK (active IN (0, 1)),
    system_managed BIGINT NOT NULL CHECK (system_managed IN (0, 1)),
    created_at     BIGINT NOT NULL
);
CREATE INDEX service_accounts_org ON service_accounts (org_id);

CREATE TABLE groups (
    id          TEXT   NOT NULL PRIMARY KEY,
    org_id      TEXT   NOT NULL REFERENCES organizations (id),
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    legacy      BIGINT NOT NULL CHECK (legacy IN (0, 1)),
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE memberships (
    org_id   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX memberships_user ON memberships (org_id, user_id);

CREATE TABLE policies (
    id           TEXT   NOT NULL PRIMARY KEY,
    org_id       TEXT   NOT NULL REFERENCES organizations (id),
    name         TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    legacy_group TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- The rules of a policy, in order. `roles` is a JSON array of role ids, in order.
CREATE TABLE policy_rules (
    policy_id      TEXT   NOT NULL REFERENCES policies (id),
    position       BIGINT NOT NULL,
    principal_kind TEXT   NOT NULL,
    principal_id   TEXT   NOT NULL,
    roles          TEXT   NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE namespaces (
    id         TEXT   NOT NULL PRIMARY KEY,
    org_id     TEXT   NOT NULL REFERENCES organizations (id),
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE namespace_grants (
    org_id       TEXT NOT NULL,
    namespace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    PRIMARY KEY (namespace_id, user_id, key),
    FOREIGN KEY (org_id, namespace_id) REFERENCES namespaces (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX namespace_grants_user ON namespace_grants (org_id, user_id);

CREATE TABLE clusters (
    id             TEXT   NOT NULL PRIMARY KEY,
    org_id         TEXT   NOT NULL REFERENCES organizations (id),
    name           TEXT   NOT NULL,
    api_server_url TEXT   NOT NULL,
    ca_bundle      TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE api_tokens (
    id             TEXT   NOT NULL PRIMARY KEY,
    org_id         TEXT   NOT NULL,
    kind           TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    note           TEXT   NOT NULL,
    secret_hash    TEXT   NOT NULL UNIQUE,
    display_prefix TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    -- Written by touch_tokens only; not part of OrgState and not bumping the revision.
    last_used_at   BIGINT,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX api_tokens_user ON api_tokens (org_id, user_id);

-- Immutable. No foreign key: a refused call may name an organization that does not exist.
CREATE TABLE audit_events (
    id         TEXT   NOT NULL PRIMARY KEY,
    org_id     TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    error_code TEXT,
    revision   BIGINT NOT NULL,
    request_id TEXT   NOT NULL,
    changes    TEXT   NOT NULL
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);
