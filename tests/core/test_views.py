import pytest
from django.urls import reverse

from dms.core import roles
from dms.core.models import Customer, Vehicle
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_login_page_is_russian_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Войти".encode() in response.content


def test_pages_require_login(client):
    response = client.get(reverse("core:customer_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_customer_list_search_and_pagination(browser_as, advisor, dealership):
    for n in range(30):
        CustomerFactory(dealership=dealership, name=f"Клиент {n:02d}")
    client = browser_as(advisor)
    page = client.get(reverse("core:customer_list"))
    assert page.status_code == 200 and len(page.context["page_obj"]) == 25
    assert client.get(reverse("core:customer_list"), {"page": 2}).context["page_obj"].number == 2
    found = client.get(reverse("core:customer_list"), {"q": "Клиент 07"})
    assert [c.name for c in found.context["page_obj"]] == ["Клиент 07"]


def test_create_customer_then_vehicle_in_the_browser(browser_as, advisor, dealership):
    client = browser_as(advisor)
    response = client.post(
        reverse("core:customer_create"),
        {"name": "Орлов Олег", "phone": "+79161230000", "preferred_channel": "sms"},
    )
    customer = Customer.objects.get(name="Орлов Олег")
    assert response.status_code == 302 and response["Location"] == reverse("core:customer_detail", args=[customer.pk])
    response = client.post(
        reverse("core:vehicle_create"),
        {"customer": customer.pk, "vin": "vf7sa9hz8cw123456", "make": "Citroën", "model": "C4", "mileage": 5},
    )
    assert response.status_code == 302
    vehicle = Vehicle.objects.get()
    assert vehicle.vin == "VF7SA9HZ8CW123456" and vehicle.dealership == dealership
    detail = client.get(reverse("core:customer_detail", args=[customer.pk]))
    assert b"VF7SA9HZ8CW123456" in detail.content
    assert "История изменений".encode() in detail.content


def test_form_shows_field_errors_and_writes_nothing(browser_as, advisor, vehicle):
    client = browser_as(advisor)
    response = client.post(
        reverse("core:vehicle_create"),
        {"customer": vehicle.customer_id, "vin": vehicle.vin.lower(), "make": "T", "model": "C", "mileage": 1},
    )
    assert response.status_code == 200
    assert "vin" in response.context["form"].errors
    bad_phone = client.post(reverse("core:customer_create"), {"name": "X", "phone": "12", "preferred_channel": "sms"})
    assert "phone" in bad_phone.context["form"].errors
    assert Vehicle.objects.count() == 1 and Customer.objects.count() == 1


def test_foreign_records_are_404_in_pages(browser_as, advisor, other_dealership):
    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    client = browser_as(advisor)
    assert client.get(reverse("core:customer_detail", args=[foreign.customer_id])).status_code == 404
    assert client.get(reverse("core:vehicle_detail", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("core:vehicle_update", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("core:customer_update", args=[foreign.customer_id]), {"name": "X"}).status_code == 404
    assert foreign.customer.name not in client.get(reverse("core:customer_list")).content.decode()


def test_role_without_permission_gets_403_and_no_button(browser_as, make_user, customer):
    client = browser_as(make_user(roles.STOREKEEPER))
    page = client.get(reverse("core:customer_list"))
    assert page.status_code == 200
    assert reverse("core:customer_create").encode() not in page.content
    assert client.get(reverse("core:customer_create")).status_code == 403
    assert client.get(reverse("core:customer_update", args=[customer.pk])).status_code == 403
    advisor_page = browser_as(make_user(roles.SERVICE_ADVISOR)).get(reverse("core:customer_list"))
    assert reverse("core:customer_create").encode() in advisor_page.content


def test_director_switches_dealership(browser_as, director, dealership, other_dealership):
    CustomerFactory(dealership=other_dealership, name="Клиент Казани")
    client = browser_as(director)
    assert "Клиент Казани" not in client.get(reverse("core:customer_list")).content.decode()
    client.post(reverse("core:switch_dealership"), {"dealership": other_dealership.pk, "next": "/customers/"})
    assert "Клиент Казани" in client.get(reverse("core:customer_list")).content.decode()


def test_switch_to_foreign_dealership_is_refused(browser_as, advisor, other_dealership):
    client = browser_as(advisor)
    client.post(reverse("core:switch_dealership"), {"dealership": other_dealership.pk})
    assert client.session.get("active_dealership_id") is None


def test_language_switch_to_english(browser_as, advisor):
    client = browser_as(advisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    assert b"Customers" in client.get(reverse("core:customer_list")).content


def test_admin_audit_log_is_read_only(client, make_user, customer):
    admin = make_user(roles.ADMINISTRATOR, is_staff=True, is_superuser=True)
    client.force_login(admin)
    from dms.core.models import AuditEntry
    from dms.core.services import customer_update

    customer_update(actor=admin, customer=customer, data={"name": "Z"})
    entry = AuditEntry.objects.get()
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
    client.post(reverse("admin:core_auditentry_change", args=[entry.pk]), {"message": "forged"})
    entry.refresh_from_db()
    assert entry.message == ""


def test_load_demo_is_idempotent(db):
    from django.core.management import call_command

    call_command("load_demo")
    counts = (Customer.objects.count(), Vehicle.objects.count())
    call_command("load_demo")
    assert (Customer.objects.count(), Vehicle.objects.count()) == counts
    assert counts[0] >= 8


def test_admin_lists_only_the_users_dealerships(client, make_user, dealership, other_dealership):
    own = CustomerFactory(dealership=dealership, name="Свой клиент")
    foreign = CustomerFactory(dealership=other_dealership, name="Чужой клиент")
    staff_admin = make_user(roles.ADMINISTRATOR, is_staff=True)
    client.force_login(staff_admin)
    page = client.get(reverse("admin:core_customer_changelist"))
    assert page.status_code == 200
    assert own.name in page.content.decode() and foreign.name not in page.content.decode()
    assert client.get(reverse("admin:core_customer_change", args=[foreign.pk])).status_code == 302
    own_page = client.get(reverse("admin:core_customer_change", args=[own.pk]))
    assert own_page.status_code == 200


def test_pages_speak_russian_whatever_the_browser_asks(browser_as, advisor, customer):
    client = browser_as(advisor)
    page = client.get(reverse("core:customer_detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Клиенты".encode() in page.content and "История изменений".encode() in page.content


def test_audit_trail_shows_labels_and_choice_names(browser_as, advisor, dealership):
    from dms.core.services import customer_create, customer_update

    customer = customer_create(actor=advisor, dealership=dealership, name="А", phone="+79161234567")
    customer_update(actor=advisor, customer=customer, data={"preferred_channel": "email", "is_vip": True})
    page = browser_as(advisor).get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert "Предпочтительный способ связи:</span> Звонок → Эл. почта" in page
    assert "VIP:</span> нет → да" in page
    assert "Анна Смирнова" in page


def test_browser_login_locks_out_after_repeated_failures(client, make_user, settings):
    make_user(roles.SERVICE_ADVISOR, username="anna")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "anna", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "anna", "password": "pass12345"})
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток" in locked.content.decode()
