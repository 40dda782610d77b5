-- Offenders: sessions up to the as-of, inside the history of a required series (the SPX close and the
-- VIX close), where core has no value, other than the publishers' own gaps (catalog known_gaps: Cboe's
-- VIX file lacks four sessions). A hole there is a row a delivery lost: a bar of 'null's, a row whose
-- date could not be read, a row set aside by a rule. The book would carry or skip that session and its
-- whole path after it, today's plan and tickets included, would differ from a run on the corrected file.
-- A hole the user accepted (validation.accepted_holes) is listed by the accepted_holes check instead.
-- A warehouse that holds the row keeps it, so only a new warehouse (or a lost stored row) is held to this.
WITH firsts AS (
    SELECT min(date) FILTER (spx_close IS NOT NULL) AS spx, min(date) FILTER (vix IS NOT NULL) AS vix
    FROM core.market_daily
),
holes AS (
    SELECT m.date, 'spx_close' AS series FROM core.market_daily m, firsts f
    WHERE m.date >= f.spx AND m.spx_close IS NULL
    UNION ALL
    SELECT m.date, 'vix' FROM core.market_daily m, firsts f
    WHERE m.date >= f.vix AND m.vix IS NULL
)
SELECT h.date, h.series
FROM holes h
WHERE h.date < getvariable('as_of')  -- the as-of session itself: core_required_fresh
  AND NOT EXISTS (SELECT 1 FROM known_gaps g WHERE g.series = h.series AND g.date = h.date)
  AND NOT EXISTS (SELECT 1 FROM accepted_holes a WHERE a.core_column = h.series AND a.date = h.date)
ORDER BY h.date, h.series;
