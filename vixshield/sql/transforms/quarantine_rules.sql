-- The rule-based quarantine as raw implies it, in temp table quarantine_derived (quarantine.sql applies it;
-- a load checks its revisions against it: validate/quarantine.py).
-- Expects temp tables `symbol_rules(symbol, lo, hi, ohlc, term_index, stale_open, vix_lo, vix_hi)` and
-- `macro_rules(series_id, lo, hi)` from the catalog, and the settings' `accepted_holes` (checks.register_rules).
CREATE OR REPLACE TEMP TABLE quarantine_derived AS
WITH bars AS (
    SELECT b.*, r.lo, r.hi, r.ohlc, r.term_index, r.stale_open, r.vix_lo, r.vix_hi,
           b.symbol || '|' || strftime(b.date, '%Y-%m-%d') AS row_key
    FROM raw.daily_bars b JOIN symbol_rules r USING (symbol)
),
vix AS (
    SELECT date, (high - low) / close AS vix_range FROM raw.daily_bars
    WHERE symbol = '^VIX' AND high >= low AND close > 0
),
vix_close AS (
    SELECT b.date, b.close AS vix FROM raw.daily_bars b JOIN symbol_rules r USING (symbol)
    WHERE b.symbol = '^VIX' AND b.close BETWEEN r.lo AND r.hi
),
-- the daily rates in their plausible ranges, each beside every other of the same day (catalog.CURVE_RATES)
-- (the range filter joins first, on its own: DuckDB 1.3.0 drops every row when it follows a second join)
rates AS (
    SELECT x.*, c.gap, c.ratio, c.close
    FROM (SELECT m.series_id, m.observation_date, m.value
          FROM raw.macro_observations m JOIN macro_rules r USING (series_id)
          WHERE isfinite(m.value) AND m.value BETWEEN r.lo AND r.hi) x
    JOIN curve_rules c USING (series_id)
),
curve_pairs AS (
    SELECT a.series_id, a.observation_date, a.value, b.series_id AS other_id, b.value AS other, a.gap, a.ratio,
           abs(a.value - b.value) > a.gap
           AND (b.value = 0 OR a.value / b.value NOT BETWEEN 1 / a.ratio AND a.ratio) AS disagree,
           abs(a.value - b.value) <= a.close
           OR (b.value <> 0 AND a.value / b.value BETWEEN 1 / a.ratio AND a.ratio) AS agree
    FROM rates a JOIN rates b ON b.observation_date = a.observation_date AND b.series_id <> a.series_id
),
-- a rate's witnesses: each other rate of the day, corroborated when it agrees with a third
curve_witnesses AS (
    SELECT p.series_id, p.other_id, p.observation_date, bool_or(q.agree) AS corroborated
    FROM curve_pairs p
    JOIN curve_pairs q ON q.series_id = p.other_id AND q.observation_date = p.observation_date
                      AND q.other_id <> p.series_id
    GROUP BY ALL
)
-- a close outside the plausible range makes the whole row unusable
SELECT 'raw.daily_bars' AS table_name, row_key, 'row' AS column_name, 'close_out_of_range' AS rule,
       CAST(close AS VARCHAR) AS value,
       format('close {} outside the plausible range [{}, {}] for {}', coalesce(CAST(close AS VARCHAR), 'missing'),
              lo, hi, symbol) AS reason
FROM bars WHERE close IS NULL OR close < lo OR close > hi
UNION ALL
-- close-only history written as O=H=L=C: there was no intraday range, so do not invent one
SELECT 'raw.daily_bars', row_key, 'range', 'close_only_bar', CAST(close AS VARCHAR),
       'open = high = low = close: a close-only record, open/high/low set aside'
FROM bars WHERE ohlc AND open = close AND high = close AND low = close
UNION ALL
SELECT 'raw.daily_bars', row_key, 'range', 'high_below_low', format('{}/{}', high, low),
       format('high {} below low {}: intraday range unusable', high, low)
FROM bars WHERE high < low
UNION ALL
SELECT 'raw.daily_bars', row_key, 'open', 'open_outside_range', CAST(open AS VARCHAR),
       format('open {} outside [low {}, high {}]', open, low, high)
FROM bars WHERE high >= low AND (open > high OR open < low) AND NOT (open = close AND high = close AND low = close)
UNION ALL
SELECT 'raw.daily_bars', row_key, 'range', 'close_outside_range', CAST(close AS VARCHAR),
       format('close {} outside [low {}, high {}]', close, low, high)
FROM bars WHERE high >= low AND (close > high OR close < low)
UNION ALL
-- a bar equal to the symbol's previous one in open, high, low, close and volume is a stale feed repeating
-- its last print, not a session (none of the bundle's intraday bars since 1928 repeats; close-only bars,
-- O = H = L = C, can repeat for real and are left alone)
SELECT 'raw.daily_bars', row_key, 'row', 'repeated_bar', format('{}/{}/{}/{}', open, high, low, close),
       format('open, high, low and close (and volume) equal the previous row''s, of {}: a stale repeat, not a print',
              previous_date)
FROM (SELECT *, lag(date) OVER w AS previous_date, lag(open) OVER w AS p_open, lag(high) OVER w AS p_high,
             lag(low) OVER w AS p_low, lag(close) OVER w AS p_close, lag(volume) OVER w AS p_volume
      FROM bars WINDOW w AS (PARTITION BY symbol ORDER BY date))
WHERE ohlc AND NOT (open = close AND high = close AND low = close)
  AND open = p_open AND high = p_high AND low = p_low AND close = p_close AND volume IS NOT DISTINCT FROM p_volume
UNION ALL
-- an index's first value of the day is computed from the previous closes of the stocks not yet open
-- (CME Group, "Understanding the SOQ"): an open equal to the previous close is that value, not a print
SELECT 'raw.daily_bars', row_key, 'open', 'open_is_previous_close', CAST(open AS VARCHAR),
       format('open {} equals the previous session''s close: the index''s stale first value, not an opening print',
              open)
FROM (SELECT *, lag(close) OVER (PARTITION BY symbol ORDER BY date) AS previous_close FROM bars)
WHERE stale_open AND open = previous_close AND NOT (open = close AND high = close AND low = close)
UNION ALL
-- a longer-dated vol index cannot swing far more than the VIX itself on the same day
SELECT 'raw.daily_bars', row_key, 'range', 'spurious_intraday_extreme', format('{}/{}', high, low),
       format('intraday range {}% of close vs VIX {}%: a spurious print',
              round(100 * (high - low) / close, 1), round(100 * vix_range, 1))
FROM bars JOIN vix USING (date)
WHERE term_index AND high >= low AND close BETWEEN low AND high
  AND (high - low) / close > 0.15 AND (high - low) / close > 2.5 * vix_range
UNION ALL
-- a VIX-term index far out of line with the same day's VIX (VIX9D 148.8 on a day the VIX closed 15.0):
-- a unit slip its plausible range lets through, which would price the day's short-dated options
SELECT 'raw.daily_bars', row_key, 'row', 'out_of_line_with_vix', CAST(close AS VARCHAR),
       format('close {} is {}x the VIX''s {} that day, outside [{}, {}]', close, round(close / vix, 2), vix,
              vix_lo, vix_hi)
FROM bars JOIN vix_close USING (date)
WHERE close / vix NOT BETWEEN vix_lo AND vix_hi
UNION ALL
SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d'), 'settle',
       'zero_settle', CAST(settle AS VARCHAR), 'settle missing or 0.0: core uses the close'
FROM raw.vx_futures WHERE (settle IS NULL OR settle <= 0) AND close > 0
UNION ALL
SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d'), 'range',
       'high_below_low', format('{}/{}', high, low), format('high {} below low {}', high, low)
FROM raw.vx_futures WHERE high < low
UNION ALL
SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d'), 'row',
       'no_price', NULL, 'neither a settle nor a close above 0'
FROM raw.vx_futures WHERE coalesce(settle, 0) <= 0 AND coalesce(close, 0) <= 0
UNION ALL
SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d'), 'row',
       'traded_after_expiry', CAST(expiry AS VARCHAR),
       format('trade date {} after the contract''s expiry {}: mislabelled contract', trade_date, expiry)
FROM raw.vx_futures WHERE trade_date > expiry
UNION ALL
-- a VX future prices the VIX one to nine months out, so its settle and close sit in the VIX's plausible
-- range: outside it (a settle in cents, a misplaced decimal) the row is unusable (0 is the rules above)
SELECT 'raw.vx_futures', strftime(v.trade_date, '%Y-%m-%d') || '|' || strftime(v.expiry, '%Y-%m-%d'), 'row',
       'price_out_of_range', format('{}/{}', v.settle, v.close),
       format('settle {} / close {} outside the plausible range [{}, {}] of the VIX', v.settle, v.close, r.lo, r.hi)
FROM raw.vx_futures v, (SELECT lo, hi FROM symbol_rules WHERE symbol = '^VIX') r
WHERE v.settle > r.hi OR v.close > r.hi OR (v.settle > 0 AND v.settle < r.lo) OR (v.close > 0 AND v.close < r.lo)
UNION ALL
SELECT 'raw.macro_observations', series_id || '|' || strftime(observation_date, '%Y-%m-%d'), 'row',
       'not_finite', CAST(value AS VARCHAR), 'value is NaN or infinite'
FROM raw.macro_observations WHERE NOT isfinite(value)
UNION ALL
-- a value outside its series' plausible range (a unit slip, a misplaced decimal) makes the row unusable
SELECT 'raw.macro_observations', m.series_id || '|' || strftime(m.observation_date, '%Y-%m-%d'), 'row',
       'value_out_of_range', CAST(m.value AS VARCHAR),
       format('value {} outside the plausible range [{}, {}] for {}', m.value, r.lo, r.hi, m.series_id)
FROM raw.macro_observations m JOIN macro_rules r USING (series_id)
WHERE isfinite(m.value) AND (m.value < r.lo OR m.value > r.hi)
UNION ALL
-- a rate that agrees with no other rate of the day and disagrees with one that agrees with a third: a unit
-- slip its plausible range lets through (two rates alone, or a whole curve slipped alike, name none)
SELECT 'raw.macro_observations', p.series_id || '|' || strftime(p.observation_date, '%Y-%m-%d'), 'row',
       'out_of_line_with_curve', CAST(p.value AS VARCHAR),
       format('value {} out of line with {} the same day (over {} points from each, and under 1/{} or over {} '
              'times it) and close to no other rate: a unit slip', p.value,
              string_agg(format('{} {}', p.other_id, p.other), ', ' ORDER BY p.other_id) FILTER (WHERE p.disagree),
              any_value(p.gap), any_value(p.ratio), any_value(p.ratio))
FROM curve_pairs p LEFT JOIN curve_witnesses w USING (series_id, other_id, observation_date)
GROUP BY p.series_id, p.observation_date, p.value
HAVING NOT bool_or(p.agree) AND bool_or(p.disagree AND coalesce(w.corroborated, false))
UNION ALL
-- a spread a hundredth of the difference of its two rates that day (catalog.CURVE_SPREADS): saved as a decimal
SELECT 'raw.macro_observations', t.series_id || '|' || strftime(t.observation_date, '%Y-%m-%d'), 'row',
       'out_of_line_with_curve', CAST(t.value AS VARCHAR),
       format('value {} is a hundredth of {} {} - {} {} = {} the same day, the difference it is: a unit slip',
              t.value, c.long_id, l.value, c.short_id, s.value, round(l.value - s.value, 4))
FROM raw.macro_observations t JOIN curve_spreads c USING (series_id)
JOIN rates l ON l.series_id = c.long_id AND l.observation_date = t.observation_date
JOIN rates s ON s.series_id = c.short_id AND s.observation_date = t.observation_date
WHERE isfinite(t.value) AND abs(t.value - (l.value - s.value)) > c.tol
  AND abs(100 * t.value - (l.value - s.value)) <= c.tol
UNION ALL
-- rows the user sets aside (validation.set_aside; temp table accepted_holes): a wrong value a publisher keeps
-- serving, with the user's reason; the session is then a hole the history checks accept
SELECT 'raw.daily_bars', b.row_key, 'row', 'set_aside', CAST(b.close AS VARCHAR), 'validation.set_aside: ' || a.reason
FROM bars b JOIN accepted_holes a ON a.set_aside AND a.series = b.symbol AND a.date = b.date
UNION ALL
SELECT 'raw.vx_futures', strftime(v.trade_date, '%Y-%m-%d') || '|' || strftime(v.expiry, '%Y-%m-%d'), 'row',
       'set_aside', CAST(CASE WHEN v.settle > 0 THEN v.settle ELSE v.close END AS VARCHAR),
       'validation.set_aside: ' || a.reason
FROM raw.vx_futures v
JOIN accepted_holes a ON a.set_aside AND a.series = strftime(v.expiry, '%Y-%m-%d') AND a.date = v.trade_date
UNION ALL
SELECT 'raw.macro_observations', m.series_id || '|' || strftime(m.observation_date, '%Y-%m-%d'), 'row',
       'set_aside', CAST(m.value AS VARCHAR), 'validation.set_aside: ' || a.reason
FROM raw.macro_observations m
JOIN accepted_holes a ON a.set_aside AND a.series = m.series_id AND a.date = m.observation_date;
