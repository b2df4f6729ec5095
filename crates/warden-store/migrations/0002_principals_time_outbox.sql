-- Warden schema, version 2: tokens belong to a principal (a user or a service account),
-- rules may end at an instant, and side effects of commits wait in an outbox.

-- A token's owner is a user or a service account, each kept inside the organization by
-- its own foreign key; exactly one of the two is set. `created_by` is a principal id.
CREATE UNIQUE INDEX service_accounts_org_id ON service_accounts (org_id, id);

CREATE TABLE api_tokens_v2 (
    id                 TEXT   NOT NULL PRIMARY KEY,
    org_id             TEXT   NOT NULL,
    kind               TEXT   NOT NULL,
    user_id            TEXT,
    service_account_id TEXT,
    name               TEXT   NOT NULL,
    note               TEXT   NOT NULL,
    secret_hash        TEXT   NOT NULL UNIQUE,
    display_prefix     TEXT   NOT NULL,
    created_by         TEXT   NOT NULL,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT,
    -- Written by touch_tokens only; not part of OrgState and not bumping the revision.
    last_used_at       BIGINT,
    CHECK ((user_id IS NULL) <> (service_account_id IS NULL)),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, service_account_id) REFERENCES service_accounts (org_id, id)
);
INSERT INTO api_tokens_v2 (id, org_id, kind, user_id, service_account_id, name, note,
    secret_hash, display_prefix, created_by, created_at, expires_at, last_used_at)
SELECT id, org_id, kind, user_id, NULL, name, note, secret_hash, display_prefix, created_by,
    created_at, expires_at, last_used_at
FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (org_id, user_id);
CREATE INDEX api_tokens_service_account ON api_tokens (org_id, service_account_id);

-- Time-bound rules: the rule grants nothing from this instant on.
ALTER TABLE policy_rules ADD COLUMN expires_at BIGINT;

-- Side effects a commit asked for (emails, ...), written in the commit's transaction and
-- carried out afterwards by a worker: a crash between commit and delivery loses none. A
-- worker claims an item for a lease; a delivered item keeps its row with `delivered_at`.
CREATE TABLE outbox (
    id              TEXT   NOT NULL PRIMARY KEY,
    org_id          TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);
