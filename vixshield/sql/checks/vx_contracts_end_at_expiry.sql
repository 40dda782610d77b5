-- Offenders: VX contracts whose rows do not end at their expiry: more than 5 sessions short of it (when it
-- falls inside the delivered futures history, up to the as-of), or more than 5 rows dated after it. A
-- contract trades until its final settlement and not after: each of the real file's 159 expired contracts
-- since 2013 has a row on its expiry day, and 2 rows in all are dated after one. A file whose Futures
-- column names another month's contract passes the row rules: labelled with the next month's expiry,
-- every contract stops about 20 sessions short; with the previous month's, the last month of each is
-- set aside as traded after expiry and the rest priced as the nearer month. Either way the hedge would
-- price its options off the wrong month's future. A few missing last rows (a publisher's gap) are left
-- to the gap warnings.
WITH delivered AS (
    SELECT expiry, trade_date FROM raw.vx_futures WHERE trade_date <= getvariable('as_of')
),
contracts AS (
    SELECT expiry, max(trade_date) FILTER (WHERE trade_date <= expiry) AS last_trade,
           count(*) FILTER (WHERE trade_date > expiry) AS rows_after_expiry
    FROM delivered
    GROUP BY expiry
),
judged AS (
    SELECT c.expiry, c.last_trade, c.rows_after_expiry,
           (SELECT count(*) FROM core.sessions s WHERE s.date > c.last_trade AND s.date <= c.expiry)
               AS sessions_short
    FROM contracts c
)
SELECT expiry, last_trade, sessions_short, rows_after_expiry
FROM judged
WHERE (expiry <= (SELECT max(trade_date) FROM delivered) AND sessions_short > 5) OR rows_after_expiry > 5
ORDER BY expiry;
