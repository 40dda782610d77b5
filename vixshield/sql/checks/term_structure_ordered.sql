-- Offenders: a pair of neighbouring VIX-term indices (the VIX and VIX3M, VIX3M and VIX6M) whose shorter
-- tenor is below the longer on at most half of the sessions up to the as-of where both exist (at least
-- 60). The VIX curve slopes up most of the time and inverts only in stress: on the real files the VIX is
-- below VIX3M on 92% of 4,227 sessions, VIX3M below VIX6M on 93% of 4,175. The VIX3M and VIX6M files
-- saved under each other's names pass every range, ratio and distinctness rule, and would put the curve
-- upside down on 93% of sessions: IVTS, the term-structure gates and the hedge's surface all move.
WITH pairs AS (
    SELECT 'vix' AS shorter, 'vix3m' AS longer, vix AS short_close, vix3m AS long_close
    FROM core.market_daily WHERE date <= getvariable('as_of')
    UNION ALL
    SELECT 'vix3m', 'vix6m', vix3m, vix6m FROM core.market_daily WHERE date <= getvariable('as_of')
)
SELECT shorter, longer, count(*) FILTER (WHERE short_close < long_close) AS shorter_below, count(*) AS common_sessions
FROM pairs
WHERE short_close IS NOT NULL AND long_close IS NOT NULL
GROUP BY shorter, longer
HAVING count(*) >= 60 AND count(*) FILTER (WHERE short_close < long_close) <= count(*) / 2
ORDER BY shorter;
