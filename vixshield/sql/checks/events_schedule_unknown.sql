-- FOMC decisions whose `scheduled` flag neither the events file nor the shipped Fed calendar gives.
-- They are taken as unscheduled (known on their own day only); add them to the events file (or to
-- vixshield/data/fomc_decisions.csv) with the flag the Fed's records give, to settle them.
SELECT date, kind, scheduled, known_from
FROM core.events
WHERE scheduled_from = 'unknown'
ORDER BY date;
