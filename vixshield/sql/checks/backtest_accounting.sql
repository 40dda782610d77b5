-- Offenders in the latest backtest run: a strategy whose NAV change is not explained by its equity
-- P&L, cash interest and the P&L of its trades (from the fill ledger; costs are inside), or a trade
-- whose status and dates disagree.
WITH latest AS (SELECT run_id FROM backtest.runs ORDER BY started_at DESC LIMIT 1),
runs AS (SELECT r.* FROM backtest.runs r JOIN latest USING (run_id)),
carry AS (
    SELECT e.run_id, e.strategy, arg_max(e.nav, e.date) AS last_nav, sum(e.equity_pnl + e.interest) AS carry
    FROM backtest.equity e JOIN latest USING (run_id) GROUP BY ALL
),
pnl AS (
    SELECT t.run_id, t.strategy, sum(t.pnl) AS trade_pnl
    FROM backtest.trades t JOIN latest USING (run_id) GROUP BY ALL
),
trades AS (SELECT t.* FROM backtest.trades t JOIN latest USING (run_id))
SELECT r.strategy, 'nav_identity' AS problem,
       c.last_nav - r.initial_nav - c.carry - coalesce(p.trade_pnl, 0) AS gap
FROM runs r JOIN carry c USING (run_id, strategy) LEFT JOIN pnl p USING (run_id, strategy)
WHERE abs(c.last_nav - r.initial_nav - c.carry - coalesce(p.trade_pnl, 0)) > 0.01
UNION ALL
SELECT strategy, 'status_disagrees_with_exit_date', NULL FROM trades
WHERE (status = 'closed') <> (exit_date IS NOT NULL) OR status NOT IN ('closed', 'open')
UNION ALL
SELECT strategy, 'exit_before_entry', NULL FROM trades WHERE exit_date < entry_date
UNION ALL
SELECT t.strategy, 'open_after_expiry', NULL FROM trades t JOIN runs r USING (run_id, strategy)
WHERE t.status = 'open' AND t.expiry < r.last_session;
