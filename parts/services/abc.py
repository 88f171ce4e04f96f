"""R28: ABC classes from the last 12 months' consumption value, computed in one SQL statement."""

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.models import AuditAction, Dealership

from .. import conf
from ..models import CONSUMPTION_KINDS, Part, StockMovement

# A part is A while the consumption value of the parts ranked above it is still under the A threshold (so the part
# that crosses 80 % is itself A), B likewise up to the B threshold, the rest C. Parts never consumed are C.
_RANKED_SQL = """
WITH consumption AS (
    SELECT m.part_id, SUM(-m.quantity * m.unit_cost) AS value
    FROM {movement} m
    WHERE m.dealership_id = %(dealership)s
      AND m.kind IN %(kinds)s
      AND m.occurred_at >= %(since)s AND m.occurred_at < %(until)s
    GROUP BY m.part_id
),
ranked AS (
    SELECT p.id,
           GREATEST(COALESCE(c.value, 0), 0) AS value,
           SUM(GREATEST(COALESCE(c.value, 0), 0)) OVER (
               ORDER BY GREATEST(COALESCE(c.value, 0), 0) DESC, p.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS running,
           SUM(GREATEST(COALESCE(c.value, 0), 0)) OVER () AS total
    FROM {part} p
    LEFT JOIN consumption c ON c.part_id = p.id
    WHERE p.dealership_id = %(dealership)s
)
SELECT r.id,
       ROUND(r.value, 2) AS value,
       CASE
           WHEN r.value <= 0 OR r.total <= 0 THEN 'C'
           WHEN r.running - r.value < r.total * %(a)s / 100 THEN 'A'
           WHEN r.running - r.value < r.total * %(b)s / 100 THEN 'B'
           ELSE 'C'
       END AS cls
FROM ranked r
"""
# Only rows whose class or value changed are written (a monthly rerun touches few rows).
_APPLY_SQL = """
UPDATE {part} AS p
SET abc_class = t.cls, abc_consumption_value = t.value, abc_classified_at = %(now)s
FROM ({source}) AS t
WHERE p.id = t.id AND (p.abc_class <> t.cls OR p.abc_consumption_value <> t.value)
"""


def abc_thresholds() -> tuple[Decimal, Decimal]:
    a, b = (Decimal(str(x)) for x in conf.get("PARTS_ABC_THRESHOLDS"))
    return a, b


@transaction.atomic
def abc_classify(*, actor, dealership: Dealership, now: datetime.datetime | None = None) -> dict[str, int]:
    """Reclassify every part of the dealership; returns how many parts fell in each class."""
    now = now or timezone.now()
    a, b = abc_thresholds()
    since = now - datetime.timedelta(days=int(conf.get("PARTS_ABC_LOOKBACK_DAYS")))
    ranked = _RANKED_SQL.format(movement=StockMovement._meta.db_table, part=Part._meta.db_table)
    params = {
        "dealership": dealership.pk,
        "kinds": tuple(str(k) for k in CONSUMPTION_KINDS),
        "since": since,
        "until": now,
        "a": a,
        "b": b,
        "now": now,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The aggregation over the ledger runs as CREATE TABLE AS, which PostgreSQL may run in parallel (an
            # UPDATE never is); enough memory keeps the hash aggregate off disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("DROP TABLE IF EXISTS parts_abc_result")
            cursor.execute(f"CREATE TEMP TABLE parts_abc_result ON COMMIT DROP AS {ranked}", params)
            cursor.execute(_APPLY_SQL.format(part=Part._meta.db_table, source="SELECT * FROM parts_abc_result"), params)
        else:  # SQLite (local run mode): MAX instead of GREATEST, no tuple parameters.
            kinds = ",".join(f"'{k}'" for k in params.pop("kinds"))
            ranked = ranked.replace("GREATEST(", "MAX(").replace("IN %(kinds)s", f"IN ({kinds})")
            cursor.execute(_APPLY_SQL.format(part=Part._meta.db_table, source=ranked), params)
    counts = {cls: 0 for cls in ("A", "B", "C")}
    for row in Part.objects.filter(dealership=dealership).values("abc_class").order_by().annotate(n=Count("id")):
        counts[row["abc_class"] or "C"] = row["n"]
    events.record(
        actor=actor,
        instance=dealership,
        action=AuditAction.ACTION,
        changes={"abc": counts, "thresholds": [str(a), str(b)]},
        message=events.text(gettext_noop("ABC classification")),
    )
    return counts
