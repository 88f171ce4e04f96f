from django.db import migrations

from dms.core.migration_ops import trigram_indexes


class Migration(migrations.Migration):
    """Issue 19 item 3: every column a list searches has a trigram index (dms.core.search probes each one for at most
    250 matching ids): the vehicles' make was the last one read in full. PostgreSQL only, skipped on SQLite."""

    dependencies = [("core", "0010_merge_issue_17_18_19")]

    operations = [trigram_indexes(("vehicle_make_trgm", "core_vehicle", 'UPPER("make"::text)'))]
