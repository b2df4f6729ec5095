-- Warden schema, version 6: Kubernetes Managed Auth.

-- A token's scope: the namespaces and clusters it is narrowed to (org tokens: the only
-- namespaces it acts in), as JSON arrays of ids. No foreign key: a deleted namespace's id
-- stays and matches nothing, so deleting a namespace never widens a token.
ALTER TABLE api_tokens ADD COLUMN namespaces TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN clusters TEXT NOT NULL DEFAULT '[]';

-- Token names are unique per owner (a principal's personal tokens; the organization's org
-- tokens), without regard to case. Names given before this rule are made unique first by
-- appending the token's id to every repeat but the oldest.
UPDATE api_tokens SET name = name || ' (' || id || ')'
WHERE name <> '' AND EXISTS (
    SELECT 1 FROM api_tokens AS older
    WHERE older.org_id = api_tokens.org_id
      AND older.kind = api_tokens.kind
      AND COALESCE(older.user_id, older.service_account_id)
          = COALESCE(api_tokens.user_id, api_tokens.service_account_id)
      AND LOWER(older.name) = LOWER(api_tokens.name)
      AND older.id < api_tokens.id
);
CREATE UNIQUE INDEX api_tokens_personal_name
    ON api_tokens (org_id, COALESCE(user_id, service_account_id), LOWER(name))
    WHERE kind = 'personal' AND name <> '';
CREATE UNIQUE INDEX api_tokens_org_name
    ON api_tokens (org_id, LOWER(name))
    WHERE kind = 'org' AND name <> '';

-- The SHA-256 of the secret a cluster's kube-apiserver presents to the webhooks.
ALTER TABLE clusters ADD COLUMN webhook_secret_hash TEXT;
CREATE UNIQUE INDEX clusters_webhook_secret ON clusters (webhook_secret_hash);
