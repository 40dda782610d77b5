-- Offenders: one-session log moves beyond the configured limits (variables max_jump_spx; max_jump_vol
-- either way and max_drop_vol down: the volatility indices and the front two VX futures, across a roll
-- too). Blocking, before the as-of (core_outlier_jumps) and on it (core_outlier_jumps_recent, checks.py):
-- no real move since 1927 reaches the limits, and a bad print anywhere moves the book's whole path after
-- it. A real one is let through by raising the limit. VIX9D is left out: its 9-day window makes real
-- moves of this size (2018-02-05: +215%).
WITH moves AS (
    SELECT date,
           ln(spx_close / lag(spx_close) OVER w) AS spx_move,
           ln(vix / lag(vix) OVER w) AS vix_move,
           ln(vix3m / lag(vix3m) OVER w) AS vix3m_move,
           ln(vix6m / lag(vix6m) OVER w) AS vix6m_move,
           ln(vvix / lag(vvix) OVER w) AS vvix_move,
           ln(vx_m1 / lag(vx_m1) OVER w) AS vx_m1_move,
           ln(vx_m2 / lag(vx_m2) OVER w) AS vx_m2_move
    FROM core.market_daily WINDOW w AS (ORDER BY date)
)
SELECT date, round(spx_move, 4) AS spx_move, round(vix_move, 4) AS vix_move,
       round(vix3m_move, 4) AS vix3m_move, round(vix6m_move, 4) AS vix6m_move, round(vvix_move, 4) AS vvix_move,
       round(vx_m1_move, 4) AS vx_m1_move, round(vx_m2_move, 4) AS vx_m2_move
FROM moves
WHERE abs(spx_move) > getvariable('max_jump_spx')
   OR greatest(abs(vix_move), abs(vix3m_move), abs(vix6m_move), abs(vvix_move), abs(vx_m1_move), abs(vx_m2_move))
      > getvariable('max_jump_vol')
   OR least(vix_move, vix3m_move, vix6m_move, vvix_move, vx_m1_move, vx_m2_move) < -getvariable('max_drop_vol')
ORDER BY date;
