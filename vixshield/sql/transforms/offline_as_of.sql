-- The session an offline run stands on: the last date both SPX and VIX have a close. A row of theirs the
-- delivery brought but that was not loaded (a value that is not a number, keys that disagree) counts
-- too: the run then stands on that session and stops on its missing close, naming the row, rather than
-- republishing the session before as if nothing had arrived. Rejects dated after today or on a weekend
-- name no session.
SELECT min(last) FROM (
    SELECT symbol, max(date) AS last FROM (
        SELECT symbol, date FROM raw.daily_bars WHERE symbol IN ('^GSPC', '^VIX') AND close IS NOT NULL
        UNION ALL
        SELECT split_part(row_key, '|', 1), try_strptime(split_part(row_key, '|', 2), '%Y-%m-%d')::DATE
        FROM meta.quarantine
        WHERE table_name = 'raw.daily_bars' AND column_name = 'input'
          AND rule NOT IN ('future_dated', 'weekend_dated') AND split_part(row_key, '|', 1) IN ('^GSPC', '^VIX')
    )
    WHERE date IS NOT NULL
    GROUP BY symbol
);
