-- Content-addressed documents: templates, environments and files maps are stored once.
-- A stacks column holding `sha256:<hex>` refers to a row here; older rows keep inline JSON.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- Nested stacks: the owning stack and resource, the depth below the root, the root itself,
-- and (on the root) the number of resources in the whole tree, so limits are O(1).
ALTER TABLE stacks ADD COLUMN owner_id TEXT;
ALTER TABLE stacks ADD COLUMN owner_resource TEXT;
ALTER TABLE stacks ADD COLUMN root_id TEXT;
ALTER TABLE stacks ADD COLUMN nested_depth BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stacks ADD COLUMN resource_total BIGINT NOT NULL DEFAULT 0;
CREATE INDEX stacks_owner ON stacks (owner_id);
