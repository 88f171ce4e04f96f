from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Customer and vehicle search (pages, the order dashboard): name, phone, VIN, plate by substring."""

    dependencies = [("core", "0002_roles")]

    operations = [
        trigram_indexes(
            ("customer_name_trgm", "core_customer", 'UPPER("name"::text)'),
            ("customer_phone_trgm", "core_customer", '"phone"'),
            ("vehicle_vin_trgm", "core_vehicle", '"vin"'),
            ("vehicle_vin_upper_trgm", "core_vehicle", 'UPPER("vin"::text)'),
            ("vehicle_plate_trgm", "core_vehicle", 'UPPER("plate"::text)'),
        )
    ]
