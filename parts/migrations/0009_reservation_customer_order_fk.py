from django.db import migrations, models


class Migration(migrations.Migration):
    """Issue 13: ``Reservation.customer_order_id`` (a bare id) becomes the foreign key ``customer_order``.

    The column keeps its name and its values (renamed to the field's name, then back to the foreign key's column):
    only the ``>= 0`` check of the old positive integer goes. The database reference stays orders' 0005 constraint on
    (dealership, order), hence ``db_constraint=False`` here.
    """

    dependencies = [
        ("parts", "0008_part_barcode"),
        ("orders", "0005_reservation_reference"),
    ]

    operations = [
        migrations.RenameField(model_name="reservation", old_name="customer_order_id", new_name="customer_order"),
        migrations.AlterField(
            model_name="reservation",
            name="customer_order",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="reservations",
                to="orders.customerorder",
                verbose_name="customer order",
            ),
        ),
    ]
