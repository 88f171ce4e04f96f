from django.db import migrations, models

from dms.core.migration_ops import cross_app_foreign_key


class Migration(migrations.Migration):
    """Issue 12 item 6: a parts reservation made for a customer order references it in the database.

    ``parts.Reservation.customer_order_id`` stays a plain column in the parts app (parts sits below orders and may
    not import it); orders, which knows both tables, adds the foreign key — on (dealership, order), so the order is
    always one of the reservation's own dealership. Existing reservations naming a missing order or another
    dealership's lose that reference (the reservation and its reserved quantity stay).
    """

    dependencies = [
        ("orders", "0004_kind_status_index"),
        ("parts", "0002_stock_ledger"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="customerorder",
            constraint=models.UniqueConstraint(fields=("dealership", "id"), name="order_dealership_id_unique"),
        ),
        cross_app_foreign_key(
            name="reservation_customer_order_fk",
            table="parts_reservation",
            columns=("dealership_id", "customer_order_id"),
            ref_table="orders_customerorder",
            ref_columns=("dealership_id", "id"),
            nullable="customer_order_id",
        ),
    ]
