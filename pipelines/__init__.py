"""The app layer on top of the assets: Definitions, jobs and schedules, run recording and progress,
and the `vixshield` command line. Imports flow one way: pipelines -> assets -> vixshield."""
