"""Stage 6, serving: the read-only published snapshot and Parquet export, the column contract apps
rely on, and the plan as a trader reads it."""
