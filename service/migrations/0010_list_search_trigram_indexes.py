from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 19 item 3: the columns the appointments', work orders' and recall campaigns' searches read by substring
    (dms.core.search). PostgreSQL only, skipped on SQLite."""

    dependencies = [("service", "0009_follow_ups_declined_work_and_satisfaction")]

    operations = [
        trigram_indexes(
            ("appointment_reason_trgm", "service_appointment", 'UPPER("reason"::text)'),
            ("workorder_number_trgm", "service_workorder", 'UPPER("number"::text)'),
            ("recallvin_vin_trgm", "service_recallcampaignvin", 'UPPER("vin"::text)'),
        )
    ]
