-- Per-resource credentials (a wait condition handle's token, a server's metadata
-- reader): only a hash of the secret is kept; revoked when the resource is deleted.
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    stack_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    disabled BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX credentials_resource ON credentials (stack_id, resource_name);
