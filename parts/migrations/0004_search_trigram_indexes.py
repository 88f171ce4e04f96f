from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Part search by number or name (catalogue, the order dashboard's search by part)."""

    dependencies = [("parts", "0003_counts_sales_returns_requisitions")]

    operations = [
        trigram_indexes(
            ("part_number_trgm", "parts_part", 'UPPER("number"::text)'),
            ("part_name_trgm", "parts_part", 'UPPER("name"::text)'),
        )
    ]
