# R18 (issue 14 item 2): at most one active loaner reservation per appointment.

from django.db import migrations, models


def cancel_duplicate_reservations(apps, schema_editor):
    """Existing data: keep each appointment's earliest active reservation, cancel the rest and free their days."""
    LoanerReservation = apps.get_model("service", "LoanerReservation")
    LoanerDay = apps.get_model("service", "LoanerDay")
    kept: set[int] = set()
    for reservation in LoanerReservation.objects.filter(status="reserved").order_by("appointment_id", "id"):
        if reservation.appointment_id in kept:
            LoanerDay.objects.filter(reservation_id=reservation.pk).delete()
            LoanerReservation.objects.filter(pk=reservation.pk).update(status="cancelled")
        else:
            kept.add(reservation.appointment_id)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_dealership_requisites"),
        ("service", "0003_work_order_references"),
    ]

    operations = [
        migrations.RunPython(cancel_duplicate_reservations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="loanerreservation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "reserved")),
                fields=("appointment",),
                name="loaner_one_active_per_appointment",
                violation_error_message="This appointment already has a loaner car reserved.",
            ),
        ),
    ]
