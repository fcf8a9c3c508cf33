-- The definition a stack had before its current update (a blob reference to
-- {"template", "environment", "files", "parameters"}), for rollback; NULL after a create.
ALTER TABLE stacks ADD COLUMN previous TEXT;
