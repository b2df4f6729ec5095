-- Warden schema, version 7: enterprise identity (SAML single sign-on, SCIM provisioning).

-- The organization's SAML identity provider and SSO enforcement, as the core's `SsoSettings`
-- in JSON (NULL: not configured). One value per organization, read and written whole.
ALTER TABLE organizations ADD COLUMN sso TEXT;

-- The identity provider's own ids (SCIM `externalId`), kept as sent.
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE groups ADD COLUMN external_id TEXT;

-- SCIM token names are unique per organization, as org tokens' are.
CREATE UNIQUE INDEX api_tokens_scim_name
    ON api_tokens (org_id, LOWER(name))
    WHERE kind = 'scim' AND name <> '';

-- SP-initiated sign-ins waiting for the identity provider's answer: the AuthnRequest ids a
-- response's InResponseTo may name, each consumed once.
CREATE TABLE saml_requests (
    org_id     TEXT   NOT NULL REFERENCES organizations (id),
    id         TEXT   NOT NULL,
    relay_state TEXT  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- Assertions already used to sign in, kept until they could no longer be accepted anyway:
-- a second use of an id is a replay.
CREATE TABLE saml_assertions (
    org_id       TEXT   NOT NULL REFERENCES organizations (id),
    assertion_id TEXT   NOT NULL,
    used_at      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_at);
CREATE INDEX saml_requests_expiry ON saml_requests (expires_at);
