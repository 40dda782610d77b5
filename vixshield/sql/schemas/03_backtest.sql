-- backtest: the model book replayed over history per strategy (METHODOLOGY §7). Every table is keyed
-- by run_id; a run never rewrites another run's rows, and each run's rows land in one transaction.
CREATE SCHEMA IF NOT EXISTS backtest;

CREATE TABLE IF NOT EXISTS backtest.runs (
    run_id              VARCHAR NOT NULL,
    strategy            VARCHAR NOT NULL,
    description         VARCHAR,
    started_at          TIMESTAMP NOT NULL,
    from_date           DATE,                  -- as asked (NULL: the first session with the data needed)
    to_date             DATE,
    first_session       DATE,                  -- as run
    last_session        DATE,
    sessions            BIGINT,
    initial_nav         DOUBLE,                -- dollars at the start (the NAV identity's anchor)
    settings            JSON,                  -- the strategy's full book settings
    settings_digest     VARCHAR,
    elapsed_s           DOUBLE,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, strategy)
);

CREATE TABLE IF NOT EXISTS backtest.equity (
    run_id              VARCHAR NOT NULL,
    strategy            VARCHAR NOT NULL,
    date                DATE NOT NULL,
    nav                 DOUBLE NOT NULL,       -- dollars, from initial_nav
    daily_return        DOUBLE,
    drawdown            DOUBLE,                -- nav / running max - 1
    equity_value        DOUBLE,
    cash                DOUBLE,                -- T-bills
    condor_value        DOUBLE,                -- open condors at mid (a liability, <= 0)
    hedge_value         DOUBLE,                -- open VIX calls at model
    writer_value        DOUBLE,                -- the PUT/BXM short option at mid (<= 0)
    equity_pnl          DOUBLE,
    interest            DOUBLE,
    cash_rate           DOUBLE,                -- annual rate credited on cash that session
    regime              VARCHAR,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, strategy, date)
);

CREATE TABLE IF NOT EXISTS backtest.trades (
    run_id              VARCHAR NOT NULL,
    strategy            VARCHAR NOT NULL,
    position_id         VARCHAR NOT NULL,
    sleeve              VARCHAR NOT NULL,      -- condor | hedge | writer
    instrument          VARCHAR,
    layer               VARCHAR,               -- L0 | L1 | L2 for hedge positions
    entry_date          DATE NOT NULL,
    exit_date           DATE,                  -- NULL while open
    expiry              DATE,
    contracts           DOUBLE,
    entry_price         DOUBLE,                -- model mid per unit at entry
    exit_price          DOUBLE,                -- mid (or settlement) per unit at the last exit fill
    entry_cash          DOUBLE,                -- dollars: opening fill plus adjustments (paid < 0)
    exit_cash           DOUBLE,                -- dollars: closing fills, partial sales included
    open_value          DOUBLE,                -- dollars: the last mark of a position still open
    costs               DOUBLE,                -- dollars of slippage and commissions, inside the cash
    pnl                 DOUBLE,                -- entry_cash + exit_cash + open_value
    status              VARCHAR NOT NULL,      -- closed | open
    exit_reason         VARCHAR,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, strategy, position_id)
);

CREATE TABLE IF NOT EXISTS backtest.metrics (
    run_id              VARCHAR NOT NULL,
    strategy            VARCHAR NOT NULL,
    "window"            VARCHAR NOT NULL,      -- all | cboe_1990_2015 (the published indices' window)
    start               DATE,
    "end"               DATE,
    years               DOUBLE,
    cagr                DOUBLE,
    vol                 DOUBLE,
    sharpe              DOUBLE,                -- vs the T-bill rate the book credited
    sortino             DOUBLE,
    max_drawdown        DOUBLE,
    calmar              DOUBLE,
    worst_month         DOUBLE,
    hit_rate            DOUBLE,                -- closed condor and option-writer trades with pnl > 0
    trades              DOUBLE,
    pnl_per_trade       DOUBLE,                -- dollars
    hedge_cost_per_year DOUBLE,                -- VIX-call premium paid per year / average NAV
    stress_1998_08      DOUBLE,                -- NAV return through each METHODOLOGY §7 stress window
    stress_2008_10      DOUBLE,
    stress_2011_08      DOUBLE,
    stress_2015_08      DOUBLE,
    stress_2018_02      DOUBLE,
    stress_2020_03      DOUBLE,
    stress_2022         DOUBLE,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, strategy, "window")
);

CREATE TABLE IF NOT EXISTS backtest.ablation (
    run_id              VARCHAR NOT NULL,
    variant             VARCHAR NOT NULL,      -- full | no_<rule>
    cagr                DOUBLE,
    vol                 DOUBLE,
    sharpe              DOUBLE,
    sortino             DOUBLE,
    max_drawdown        DOUBLE,
    calmar              DOUBLE,
    worst_month         DOUBLE,
    hit_rate            DOUBLE,
    trades              DOUBLE,
    pnl_per_trade       DOUBLE,
    hedge_cost_per_year DOUBLE,
    d_cagr              DOUBLE,                -- full minus the variant: > 0 means the rule added it
    d_sharpe            DOUBLE,
    d_max_drawdown      DOUBLE,
    d_calmar            DOUBLE,
    verdict             VARCHAR,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, variant)
);

CREATE TABLE IF NOT EXISTS backtest.sweep (
    run_id              VARCHAR NOT NULL,
    short_delta         DOUBLE NOT NULL,
    take_profit         DOUBLE NOT NULL,
    hedge_budget_pct    DOUBLE NOT NULL,
    cagr                DOUBLE,
    vol                 DOUBLE,
    sharpe              DOUBLE,
    sortino             DOUBLE,
    max_drawdown        DOUBLE,
    calmar              DOUBLE,
    worst_month         DOUBLE,
    hit_rate            DOUBLE,
    trades              DOUBLE,
    pnl_per_trade       DOUBLE,
    hedge_cost_per_year DOUBLE,
    methodology_version VARCHAR,
    PRIMARY KEY (run_id, short_delta, take_profit, hedge_budget_pct)
);
