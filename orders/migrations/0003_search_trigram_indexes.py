from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """The dashboard's search by order number (substring)."""

    dependencies = [("orders", "0002_dashboard_indexes")]

    operations = [trigram_indexes(("order_number_trgm", "orders_customerorder", 'UPPER("number"::text)'))]
