-- Portable schema (SQLite and PostgreSQL): TEXT for ids, JSON and timestamps, BIGINT for numbers.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE stacks (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    template TEXT NOT NULL,
    environment TEXT NOT NULL,
    files TEXT NOT NULL,
    parameters TEXT NOT NULL,
    disable_rollback BIGINT NOT NULL,
    timeout_mins BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    deleted_at TEXT
);
CREATE INDEX stacks_project_name ON stacks (project, name);

CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    stack_id TEXT NOT NULL,
    name TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    physical_id TEXT NOT NULL,
    reference_id TEXT,
    properties TEXT NOT NULL,
    attributes TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE UNIQUE INDEX resources_stack_name ON resources (stack_id, name);
CREATE INDEX resources_physical_id ON resources (physical_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    stack_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    physical_resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_action TEXT NOT NULL,
    resource_status TEXT NOT NULL,
    resource_status_reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX events_stack_seq ON events (stack_id, seq);

CREATE TABLE software_configs (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    group_name TEXT NOT NULL,
    config TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    options TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE software_deployments (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    server_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    input_values TEXT NOT NULL,
    output_values TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX software_deployments_server ON software_deployments (server_id);

CREATE TABLE server_metadata (
    server_id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    document TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
