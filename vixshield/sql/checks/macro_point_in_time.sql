-- Offenders: a macro value in core that was not yet known at as_of, or known before it happened.
SELECT series_id, observation_date, available_date FROM core.macro_observations
WHERE available_date > getvariable('as_of') OR available_date < observation_date;
