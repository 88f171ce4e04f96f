from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 19 item 3: the columns the appointments', work orders' and recall campaigns' searches read by substring
    (dms.core.search). PostgreSQL only, skipped on SQLite."""

    dependencies = [("service", "0008_merge_issue_17_18_19")]

    operations = [
        trigram_indexes(
            ("appointment_reason_trgm", "service_appointment", 'UPPER("reason"::text)'),
            ("workorder_number_trgm", "service_workorder", 'UPPER("number"::text)'),
            ("recallvin_vin_trgm", "service_recallcampaignvin", 'UPPER("vin"::text)'),
        )
    ]
