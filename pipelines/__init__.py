"""Dagster wiring: Definitions, resources, jobs and schedules."""
