from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 14 item 4: the customer and vehicle pickers also search the e-mail, the second phone and the model by
    substring (name, phone, VIN and plate have theirs since 0003). PostgreSQL only, skipped on SQLite."""

    dependencies = [("core", "0007_audit_message_params")]

    operations = [
        trigram_indexes(
            ("customer_email_trgm", "core_customer", 'UPPER("email"::text)'),
            ("customer_phone_alt_trgm", "core_customer", '"phone_alt"'),
            ("vehicle_model_trgm", "core_vehicle", 'UPPER("model"::text)'),
        )
    ]
