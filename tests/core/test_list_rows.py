"""Issue 19: list pages draw their rows in Python (``dms.core.rendering``) — each row reads exactly as the template
loop drew it (the loops below are the templates' before the change), in every language, with the empty row too."""

import re
from decimal import Decimal
from functools import partial

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from dms.core import roles
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db

CUSTOMER_LOOP = """{% load i18n %}{% for c in page_obj %}
    <tr><td><a href="{% url 'core:customer_detail' c.pk %}">{{ c.name }}</a>{% if c.is_vip %} <span class="badge text-bg-warning">VIP</span>{% endif %}</td>
      <td>{{ c.phone.as_international }}</td><td>{{ c.email }}</td><td>{{ c.get_preferred_channel_display }}</td>
      <td>{{ c.assigned_manager.get_full_name|default:"—" }}</td></tr>
  {% empty %}
    <tr><td colspan="5" class="text-secondary p-3">{% translate "No customers found." %}</td></tr>
  {% endfor %}"""  # noqa: E501

VEHICLE_LOOP = """{% load i18n %}{% for v in page_obj %}
    <tr><td><a href="{% url 'core:vehicle_detail' v.pk %}"><code>{{ v.vin }}</code></a></td><td>{{ v.make }} {{ v.model }}</td><td>{{ v.year|default:"—" }}</td><td>{{ v.plate|default:"—" }}</td><td>{{ v.mileage }}</td>
      <td><a href="{% url 'core:customer_detail' v.customer_id %}">{{ v.customer.name }}</a></td><td>{{ v.warranty_end|date:"SHORT_DATE_FORMAT"|default:"—" }}</td></tr>
  {% empty %}
    <tr><td colspan="7" class="text-secondary p-3">{% translate "No vehicles found." %}</td></tr>
  {% endfor %}"""  # noqa: E501


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def _assert_rows_as_the_template(client, url: str, loop: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == translation.get_language()
    context = response.context
    expected = Template(loop).render(Context({"page_obj": context["page_obj"]}))
    assert _squeeze(str(context["rows_html"])) == _squeeze(expected)
    return str(context["rows_html"])


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_customer_and_vehicle_rows_read_as_the_template_drew_them(client, dealership, make_user, advisor, language):
    manager = make_user(roles.SERVICE_ADVISOR, first_name="Ольга", last_name="<Петрова>")
    vip = CustomerFactory(dealership=dealership, name="ООО «Рога & Копыта» <b>", is_vip=True, assigned_manager=manager,
                          email="a&b@example.com", phone="+79161234567")  # fmt: skip
    CustomerFactory(dealership=dealership, name="Пётр", phone="")
    CustomerFactory(dealership=dealership, name="Сидор", phone="12-34")  # a number as typed, not a valid one
    VehicleFactory(customer=vip, make="Kia", model="Rio <X>", year=None, plate="", mileage=123456)
    VehicleFactory(customer=vip, make="Lexus", model="RX", year=2020, plate="А001АА77", mileage=0,
                   warranty_end="2027-03-01")  # fmt: skip
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/customers/", CUSTOMER_LOOP)
        assert "&lt;b&gt;" in rows and "+7 916 123-45-67" in rows and "&lt;Петрова&gt;" in rows
        rows = _assert_rows_as_the_template(client, "/vehicles/", VEHICLE_LOOP)
        assert "Rio &lt;X&gt;" in rows
        _assert_rows_as_the_template(client, "/customers/?q=nobody-like-this", CUSTOMER_LOOP)
        _assert_rows_as_the_template(client, "/vehicles/?q=nobody-like-this", VEHICLE_LOOP)


PART_LOOP = """{% load i18n parts_tags %}{% for p in page_obj %}
    <tr><td><a href="{% url 'parts:part_detail' p.pk %}"><code>{{ p.number }}</code></a></td><td>{{ p.name }}</td>
      <td>{% if p.abc_class %}<span class="badge text-bg-{% if p.abc_class == 'A' %}danger{% elif p.abc_class == 'B' %}warning{% else %}secondary{% endif %}">{{ p.abc_class }}</span>{% else %}—{% endif %}</td>
      <td class="text-end">{{ p.price|money }}</td><td class="text-end">{{ p.on_hand_total|floatformat:"-3" }}</td><td class="text-end">{{ p.reserved_total|floatformat:"-3" }}</td>
      <td class="text-end fw-semibold">{{ p.available_total|floatformat:"-3" }} {{ p.get_unit_display }}</td><td>{{ p.default_supplier.name|default:"—" }}</td></tr>
  {% empty %}
    <tr><td colspan="8" class="text-secondary p-3">{% translate "No parts found." %}</td></tr>
  {% endfor %}"""  # noqa: E501

SALES_LOOP = """{% load i18n parts_tags %}{% for o in page_obj %}<tr><td><a href="{% url 'parts:sales_detail' o.pk %}">{{ o.number }}</a></td><td>{{ o.created_at|date:"SHORT_DATE_FORMAT" }}</td><td>{{ o.customer.name }}</td><td>{{ o.manager.get_full_name|default:o.manager.username }}</td><td>{{ o.get_payment_method_display }}</td><td class="text-end">{{ o.total_value|money }}</td>
    <td><span class="badge text-bg-{% if o.status == 'shipped' %}success{% elif o.status == 'cancelled' %}secondary{% elif o.status == 'paid' %}info{% else %}primary{% endif %}">{{ o.get_status_display }}</span></td></tr>
  {% empty %}<tr><td colspan="7" class="text-secondary p-3">{% translate "No orders found." %}</td></tr>{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_part_and_sales_order_rows_read_as_the_template_drew_them(client, dealership, make_user, language):
    from parts import services
    from parts.models import Part, Supplier
    from tests.parts.factories import PartFactory

    manager = make_user(roles.PARTS_MANAGER, first_name="", last_name="")
    storekeeper = make_user(roles.STOREKEEPER)
    supplier = Supplier.objects.create(dealership=dealership, name="Поставщик <&>")
    stocked = PartFactory(dealership=dealership, number="C-1", name="Фильтр «А»", price=Decimal("12345.6"),
                          default_supplier=supplier, abc_class="A")  # fmt: skip
    PartFactory(dealership=dealership, number="C-2", price=Decimal("0"), abc_class="C")
    PartFactory(dealership=dealership, number="C-3", unit=Part._meta.get_field("unit").choices[-1][0])
    services.stock_receive(actor=storekeeper, dealership=dealership, part=stocked, quantity=Decimal("2.5"),
                           unit_cost="100")  # fmt: skip
    customer = CustomerFactory(dealership=dealership, name="Клиент <1>")
    services.sales_order_create(actor=manager, dealership=dealership, customer=customer, channel="phone",
                                lines=[{"part": stocked, "quantity": 2, "unit_price": Decimal("1000.5")}])  # fmt: skip
    services.sales_order_create(actor=manager, dealership=dealership, customer=customer, channel="phone")
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/parts/", PART_LOOP)
        assert "Поставщик &lt;&amp;&gt;" in rows and "text-bg-danger" in rows
        rows = _assert_rows_as_the_template(client, "/parts/sales/", SALES_LOOP)
        assert "Клиент &lt;1&gt;" in rows and manager.username in rows
        _assert_rows_as_the_template(client, "/parts/?q=nobody-like-this", PART_LOOP)
        _assert_rows_as_the_template(client, "/parts/sales/?q=nobody-like-this", SALES_LOOP)


def test_a_phone_number_is_formatted_once_and_none_is_empty():
    from phonenumber_field.phonenumber import PhoneNumber

    from dms.core.formatting import format_phone

    valid = PhoneNumber.from_string("+79161234567")
    typed = PhoneNumber(raw_input="12-34")
    assert format_phone(valid) == valid.as_international == "+7 916 123-45-67"
    assert format_phone(typed) == typed.as_international
    assert format_phone(None) == format_phone("") == ""


def test_display_for_reads_the_labels_of_the_active_language():
    from dms.core.models import Customer
    from dms.core.rendering import display_for

    customer = Customer(preferred_channel="phone")
    for language in ("ru", "en", "zh-hans"):
        with translation.override(language):
            assert display_for(Customer, "preferred_channel")("phone") == customer.get_preferred_channel_display()
    assert display_for(Customer, "preferred_channel")("no-such-channel") == "no-such-channel"


COMPLAINT_LOOP = """{% load i18n %}{% for c in page_obj %}
    <tr{% if c.overdue_flagged_at and c.is_open %} class="table-danger"{% endif %}>
      <td><a href="{% url 'claims:complaint_detail' c.pk %}">{{ c.number }}</a>{% if c.is_emergency %} <span class="badge text-bg-danger">{% translate "Emergency" %}</span>{% endif %}{% if c.involves_media %} <span class="badge text-bg-dark">{% translate "Media" %}</span>{% endif %}</td>
      <td>{{ c.received_at|date:"SHORT_DATETIME_FORMAT" }}</td><td>{{ c.get_channel_display }}</td>
      <td>{{ c.display_name }}</td><td>{% if c.vehicle %}{{ c.vehicle.make }} {{ c.vehicle.model }}{% else %}{{ c.vin_text|default:"—" }}{% endif %}</td>
      <td>{{ c.get_category_display|default:"—" }}</td><td>{{ c.assignee.get_full_name|default:"—" }}</td>
      <td>{{ c.deadline|date:"SHORT_DATE_FORMAT"|default:"—" }}{% if c.overdue_flagged_at and c.is_open %} <span class="badge text-bg-danger">{% translate "overdue" %}</span>{% endif %}</td>
      <td><span class="badge text-bg-{{ c.status_colour }}">{{ c.get_status_display }}</span></td></tr>
  {% empty %}
    <tr><td colspan="9" class="text-secondary p-3">{% translate "No complaints found." %}</td></tr>
  {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_complaint_rows_read_as_the_template_drew_them(client, dealership, vehicle, make_user, language):
    """Emergency and media badges, a flagged overdue complaint, no vehicle (the VIN as typed), no category, no
    assignee, no deadline, a contact's name instead of a customer."""
    import datetime

    from django.utils import timezone

    from claims import services
    from claims.models import Complaint

    engineer = make_user(roles.WARRANTY_ENGINEER)
    advisor = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="<Смирнова>")
    register = partial(services.complaint_register, actor=advisor, dealership=dealership, description="x")
    media = {
        "media_outlet": "ТВ",
        "media_programme": "Новости",
        "journalist": "Иван",
        "journalist_contact": "+79001112233",
    }
    assigned = register(channel="email", customer=vehicle.customer, vehicle=vehicle, involves_media=True, **media)
    services.complaint_assign(
        actor=engineer, complaint=assigned, category="service_attitude", department="service", assignee=advisor,
        deadline=timezone.localdate() + datetime.timedelta(days=2),
    )  # fmt: skip
    Complaint.objects.filter(pk=assigned.pk).update(overdue_flagged_at=timezone.now())
    register(channel="phone", contact_name="Пётр & сын", contact_phone="+79161234567", vin_text="XW8ZZZ<1>")
    register(channel="in_person", customer=vehicle.customer, severity="emergency", emergency_kind="vehicle_fire")
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/complaints/", COMPLAINT_LOOP)
        assert rows.count("<tr") == 3 and 'class="table-danger"' in rows and "XW8ZZZ&lt;1&gt;" in rows
        _assert_rows_as_the_template(client, "/complaints/?q=nobody-like-this", COMPLAINT_LOOP)


STOCK_LOOP = """{% load i18n parts_tags %}{% for b in page_obj %}
    <tr{% if b.available_qty < b.effective_alert_level %} class="table-warning"{% endif %}><td><a href="{% url 'parts:part_detail' b.part_id %}"><code>{{ b.part.number }}</code></a></td><td>{{ b.part.name }}</td><td>{{ b.part.abc_class|default:"—" }}</td>
      <td>{{ b.warehouse.code }}</td><td>{{ b.location.code|default:"—" }}</td><td class="text-end">{{ b.on_hand|floatformat:"-3" }}</td><td class="text-end">{{ b.reserved|floatformat:"-3" }}</td>
      <td class="text-end fw-semibold">{{ b.available_qty|floatformat:"-3" }}</td><td class="text-end">{{ b.effective_alert_level|floatformat:"-3" }}</td><td class="text-end">{{ b.value|money }}</td></tr>
  {% empty %}
    <tr><td colspan="10" class="text-secondary p-3">{% translate "No stock found." %}</td></tr>
  {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_stock_rows_read_as_the_template_drew_them(client, dealership, make_user, language):
    """A balance below its alert level (R27, highlighted) in a bin, fractions and repeated quantities, a part without
    an ABC class, no bin; names that need escaping."""
    from parts import services
    from parts.models import StockBalance, Warehouse
    from tests.parts.factories import PartFactory

    storekeeper = make_user(roles.STOREKEEPER)
    receive = partial(services.stock_receive, actor=storekeeper, dealership=dealership, unit_cost="100.5")
    filter_part = PartFactory(dealership=dealership, number="S-1", name="Фильтр <«А»> & Б", abc_class="A")
    receive(part=filter_part, quantity=Decimal("2.5"))
    services.stock_reserve(actor=storekeeper, dealership=dealership, part=filter_part, quantity=Decimal("1.25"),
                           reference="ЗН-1")  # fmt: skip
    warehouse = Warehouse.objects.get(dealership=dealership)
    bin_ = services.location_create(actor=storekeeper, dealership=dealership, warehouse=warehouse, code="A-01 <b>")
    balance = StockBalance.objects.get(part=filter_part)
    services.balance_update(actor=storekeeper, balance=balance, data={"location": bin_, "alert_level": Decimal("5")})
    for number in ("S-2", "S-3"):
        receive(part=PartFactory(dealership=dealership, number=number, abc_class=""), quantity=Decimal("7"))
    client.force_login(storekeeper)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/parts/stock/", STOCK_LOOP)
        assert rows.count("<tr") == 3 and rows.count('class="table-warning"') == 1 and "1,250" in rows.replace(".", ",")
        assert "Фильтр &lt;«А»&gt; &amp; Б" in rows and "A-01 &lt;B&gt;" in rows  # bin codes are kept upper-case
        _assert_rows_as_the_template(client, "/parts/stock/?q=nobody-like-this", STOCK_LOOP)


def test_the_stock_list_of_several_dealerships_keeps_each_ones_balances_in_part_number_order(
    dealership, other_dealership, make_user
):
    """The stock list names the parts' dealerships too (so PostgreSQL walks parts in number order, issue 19): every
    balance of each dealership read is listed, ordered by part number across them, none of a dealership not read."""
    from parts import selectors, services
    from tests.parts.factories import PartFactory

    storekeeper = make_user(roles.STOREKEEPER)
    for place, numbers in ((dealership, ("B-2", "D-4")), (other_dealership, ("A-1", "C-3", "B-2"))):
        for number in numbers:
            part = PartFactory(dealership=place, number=number)
            services.stock_receive(actor=storekeeper, dealership=place, part=part, quantity=1, unit_cost="1")
    both = selectors.stock_list(dealership_ids=[dealership.pk, other_dealership.pk])
    assert [b.part.number for b in both] == ["A-1", "B-2", "B-2", "C-3", "D-4"]
    assert {(b.part.number, b.dealership_id) for b in both} == {
        ("A-1", other_dealership.pk),
        ("B-2", dealership.pk),
        ("B-2", other_dealership.pk),
        ("C-3", other_dealership.pk),
        ("D-4", dealership.pk),
    }
    assert [b.part.number for b in selectors.stock_list(dealership_ids=iter([dealership.pk]))] == ["B-2", "D-4"]
