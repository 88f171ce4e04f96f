"""Tunable parts-warehouse policy. Each value can be overridden in Django settings under the same name."""

from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    # R28: A = the parts making the first 80 % of 12 months' consumption value, B = the next 15 %, C = the rest.
    "PARTS_ABC_THRESHOLDS": (Decimal("80"), Decimal("95")),
    "PARTS_ABC_LOOKBACK_DAYS": 365,
    # R26: how often a part of each class is counted, in days (A quarterly, B twice a year, C yearly).
    "PARTS_COUNT_INTERVAL_DAYS": {"A": 91, "B": 182, "C": 365, "": 365},
    # R27: the alert level of a part/warehouse without its own level, by class (units). C parts and parts not yet
    # classified (special orders for one customer) raise no alert unless a level is set for them.
    "PARTS_DEFAULT_ALERT_LEVEL": {"A": Decimal("4"), "B": Decimal("2"), "C": Decimal("0"), "": Decimal("0")},
    # R27: the suggested reorder brings free stock up to alert level x this factor, by class.
    "PARTS_REORDER_FACTOR": {"A": Decimal("3"), "B": Decimal("2"), "C": Decimal("2"), "": Decimal("2")},
    # R29: a return or exchange is requested within this many working days of receipt.
    "PARTS_RETURN_WORKING_DAYS": 14,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
