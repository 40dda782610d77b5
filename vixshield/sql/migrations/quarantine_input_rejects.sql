-- Input rows that were never loaded once sat in meta.quarantine under column 'row' (which nulls core
-- cells of a good stored row with the same key); they belong under 'input'. A no-op once done.
INSERT OR IGNORE INTO meta.quarantine
SELECT table_name, row_key, 'input', rule, value, reason FROM meta.quarantine
WHERE column_name = 'row' AND rule = 'unreadable';
DELETE FROM meta.quarantine WHERE column_name = 'row' AND rule = 'unreadable';
