-- Re-derive the rule-based quarantine from raw (ingest rejects, column_name 'input', are kept): after
-- quarantine_rules.sql, the derived rows are compared with the stored ones and only the difference is
-- deleted and inserted: the result is the same as replacing them all, and a day's run touches a few rows
-- instead of rewriting ~13,000 (and their key index).
DELETE FROM meta.quarantine q
WHERE q.column_name <> 'input' AND NOT EXISTS (
    SELECT 1 FROM quarantine_derived d
    WHERE d.table_name = q.table_name AND d.row_key = q.row_key AND d.column_name = q.column_name
      AND d.rule = q.rule AND d.value IS NOT DISTINCT FROM q.value AND d.reason = q.reason
);

INSERT INTO meta.quarantine
SELECT * FROM quarantine_derived d
WHERE NOT EXISTS (
    SELECT 1 FROM meta.quarantine q
    WHERE q.table_name = d.table_name AND q.row_key = d.row_key AND q.column_name = d.column_name AND q.rule = d.rule
)
ON CONFLICT DO NOTHING;
