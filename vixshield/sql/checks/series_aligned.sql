-- Offenders: a daily series whose dates are one session off, or that does not move with the VIX at all,
-- in a calendar year up to the as-of. Each series' session-to-session changes move with the VIX's on the
-- same session (it is the anchor: vix_agrees_with_fred pins its dates to FRED's VIXCLS), never more with
-- the VIX's of the session before or after. A file whose values sit a session late (a time-zone slip in
-- an export) or a session early (a look-ahead: tomorrow's close dated today) passes every range and jump
-- rule while every feature, gate and plan built on it moves. Each year with at least 60 pairs is tested:
-- a year where the correlation with the VIX one session away is stronger than the same session's names
-- the series and the shift. On the real 1990-2026 files the same-session correlation leads in every
-- series and year: VVIX in 2006 by 0.13, every other series by 0.31 or more. A year whose same-session
-- correlation is below min_co_movement (0.15) is named too: the file holds some other series (VVIX's and
-- SKEW's files swapped), where the real ones are never below 0.29 (VVIX 2006). SKEW is not tested: it
-- does not move with the VIX day to day.
WITH sessions AS (
    SELECT date, row_number() OVER (ORDER BY date) AS n FROM core.sessions WHERE date <= getvariable('as_of')
),
levels AS (  -- series: one line of prices (the partition); named: the file a finding names
    SELECT series, series AS named, date, level FROM (
        UNPIVOT (SELECT date, spx_close, vix, vix9d, vix3m, vix6m, vvix FROM core.market_daily)
        ON spx_close, vix, vix9d, vix3m, vix6m, vvix INTO NAME series VALUE level
    )
    UNION ALL SELECT strftime(expiry, '%Y-%m-%d'), 'VX futures', trade_date, price FROM core.vx_futures WHERE price > 0
    UNION ALL SELECT symbol, 'breadth universe', date, close FROM core.breadth_closes  -- the sector ETFs or any other
    UNION ALL SELECT series, series, date, value FROM core.breadth_vendor
),
changes AS (  -- change from the series' previous row, kept only when that row is the previous session
    SELECT named, n, date, level - lag(level) OVER w AS change, n - lag(n) OVER w AS step
    FROM levels JOIN sessions USING (date)
    WHERE level IS NOT NULL
    WINDOW w AS (PARTITION BY series ORDER BY n)
),
anchor AS (SELECT n, change AS vix FROM changes WHERE named = 'vix' AND step = 1),
paired AS (
    SELECT c.named AS series, year(c.date) AS year, c.change, same.vix AS same, before.vix AS before,
           after.vix AS after
    FROM changes c
    JOIN anchor same ON same.n = c.n
    LEFT JOIN anchor before ON before.n = c.n - 1
    LEFT JOIN anchor after ON after.n = c.n + 1
    WHERE c.step = 1 AND c.named <> 'vix'
),
years AS (
    SELECT series, year, count(*) AS pairs, corr(change, same) AS same_session,
           corr(change, before) AS session_before, corr(change, after) AS session_after
    FROM paired
    GROUP BY series, year
    HAVING count(*) >= 60
)
SELECT series, year,
       -- a shift moves a real series' co-movement (0.29 at the least) one session away; a weaker one there
       -- is chance, and the file holds a series that does not move with the VIX at all
       CASE WHEN greatest(abs(session_before), abs(session_after)) < 2 * getvariable('min_co_movement')
                THEN 'does not move with the VIX: another series'' values?'
            WHEN abs(session_before) >= abs(session_after) THEN 'dates one session late'
            ELSE 'dates one session early' END AS finding,
       pairs, round(same_session, 3) AS same_session, round(session_before, 3) AS session_before,
       round(session_after, 3) AS session_after
FROM years
WHERE greatest(abs(session_before), abs(session_after)) > abs(same_session)
   OR abs(same_session) < getvariable('min_co_movement')
ORDER BY series, finding LIKE 'does not%' DESC, year;  -- a series holding another's: said first
