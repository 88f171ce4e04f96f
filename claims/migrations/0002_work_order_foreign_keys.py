"""Issue 13: a claim's work order becomes a real foreign key to service.WorkOrder (it was a bare integer id).

Add the key beside the id, copy every id that names a work order of the claim's own dealership, drop the id, and
give the key the id's name (its column is ``work_order_id`` again). A claim whose id names no such work order keeps
its ``work_order_number`` text and no key; nothing else is lost.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q


def link_work_orders(apps, schema_editor):
    WorkOrder = apps.get_model("service", "WorkOrder")
    for name in ("WarrantyClaim", "GoodwillClaim"):
        model = apps.get_model("claims", name)
        for claim in model.objects.exclude(work_order_id=None).only("pk", "dealership_id", "work_order_id"):
            if WorkOrder.objects.filter(pk=claim.work_order_id, dealership_id=claim.dealership_id).exists():
                model.objects.filter(pk=claim.pk).update(work_order_link_id=claim.work_order_id)


def unlink_work_orders(apps, schema_editor):
    for name in ("WarrantyClaim", "GoodwillClaim"):
        model = apps.get_model("claims", name)
        for claim in model.objects.exclude(work_order_link_id=None).only("pk", "work_order_link_id"):
            model.objects.filter(pk=claim.pk).update(work_order_id=claim.work_order_link_id)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("service", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="warrantyclaim", name="warranty_claim_one_live_claim_per_job"),
        migrations.AddField(
            model_name="warrantyclaim",
            name="work_order_link",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="service.workorder",
            ),
        ),
        migrations.AddField(
            model_name="goodwillclaim",
            name="work_order_link",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="service.workorder",
            ),
        ),
        # The old column may be NOT NULL: relax it so that the reverse copy can fill it again.
        migrations.AlterField(
            model_name="warrantyclaim",
            name="work_order_id",
            field=models.PositiveBigIntegerField(null=True, verbose_name="work order id"),
        ),
        migrations.RunPython(link_work_orders, unlink_work_orders),
        migrations.RemoveField(model_name="warrantyclaim", name="work_order_id"),
        migrations.RemoveField(model_name="goodwillclaim", name="work_order_id"),
        migrations.RenameField(model_name="warrantyclaim", old_name="work_order_link", new_name="work_order"),
        migrations.RenameField(model_name="goodwillclaim", old_name="work_order_link", new_name="work_order"),
        migrations.AlterField(
            model_name="warrantyclaim",
            name="work_order",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="warranty_claims",
                to="service.workorder",
                verbose_name="work order",
            ),
        ),
        migrations.AlterField(
            model_name="goodwillclaim",
            name="work_order",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="goodwill_claims",
                to="service.workorder",
                verbose_name="work order",
            ),
        ),
        migrations.AddConstraint(
            model_name="warrantyclaim",
            constraint=models.UniqueConstraint(
                condition=~Q(status="rejected"),
                fields=("dealership", "work_order", "job_id"),
                name="warranty_claim_one_live_claim_per_job",
                violation_error_message="A claim for this job already exists.",
            ),
        ),
    ]
