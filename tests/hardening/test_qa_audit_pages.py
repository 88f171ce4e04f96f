"""QA audit (browser walk of every role's day): links a role is shown must open for it, tables must fit their cards.

Each test names the page where the walk met the problem: a link shown to a role that then answered 403, or a
table wider than its card.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claims_services
from dms.core import roles
from orders import services as order_services
from service import services as service_services
from tests.orders.factories import PartFactory, SupplierFactory
from tests.service.conftest import book, booking_advisor, working_week  # noqa: F401 (fixtures)
from tests.service.factories import LoanerFactory

pytestmark = pytest.mark.django_db


def hrefs(response) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', response.content.decode()))


def test_work_order_list_shows_appointment_tabs_only_to_roles_that_may_open_them(client, make_user):
    """Warranty engineer and storekeeper on /workorders/: «Журнал записи» and «Все записи» answered 403."""
    calendar, all_appointments = reverse("service:appointment_calendar"), reverse("service:appointment_list")
    for role in (roles.WARRANTY_ENGINEER, roles.STOREKEEPER):
        client.force_login(make_user(role))
        links = hrefs(client.get(reverse("service:workorder_list")))
        assert calendar not in links and all_appointments not in links, role
        assert client.get(calendar).status_code == 403
    client.force_login(make_user(roles.SERVICE_ADVISOR))
    links = hrefs(client.get(reverse("service:workorder_list")))
    assert calendar in links and all_appointments in links
    assert client.get(calendar).status_code == 200


def test_complaint_page_links_goodwill_claims_only_for_roles_that_may_open_them(client, make_user, vehicle):
    """Quality inspector on a complaint with a goodwill claim: the claim's number linked to a 403 page."""
    engineer = make_user(roles.WARRANTY_ENGINEER)
    complaint = claims_services.complaint_register(
        actor=engineer, dealership=vehicle.dealership, vehicle=vehicle, channel="phone", description="Шум в салоне"
    )
    claim = claims_services.goodwill_claim_create(
        actor=engineer,
        dealership=vehicle.dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        complaint=complaint,
        description="Повторный ремонт КПП",
        work_order_number="ЗН-777",
    )
    page = reverse("claims:complaint_detail", args=[complaint.pk])
    inspector = make_user(roles.QUALITY_INSPECTOR)
    client.force_login(inspector)
    response = client.get(page)
    assert response.status_code == 200 and claim.number in response.content.decode()
    assert claim.get_absolute_url() not in hrefs(response)
    assert client.get(claim.get_absolute_url()).status_code == 403
    client.force_login(engineer)
    response = client.get(page)
    assert claim.get_absolute_url() in hrefs(response)
    assert client.get(claim.get_absolute_url()).status_code == 200


def test_workshop_board_links_technicians_only_for_roles_that_may_open_them(client, make_user, dealership, director):
    """Storekeeper and parts manager on /workshop/board/: each technician's name linked to a 403 page."""
    user = make_user(roles.TECHNICIAN, first_name="Олег", last_name="Механиков")
    technician = service_services.technician_create(actor=director, dealership=dealership, user=user)
    for role in (roles.STOREKEEPER, roles.PARTS_MANAGER):
        client.force_login(make_user(role))
        response = client.get(reverse("service:technician_board"))
        assert response.status_code == 200 and "Олег Механиков" in response.content.decode(), role
        assert technician.get_absolute_url() not in hrefs(response), role
        assert client.get(technician.get_absolute_url()).status_code == 403
    client.force_login(director)
    response = client.get(reverse("service:technician_board"))
    assert technician.get_absolute_url() in hrefs(response)
    assert client.get(technician.get_absolute_url()).status_code == 200


def test_order_page_supplier_record_table_scrolls_inside_its_card(client, advisor, parts_manager, vehicle):
    """Order page, «Заказ поставщику» card: the six-column supplier record table stuck out of the narrow card."""
    part = PartFactory(dealership=vehicle.dealership, abc_class="A")
    supplier = SupplierFactory(dealership=vehicle.dealership)
    now = timezone.now()
    orders = []
    for number, placed_days_ago in (("S-1", 20), ("S-2", 3)):
        order = order_services.customer_order_create(
            actor=advisor,
            dealership=vehicle.dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="commercial",
            lines=[{"part": part, "quantity": 1}],
        )
        placed_at = now - datetime.timedelta(days=placed_days_ago)
        orders.append(
            order_services.customer_order_place(
                actor=parts_manager,
                order=order,
                supplier=supplier,
                supplier_order_number=number,
                expected_at=timezone.localdate(placed_at) + datetime.timedelta(days=5),
                long_term_agreed=True,
                now=placed_at,
            )
        )
    order_services.customer_order_receive(
        actor=parts_manager,
        order=orders[0],
        lines=[{"line": line.pk, "quantity": 1} for line in orders[0].lines.all()],
        now=now - datetime.timedelta(days=12),
    )
    client.force_login(parts_manager)
    page = client.get(reverse("orders:detail", args=[orders[1].pk])).content.decode()
    assert 'id="supplier-record-classes"' in page
    assert re.search(r'<div class="table-responsive[^"]*"><table[^>]*id="supplier-record-classes"', page)


def test_loaner_contract_link_only_for_roles_that_may_open_it(client, make_user, book, booking_advisor, dealership):  # noqa: F811
    """Parts manager on an appointment with a reserved loaner: «Договор PDF» answered 403."""
    appointment = book(10, 0)
    reservation = service_services.loaner_reserve(
        actor=booking_advisor, appointment=appointment, loaner=LoanerFactory(dealership=dealership)
    )
    contract = reverse("service:loaner_contract", args=[reservation.pk])
    client.force_login(make_user(roles.PARTS_MANAGER))
    response = client.get(appointment.get_absolute_url())
    assert response.status_code == 200 and contract not in hrefs(response)
    assert client.get(contract).status_code == 403
    client.force_login(booking_advisor)
    assert contract in hrefs(client.get(appointment.get_absolute_url()))
    assert client.get(contract).status_code == 200
