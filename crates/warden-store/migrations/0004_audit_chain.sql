-- Warden schema, version 4: each organization's audit events form a hash chain (spec section
-- 7.7). An event stores its number in its organization's chain (`seq`: 1, 2, 3, ...), the
-- hash of the event before it (`prev_hash`; the first event's is a hash of the organization's
-- id) and its own (`hash`: hex SHA-256 of every column, warden-core's `audit_chain.rs`).
-- `audit_heads` holds each organization's last `seq` and `hash`; an event is appended only
-- while its organization's head row is locked, in the transaction that writes it.
--
-- Events written before this version are chained when the store next starts, in (at, id)
-- order per organization (`audit::chain_unchained`); until then `seq` is NULL.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_events_org_seq ON audit_events (org_id, seq);
CREATE INDEX audit_events_unchained ON audit_events (org_id, at, id) WHERE seq IS NULL;

CREATE TABLE audit_heads (
    org_id TEXT   NOT NULL PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT   NOT NULL
);
