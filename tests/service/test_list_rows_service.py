"""Issue 19: the appointments' and work orders' list rows are drawn in Python (``dms.core.rendering``) — each row
reads exactly as the template loop drew it (the loops below are the templates' before the change), in every
language, the empty row too."""

import pytest
from django.conf import settings
from django.utils import translation

from dms.core import roles
from service.models import Appointment, WorkOrder
from tests.core.test_list_rows import _assert_rows_as_the_template
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.factories import make_work_order

pytestmark = pytest.mark.django_db

APPOINTMENT_LOOP = """{% load i18n %}{% for a in page_obj %}
  <tr><td><a href="{{ a.get_absolute_url }}">{{ a.starts_at|date:"SHORT_DATETIME_FORMAT" }}</a></td><td>{{ a.customer.name }}</td><td>{{ a.vehicle.make }} {{ a.vehicle.model }} <code>{{ a.vehicle.vin }}</code></td>
    <td>{{ a.reason|truncatechars:60 }}{% if a.is_repeat_visit %} <span class="badge text-bg-warning">{% translate "repeat" %}</span>{% endif %}{% if a.booked_online %} <span class="badge text-bg-info booked-online">{% translate "online" %}</span>{% endif %}</td>
    <td>{{ a.advisor.get_full_name|default:a.advisor.username }}</td><td>{{ a.get_status_display }}</td></tr>
  {% empty %}<tr><td colspan="6" class="text-secondary p-3">{% translate "No appointments found." %}</td></tr>{% endfor %}"""  # noqa: E501

WORKORDER_LOOP = """{% load i18n %}{% for wo in page_obj %}
  <tr><td><a href="{{ wo.get_absolute_url }}">{{ wo.number }}</a>{% if wo.odometer_rollback %} <span class="badge text-bg-danger">{% translate "odometer" %}</span>{% endif %}</td><td>{{ wo.customer.name }}</td><td>{{ wo.vehicle.make }} {{ wo.vehicle.model }} {{ wo.vehicle.plate }}</td><td>{{ wo.advisor.get_full_name|default:wo.advisor.username }}</td><td>{{ wo.get_status_display }}</td><td>{{ wo.created_at|date:"SHORT_DATETIME_FORMAT" }}</td></tr>
  {% empty %}<tr><td colspan="6" class="text-secondary p-3">{% translate "No work orders found." %}</td></tr>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_appointment_rows_read_as_the_template_drew_them(client, book, booking_advisor, dealership, language):
    """A reason longer than 60 characters with markup, a repeat visit booked online, a vehicle without a model, an
    advisor known only by the login."""
    customer = CustomerFactory(dealership=dealership, name="ООО «Рога & Копыта» <b>")
    long_reason = "Стук <справа> & скрип при повороте руля, проверить рулевую рейку и ШРУСы, заменить масло"
    first = book(10, reason=long_reason, vehicle=VehicleFactory(customer=customer, make="Kia", model="<Rio>"))
    second = book(11, vehicle=VehicleFactory(customer=customer, make="Lada", model=""))
    Appointment.objects.filter(pk=second.pk).update(is_repeat_visit=True, booked_online=True)
    booking_advisor.first_name = booking_advisor.last_name = ""
    booking_advisor.save()
    client.force_login(booking_advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/appointments/list/", APPOINTMENT_LOOP)
        assert rows.count("<tr") == 2 and "&lt;Rio&gt;" in rows and "booked-online" in rows
        assert "Стук &lt;справа&gt; &amp; скрип" in rows and long_reason[60:] not in rows
        assert booking_advisor.username in rows and first.pk
        _assert_rows_as_the_template(client, "/appointments/list/?q=nobody-like-this", APPOINTMENT_LOOP)


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_workorder_rows_read_as_the_template_drew_them(client, dealership, make_user, language):
    """A possible odometer rollback flagged, a car without a plate, names that need escaping, each status's label."""
    advisor = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="<Смирнова>")
    customer = CustomerFactory(dealership=dealership, name="Пётр & сын")
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-<1>", odometer_rollback=True,
                    vehicle=VehicleFactory(customer=customer, make="Kia", model="Rio", plate=""))  # fmt: skip
    lada = VehicleFactory(customer=customer, make="Lada", model="Vesta", plate="А001АА77")
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2", status="opened", vehicle=lada)
    assert WorkOrder.objects.count() == 2
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/workorders/", WORKORDER_LOOP)
        assert rows.count("<tr") == 2 and "ЗН-&lt;1&gt;" in rows and rows.count("text-bg-danger") == 1
        assert "Пётр &amp; сын" in rows and "&lt;Смирнова&gt;" in rows
        _assert_rows_as_the_template(client, "/workorders/?q=nobody-like-this", WORKORDER_LOOP)


def test_work_orders_api_list_items_equal_each_work_orders_own_answer(api_as, dealership, make_user):
    """The list reads only the advisor with its work orders (issue 19): every item still equals the work order's own
    answer, which reads the customer, vehicle and dealership too."""
    advisor = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="Смирнова")
    customer = CustomerFactory(dealership=dealership, name="Пётр", phone="+79161234567")
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-1", odometer_rollback=True,
                    vehicle=VehicleFactory(customer=customer), jobs=("Замена масла", "Диагностика"))  # fmt: skip
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2", status="opened", jobs=())
    client = api_as(advisor)
    items = client.get("/api/work-orders/").json()["results"]
    assert len(items) == 2 and {item["number"] for item in items} == {"ЗН-1", "ЗН-2"}
    for item in items:
        assert item == client.get(f"/api/work-orders/{item['id']}/").json()


def test_appointments_api_list_items_equal_each_appointments_own_answer(api_as, book, booking_advisor):
    """The list reads only the kind of job with its appointments (issue 19): every item still equals the
    appointment's own answer."""
    book(10, reason="ТО-2")
    second = book(11, reason="Стук <справа>")
    Appointment.objects.filter(pk=second.pk).update(is_repeat_visit=True, booked_online=True)
    client = api_as(booking_advisor)
    items = client.get("/api/appointments/").json()["results"]
    assert len(items) == 2 and {item["reason"] for item in items} == {"ТО-2", "Стук <справа>"}
    for item in items:
        assert item == client.get(f"/api/appointments/{item['id']}/").json()
