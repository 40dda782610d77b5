-- Every stored (raw table, series, date), each series named as the row keys of meta.quarantine name it:
-- a daily symbol (^GSPC), a VX contract by its expiry (2013-03-20), a breadth or macro series, an event
-- kind (fomc). Temp view raw_series_dates (checks.register_rules), read by history_rows_usable and
-- accepted_holes.
SELECT 'raw.daily_bars' AS table_name, symbol AS series, date FROM raw.daily_bars
UNION ALL SELECT 'raw.vx_futures', strftime(expiry, '%Y-%m-%d'), trade_date FROM raw.vx_futures
UNION ALL SELECT 'raw.breadth_vendor', series, date FROM raw.breadth_vendor
UNION ALL SELECT 'raw.macro_observations', series_id, observation_date FROM raw.macro_observations
UNION ALL SELECT 'raw.events', kind, date FROM raw.events
