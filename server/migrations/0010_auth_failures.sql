-- Failed password attempts, kept in the database so the brute-force limit holds across
-- every server node sharing it; rows older than the lockout window are purged as new
-- failures come in. Expired tokens are purged as new ones are issued.
CREATE TABLE auth_failures (
    user_key TEXT NOT NULL,
    at_millis BIGINT NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures (user_key, at_millis);
CREATE INDEX auth_failures_at ON auth_failures (at_millis);
CREATE INDEX tokens_expires ON tokens (expires_at);
