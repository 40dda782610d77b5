-- Offenders: sessions up to the as-of where Cboe's VIX close and FRED's republication of it (VIXCLS,
-- catalog.VIX_FRED_SERIES) both exist and differ by more than their rounding (variable vix_fred_tol).
-- They agree on every session both have since 1990; a difference is a bad print in one of the two files
-- (another index saved as VIX, a misplaced decimal the plausible range lets through), and which one is
-- wrong cannot be told from here. Without a VIXCLS file nothing is compared.
SELECT m.date, m.vix AS cboe_vix, o.value AS fred_vixcls
FROM core.market_daily m
JOIN core.macro_observations o ON o.series_id = getvariable('vix_fred_series') AND o.observation_date = m.date
WHERE m.date <= getvariable('as_of') AND abs(m.vix - o.value) > getvariable('vix_fred_tol')
ORDER BY m.date;
