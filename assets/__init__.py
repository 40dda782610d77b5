"""Dagster assets and checks. Thin: load -> call the core -> write -> metadata."""
