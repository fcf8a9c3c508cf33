-- A stack's tags (Heat's `tags`): a JSON list of strings, NULL when the stack has none.
ALTER TABLE stacks ADD COLUMN tags TEXT;
