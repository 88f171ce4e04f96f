import pytest
from django.urls import reverse

from dms.core import roles
from dms.core.models import AuditEntry, Customer, Vehicle
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_token_login_and_token_auth(make_user, api_client):
    make_user(roles.SERVICE_ADVISOR, username="anna")
    response = api_client.post("/api/auth/token/", {"username": "anna", "password": "pass12345"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/customers/").status_code == 200


def test_wrong_password_gets_400_and_repeated_failures_lock_out(make_user, api_client, settings):
    make_user(roles.SERVICE_ADVISOR, username="anna")
    statuses = [
        api_client.post("/api/auth/token/", {"username": "anna", "password": "wrong"}, format="json").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    assert statuses[0] == 400
    assert statuses[-1] == 429
    # Even the right password is refused while locked out.
    ok = api_client.post("/api/auth/token/", {"username": "anna", "password": "pass12345"}, format="json")
    assert ok.status_code == 429
    assert "15" in ok.json()["detail"]


def test_unauthenticated_api_is_refused(api_client):
    assert api_client.get("/api/customers/").status_code in (401, 403)


def test_customer_create_and_read(api_as, advisor, dealership):
    client = api_as(advisor)
    response = client.post(
        "/api/customers/",
        {
            "name": "Иванов",
            "phone": "+7 916 123-45-67",
            "preferred_channel": "sms",
            "lead_source": "internet",
            "first_contact_channel": "website",
            "assigned_manager": advisor.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+79161234567"
    assert body["dealership"] == dealership.pk
    assert AuditEntry.objects.filter(object_id=body["id"], action="created").count() == 1
    listing = client.get("/api/customers/").json()
    # issue 19: every list says whether its count is exact (counts stop at 10,000)
    assert set(listing) == {"count", "count_is_exact", "next", "previous", "results"}
    assert listing["count_is_exact"] is True
    assert listing["count"] == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "X", "phone": "123"}, "phone"),
        ({"name": "", "phone": "+79161234567"}, "name"),
        ({"name": "X", "phone": "+79161234567", "preferred_channel": "fax"}, "preferred_channel"),
        ({"name": "X", "phone": "+79161234567", "email": "not-an-email"}, "email"),
    ],
)
def test_customer_bad_input_is_400_with_field_message(api_as, advisor, payload, field):
    response = api_as(advisor).post("/api/customers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Customer.objects.count() == 0


def test_unknown_dealership_is_400(api_as, advisor, other_dealership):
    client = api_as(advisor)
    response = client.post(
        "/api/customers/",
        {"name": "X", "phone": "+79161234567"},
        format="json",
        HTTP_X_DEALERSHIP=str(other_dealership.pk),
    )
    assert response.status_code == 400
    assert "dealership" in response.json()
    response = client.post(
        "/api/customers/", {"name": "X", "phone": "+79161234567"}, format="json", HTTP_X_DEALERSHIP="999999"
    )
    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_vehicle_create_with_bad_vin_duplicate_vin_and_foreign_customer(api_as, advisor, customer, other_dealership):
    client = api_as(advisor)
    ok = client.post(
        "/api/vehicles/",
        {"vin": "jtdbr32e720012345", "make": "Toyota", "model": "Corolla", "year": 2021, "customer": customer.pk},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["vin"] == "JTDBR32E720012345"

    bad = client.post(
        "/api/vehicles/",
        {"vin": "JTDBR32E72001234I", "make": "T", "model": "C", "customer": customer.pk},
        format="json",
    )
    assert bad.status_code == 400 and "vin" in bad.json()

    duplicate = client.post(
        "/api/vehicles/",
        {"vin": "JTDBR32E720012345", "make": "T", "model": "C", "customer": customer.pk},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["vin"] == ["Автомобиль с таким VIN уже зарегистрирован в дилерском центре."]

    foreign = CustomerFactory(dealership=other_dealership)
    cross = client.post(
        "/api/vehicles/", {"vin": "VF7SA9HZ8CW123456", "make": "T", "model": "C", "customer": foreign.pk}, format="json"
    )
    assert cross.status_code == 400 and "customer" in cross.json()
    assert Vehicle.objects.count() == 1


def test_patch_vehicle_and_search(api_as, advisor, vehicle):
    client = api_as(advisor)
    response = client.patch(f"/api/vehicles/{vehicle.pk}/", {"plate": "а777аа77", "mileage": 20000}, format="json")
    assert response.status_code == 200
    assert response.json()["mileage"] == 20000
    assert client.get("/api/vehicles/", {"search": vehicle.vin[-6:].lower()}).json()["count"] == 1
    assert client.get("/api/vehicles/", {"search": "zzzzzz"}).json()["count"] == 0
    assert client.get("/api/customers/", {"search": vehicle.vin}).json()["count"] == 1


def test_other_dealership_records_are_404_and_invisible(api_as, advisor, other_dealership):
    foreign_vehicle = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    client = api_as(advisor)
    assert client.get(f"/api/customers/{foreign_vehicle.customer_id}/").status_code == 404
    assert client.get(f"/api/vehicles/{foreign_vehicle.pk}/").status_code == 404
    assert client.patch(f"/api/vehicles/{foreign_vehicle.pk}/", {"mileage": 1}, format="json").status_code == 404
    assert client.get("/api/vehicles/").json()["count"] == 0
    foreign_vehicle.refresh_from_db()
    assert foreign_vehicle.mileage == 10000


def test_director_sees_all_of_their_dealerships(api_as, director, dealership, other_dealership):
    CustomerFactory(dealership=dealership)
    CustomerFactory(dealership=other_dealership)
    client = api_as(director)
    assert client.get("/api/customers/").json()["count"] == 2
    assert client.get("/api/customers/", {"dealership": other_dealership.pk}).json()["count"] == 1


@pytest.mark.parametrize("role", [roles.STOREKEEPER, roles.QUALITY_INSPECTOR, roles.DIRECTOR])
def test_roles_without_write_permission_get_403(api_as, make_user, role, customer):
    client = api_as(make_user(role))
    assert client.get("/api/customers/").status_code == 200
    denied = client.post("/api/customers/", {"name": "X", "phone": "+79161234567"}, format="json")
    assert denied.status_code == 403
    assert "detail" in denied.json()
    assert client.patch(f"/api/customers/{customer.pk}/", {"name": "Hacked"}, format="json").status_code == 403
    customer.refresh_from_db()
    assert customer.name != "Hacked"
    assert Customer.objects.count() == 1


def test_user_without_role_gets_403_on_reads(api_as, make_user):
    assert api_as(make_user(role=None)).get("/api/customers/").status_code == 403


def test_schema_and_docs_are_served(api_as, advisor):
    client = api_as(advisor)
    schema = client.get(reverse("api_schema"))
    assert schema.status_code == 200
    assert b"/api/customers/" in schema.content and b"/api/vehicles/" in schema.content
    assert client.get(reverse("api_docs")).status_code == 200


def test_list_queries_are_bounded(api_as, advisor, dealership, django_assert_max_num_queries):
    for _ in range(30):
        VehicleFactory(customer=CustomerFactory(dealership=dealership))
    client = api_as(advisor)
    with django_assert_max_num_queries(8):
        assert client.get("/api/customers/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/vehicles/").status_code == 200


@pytest.mark.parametrize(
    "language, message",
    [
        ("ru", "Автомобиль с таким VIN уже зарегистрирован в дилерском центре."),
        ("en", "A vehicle with this VIN is already registered in the dealership."),
        ("zh-hans", "该经销商已登记此 VIN 的车辆。"),
    ],
)
def test_error_messages_follow_the_clients_language(api_as, advisor, vehicle, language, message):
    response = api_as(advisor).post(
        "/api/vehicles/",
        {"vin": vehicle.vin, "make": "T", "model": "C", "customer": vehicle.customer_id},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert response.json()["vin"] == [message]
