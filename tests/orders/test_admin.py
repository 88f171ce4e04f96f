import pytest
from django.urls import reverse

from dms.core.models import AuditEntry
from orders.models import CustomerOrder, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, make_user):
    user = make_user(None, is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_lists_orders_and_edits_only_working_details_through_the_service(admin_client_, placed_order):
    assert admin_client_.get(reverse("admin:orders_customerorder_changelist")).status_code == 200
    url = reverse("admin:orders_customerorder_change", args=[placed_order.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode() and 'name="comment"' in page.content.decode()
    response = admin_client_.post(
        url,
        {
            "comment": "Проверено",
            "parts_manager": "",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
            "supplier_order-TOTAL_FORMS": "0",
            "supplier_order-INITIAL_FORMS": "0",
            "receipts-TOTAL_FORMS": "0",
            "receipts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = CustomerOrder.objects.get(pk=placed_order.pk)
    assert order.comment == "Проверено" and order.status == OrderStatus.ORDERED
    assert AuditEntry.objects.filter(object_id=order.pk, action="updated").exists()
    assert admin_client_.get(reverse("admin:orders_customerorder_add")).status_code == 403
