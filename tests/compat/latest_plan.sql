-- What an app reads each evening, as every reader in tests/e2e/test_compat.py runs it. Integers are cast
-- to INTEGER and lists of structs reduced to a few fields: the Node API's JSON gives BIGINTs as strings.
SELECT date, enter, expiry, dte::INTEGER AS dte, long_put, short_put, short_call, long_call,
       short_put_delta, short_call_delta, credit, max_loss, contracts::INTEGER AS contracts, reasons,
       regime_after_hysteresis, len(actions)::INTEGER AS open_actions,
       len(hedge_layers)::INTEGER AS hedge_layer_count, hedge_layers[1].layer AS first_layer,
       hedge_layers[1].action AS first_layer_action, book_nav
FROM signals.latest_plan
