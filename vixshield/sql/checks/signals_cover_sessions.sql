-- Offenders: sessions with features (SPX and VIX) but no plan row, or more than one.
(SELECT date, 'no_plan' AS problem FROM features.daily WHERE spx_close IS NOT NULL AND vix IS NOT NULL
 EXCEPT SELECT date, 'no_plan' FROM signals.condor_plan)
UNION ALL
SELECT date, 'duplicate' FROM signals.condor_plan GROUP BY date HAVING count(*) > 1
UNION ALL
SELECT date, 'nav_not_positive' FROM signals.book_daily WHERE NOT nav > 0;
