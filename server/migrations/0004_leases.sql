-- Which server node runs a stack's action, and until when its lease holds (milliseconds
-- since the epoch). Another node resumes an in-progress stack only once the lease lapsed.
ALTER TABLE stacks ADD COLUMN engine_id TEXT;
ALTER TABLE stacks ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
