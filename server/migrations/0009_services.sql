-- Server nodes (Heat's `service` table): each process reports in every lease round, so
-- `GET /services` shows which engines are up.
CREATE TABLE services (
    engine_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    hostname TEXT NOT NULL,
    report_interval BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_millis BIGINT NOT NULL
);
