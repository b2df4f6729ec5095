-- Warden schema, version 3: the row changes of every commit, by revision, so a server told
-- of another server's commit loads just what changed instead of the whole organization.
-- Only the latest revisions of each organization are kept (a server further behind
-- reloads the organization).
CREATE TABLE org_changes (
    org_id   TEXT   NOT NULL REFERENCES organizations (id),
    revision BIGINT NOT NULL,
    -- JSON array of the commit's changes, in order (token secrets' hashes included).
    changes  TEXT   NOT NULL,
    PRIMARY KEY (org_id, revision)
);
