from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from dms.core.migration_ops import cross_app_foreign_key


def link_by_number(apps, schema_editor):
    """Requisitions and issue rows made before work orders were referenced name them by text: those whose text is
    the number of a work order of the same dealership get its id; the others keep their text (and no id)."""
    WorkOrder = apps.get_model("service", "WorkOrder")
    same_number = WorkOrder.objects.filter(
        dealership_id=OuterRef("dealership_id"), number=OuterRef("work_order_ref")
    ).values("pk")[:1]
    for model in (apps.get_model("parts", "Requisition"), apps.get_model("parts", "StockMovement")):
        rows = model.objects.filter(work_order_id__isnull=True).exclude(work_order_ref="")
        rows.filter(models.Exists(same_number)).update(work_order_id=Subquery(same_number))


class Migration(migrations.Migration):
    """Issue 15 item 2 (R32): a parts requisition (and the ledger rows issued against it) reference a real work order
    and job of the same dealership in the database.

    ``parts.Requisition.work_order_id``/``job_id`` and ``parts.StockMovement.work_order_id``/``job_id`` stay plain
    columns in the parts app (parts sits below service and may not import it); service, which knows both tables,
    adds the foreign keys — on (dealership, work order), so the work order is always one of the row's own
    dealership, and on (work order, job), so the job is always one of that work order's.
    """

    dependencies = [
        ("service", "0002_calendarfeedtoken"),
        ("parts", "0005_requisition_work_order"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="workorder",
            constraint=models.UniqueConstraint(fields=("dealership", "id"), name="workorder_dealership_id_unique"),
        ),
        migrations.AddConstraint(
            model_name="workorderjob",
            constraint=models.UniqueConstraint(fields=("work_order", "id"), name="workorderjob_work_order_id_unique"),
        ),
        migrations.RunPython(link_by_number, migrations.RunPython.noop, elidable=False),
        cross_app_foreign_key(
            name="requisition_work_order_fk",
            table="parts_requisition",
            columns=("dealership_id", "work_order_id"),
            ref_table="service_workorder",
            ref_columns=("dealership_id", "id"),
            nullable="work_order_id",
        ),
        cross_app_foreign_key(
            name="requisition_job_fk",
            table="parts_requisition",
            columns=("work_order_id", "job_id"),
            ref_table="service_workorderjob",
            ref_columns=("work_order_id", "id"),
            nullable="job_id",
        ),
        cross_app_foreign_key(
            name="stockmovement_work_order_fk",
            table="parts_stockmovement",
            columns=("dealership_id", "work_order_id"),
            ref_table="service_workorder",
            ref_columns=("dealership_id", "id"),
            nullable="work_order_id",
        ),
        cross_app_foreign_key(
            name="stockmovement_job_fk",
            table="parts_stockmovement",
            columns=("work_order_id", "job_id"),
            ref_table="service_workorderjob",
            ref_columns=("work_order_id", "id"),
            nullable="job_id",
        ),
    ]
