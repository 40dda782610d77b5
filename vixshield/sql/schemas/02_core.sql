-- core: validated, NYSE-session-aligned tables. Rebuilt from raw + meta.quarantine each run.
CREATE SCHEMA IF NOT EXISTS core;
