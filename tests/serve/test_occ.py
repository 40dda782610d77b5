"""OCC/OSI option symbols against symbols the exchanges publish.

Sources of the expected symbols (compact form; the padded form adds spaces after the root to 6 chars):
- Cboe's delayed-quote feed for VIX options (cdn.cboe.com/api/global/delayed_quotes/options/_VIX.json,
  May 2026) lists "VIX260617C00010000" and "VIX260617C00010500": the June 17 2026 VIX calls struck at
  10 and at 10.5, the decimal strike written as 00010500.
- Cboe's SPX Weeklys (SPXW) product page: "On standard expiration dates (i.e., generally the third Friday
  of the month), both AM-settled options trading under symbol SPX and PM-settled options trading under
  symbol SPXW ... will expire" (Cboe Regulatory Circular RG17-002). The two 5000 calls of Friday
  May 17 2024, SPX240517C05000000 and SPXW240517C05000000, are the example market-data vendors quote.
- The OSI layout (OCC, Options Symbology Initiative): root padded to 6, yymmdd, C/P, strike x 1000 in
  8 digits, so a 22.5 strike is 00022500.
"""

import datetime as dt

import pytest

from vixshield import calendars
from vixshield.serve import occ


def test_vix_calls_published_by_cboe_including_a_decimal_strike():
    assert occ.compact(occ.occ_symbol("VIX", dt.date(2026, 6, 17), "call", 10)) == "VIX260617C00010000"
    assert occ.compact(occ.occ_symbol("VIX", "2026-06-17", "C", 10.5)) == "VIX260617C00010500"
    assert occ.occ_symbol("VIX", dt.date(2026, 6, 17), "call", 10.5) == "VIX   260617C00010500"


def test_vix_22_5_strike_is_written_in_thousandths():
    symbol = occ.occ_symbol("VIX", dt.date(2026, 6, 17), "call", 22.5)
    assert symbol == "VIX   260617C00022500" and len(symbol) == 21
    assert occ.parse(symbol) == occ.OptionKey("VIX", dt.date(2026, 6, 17), "C", 22.5)
    assert occ.parse("VIX260617C00022500") == occ.parse(symbol)


def test_spx_and_spxw_on_a_monthly_expiration_friday():
    friday = dt.date(2024, 5, 17)
    assert calendars.spx_monthly_expiration(2024, 5).date() == friday  # the third Friday: both series expire
    am = occ.occ_symbol(occ.spx_root(am_settled=True), friday, "call", 5000)
    pm = occ.occ_symbol(occ.spx_root(am_settled=False), friday, "call", 5000)
    assert (occ.compact(am), occ.compact(pm)) == ("SPX240517C05000000", "SPXW240517C05000000")
    assert (am, pm) == ("SPX   240517C05000000", "SPXW  240517C05000000")
    assert occ.occ_symbol("SPXW", dt.date(2024, 5, 17), "put", 4725) == "SPXW  240517P04725000"


@pytest.mark.parametrize(
    ("root", "strike", "kind"),
    [("SPXW", 0, "call"), ("SPXW", 100000, "put"), ("SPXW", 4500.0001, "put"), ("TOOLONGX", 10, "call"),
     ("VIX", 20, "straddle")],
)  # fmt: skip
def test_values_the_format_cannot_hold_are_refused(root, strike, kind):
    with pytest.raises(ValueError):
        occ.occ_symbol(root, dt.date(2026, 6, 17), kind, strike)


def test_parse_refuses_what_is_not_a_symbol():
    with pytest.raises(ValueError, match="not an OSI"):
        occ.parse("VIX 2026-06-17 22.5 C")
