from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 19 item 3: the columns the complaints' and claims' searches read by substring (dms.core.search).
    PostgreSQL only, skipped on SQLite."""

    dependencies = [("claims", "0004_merge_0003_list_order_indexes_0003_staff_appraisal")]

    operations = [
        trigram_indexes(
            ("complaint_number_trgm", "claims_complaint", 'UPPER("number"::text)'),
            ("complaint_description_trgm", "claims_complaint", 'UPPER("description"::text)'),
            ("complaint_contact_name_trgm", "claims_complaint", 'UPPER("contact_name"::text)'),
            ("complaint_contact_phone_trgm", "claims_complaint", 'UPPER("contact_phone"::text)'),
            ("complaint_vin_text_trgm", "claims_complaint", 'UPPER("vin_text"::text)'),
            ("warrantyclaim_number_trgm", "claims_warrantyclaim", 'UPPER("number"::text)'),
            ("warrantyclaim_wo_number_trgm", "claims_warrantyclaim", 'UPPER("work_order_number"::text)'),
            ("warrantyclaim_failure_code_trgm", "claims_warrantyclaim", 'UPPER("failure_code"::text)'),
            ("warrantyclaim_causal_part_trgm", "claims_warrantyclaim", 'UPPER("causal_part_number"::text)'),
            ("goodwillclaim_number_trgm", "claims_goodwillclaim", 'UPPER("number"::text)'),
            ("goodwillclaim_wo_number_trgm", "claims_goodwillclaim", 'UPPER("work_order_number"::text)'),
        )
    ]
