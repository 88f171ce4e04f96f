"""Issue 16 item 5 end to end: a real Celery worker on Redis sends the outbox to a real local receiver.

The change is committed while the broker refuses connections (publishing its task fails); a ``dispatch_webhooks``
task sent through Redis once it is back — what beat sends every minute — makes the worker publish and deliver it,
signed, exactly once.
"""

import datetime

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from dms.celery import app
from dms.core import roles, webhooks
from dms.core.models import WebhookDelivery, WebhookDeliveryStatus
from dms.core.tasks import deliver_webhook, dispatch_webhooks
from orders import services as order_services
from tests.core.test_webhooks import assert_signed, receiver  # noqa: F401 - the fixture
from tests.factories import CustomerFactory, VehicleFactory
from tests.notifications.test_worker_e2e import _log, wait_for, worker  # noqa: F401 - the fixture
from tests.parts.factories import PartFactory, SupplierFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_delivers_what_the_broker_missed(receiver, worker, make_user, dealership, monkeypatch):  # noqa: F811
    admin = make_user(roles.ADMINISTRATOR)
    subscription = webhooks.webhook_subscription_create(
        actor=admin, dealership=dealership, target_url=receiver.url, event_types=["order.status_changed"]
    )
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    order = order_services.customer_order_create(
        actor=admin,
        dealership=dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": PartFactory(dealership=dealership), "quantity": 1}],
    )

    def dead_broker(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(deliver_webhook, "apply_async", dead_broker)
        order_services.customer_order_place(
            actor=make_user(roles.PARTS_MANAGER),
            order=order,
            supplier=SupplierFactory(dealership=dealership),
            supplier_order_number="TMR-E2E",
            expected_at=timezone.localdate() + datetime.timedelta(days=3),
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING and delivery.published_at is None
    assert receiver.requests == []
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(worker["url"]) as conn:
            dispatch_webhooks.apply_async(connection=conn)
    finally:
        app.conf.task_always_eager = eager
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDeliveryStatus.DELIVERED).exists()
    ), _log(worker)
    assert len(receiver.requests) == 1
    payload = assert_signed(subscription.secret, receiver.requests[0])
    assert payload["data"]["object"]["id"] == order.pk and payload["data"]["status"] == "ordered"
    assert receiver.requests[0]["headers"]["X-DMS-Delivery"] == str(delivery.delivery_id)
