-- Stack snapshots (Heat's `snapshot` table): the stack's definition and each resource's
-- state at the time, as JSON; deleted with the stack.
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    stack_id TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX snapshots_stack ON snapshots (stack_id);
