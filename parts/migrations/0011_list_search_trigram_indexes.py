from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 19 item 3: the columns the sales orders', stock movements' and job costs' searches read by substring
    (dms.core.search). PostgreSQL only, skipped on SQLite."""

    dependencies = [("parts", "0010_list_order_indexes")]

    operations = [
        trigram_indexes(
            ("salesorder_number_trgm", "parts_salesorder", 'UPPER("number"::text)'),
            ("salesorder_invoice_trgm", "parts_salesorder", 'UPPER("invoice_number"::text)'),
            ("salesorder_tracking_trgm", "parts_salesorder", 'UPPER("tracking_number"::text)'),
            ("movement_reference_trgm", "parts_stockmovement", 'UPPER("reference"::text)'),
            ("movement_work_order_ref_trgm", "parts_stockmovement", 'UPPER("work_order_ref"::text)'),
        )
    ]
