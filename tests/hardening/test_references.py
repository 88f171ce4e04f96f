"""Issue 12 item 6: references across dealerships — the concrete exploit and the mechanism's pieces.

A stock receipt accepted ``reserve_for_order_id`` naming another dealership's customer order (or none at all) and
left a dangling reservation. Every id in a write now resolves inside the dealership the write acts in
(``dms.core.references``); the database holds the reservation → order reference as a foreign key.
The sweep over every API write is in ``test_reference_sweep.py``.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, transaction

from dms.core import roles
from dms.core.references import resolve_reference, scope_to_dealerships
from orders.models import CustomerOrder, CustomerOrderLine
from parts import services
from parts.models import Reservation, StockBalance, StockMovement
from tests.factories import CustomerFactory, UserFactory
from tests.orders.factories import CustomerOrderFactory
from tests.parts.factories import PartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def storekeeper(make_user):
    return make_user(roles.STOREKEEPER)


@pytest.fixture
def part(dealership):
    return PartFactory(dealership=dealership)


def stock_rows() -> tuple[int, int, int]:
    return Reservation.objects.count(), StockMovement.objects.count(), StockBalance.objects.count()


def receive_for(api, part, order_id):
    return api.post(
        "/api/stock/receive/",
        {"part": part.pk, "quantity": "2", "unit_cost": "10", "reserve_for_order_id": order_id},
        format="json",
    )


def test_receipt_for_another_dealerships_order_is_refused_and_writes_nothing(
    api_as, storekeeper, part, other_dealership
):
    foreign_order = CustomerOrderFactory(dealership=other_dealership)
    response = receive_for(api_as(storekeeper), part, foreign_order.pk)
    assert response.status_code == 400
    assert "reserve_for_order_id" in response.json()
    assert stock_rows() == (0, 0, 0)


def test_receipt_for_an_order_that_does_not_exist_is_refused(api_as, storekeeper, part):
    missing = (CustomerOrder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    response = receive_for(api_as(storekeeper), part, missing)
    assert response.status_code == 400 and "reserve_for_order_id" in response.json()
    assert stock_rows() == (0, 0, 0)


def test_receipt_for_own_order_reserves_for_it(api_as, storekeeper, part, dealership):
    order = CustomerOrderFactory(dealership=dealership)
    response = receive_for(api_as(storekeeper), part, order.pk)
    assert response.status_code == 201, response.json()
    reservation = Reservation.objects.get()
    assert reservation.customer_order_id == order.pk and reservation.quantity == 2


def test_director_of_two_dealerships_cannot_cross_them_in_one_write(api_as, make_user, dealership, other_dealership):
    """Ids resolve in the dealership the write acts in, not in any of the user's: a receipt in the main dealership
    cannot reserve for the other one's order even when the user works in both."""
    both = make_user(roles.ADMINISTRATOR, dealerships=[dealership, other_dealership])
    part = PartFactory(dealership=dealership)
    foreign_order = CustomerOrderFactory(dealership=other_dealership)
    response = api_as(both).post(
        "/api/stock/receive/",
        {"part": part.pk, "quantity": "1", "unit_cost": "1", "reserve_for_order_id": foreign_order.pk},
        format="json",
        HTTP_X_DEALERSHIP=str(dealership.pk),
    )
    assert response.status_code == 400 and "reserve_for_order_id" in response.json()
    assert stock_rows() == (0, 0, 0)


def test_the_service_refuses_too(storekeeper, part, dealership, other_dealership):
    """Services that take a raw id resolve it themselves (a caller that skipped the serializer gets no further)."""
    foreign_order = CustomerOrderFactory(dealership=other_dealership)
    for order_id in (foreign_order.pk, foreign_order.pk + 1000, 0, -1):
        with pytest.raises(ValidationError) as refused:
            services.stock_receive(
                actor=storekeeper,
                dealership=dealership,
                part=part,
                quantity=1,
                unit_cost=1,
                reserve_for_order_id=order_id,
            )
        assert "reserve_for_order_id" in refused.value.message_dict
    assert stock_rows() == (0, 0, 0)


def test_the_database_refuses_a_reservation_naming_a_foreign_order(part, dealership, other_dealership, storekeeper):
    """The reference is a foreign key on (dealership, order) in the database (orders' migration 0005)."""
    if connection.vendor != "postgresql":
        pytest.skip("the constraint is PostgreSQL's")
    foreign_order = CustomerOrderFactory(dealership=other_dealership)
    own_order = CustomerOrderFactory(dealership=dealership)
    from parts.models import Warehouse

    warehouse = Warehouse.objects.create(dealership=dealership, code="W", name="W")
    fields = dict(dealership=dealership, part=part, warehouse=warehouse, quantity=1, reference="x")
    for order_id in (foreign_order.pk, foreign_order.pk + 1000):
        with pytest.raises(IntegrityError), transaction.atomic():
            Reservation.objects.create(customer_order_id=order_id, **fields)
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    kept = Reservation.objects.create(customer_order_id=own_order.pk, **fields)
    # Deleting the order leaves the reservation (its stock is still reserved) without the reference.
    with transaction.atomic():
        CustomerOrder.objects.filter(pk=own_order.pk).delete()
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    kept.refresh_from_db()
    assert kept.customer_order_id is None


def test_migration_cleans_dangling_references(part, dealership, other_dealership):
    """The data step of orders 0005: references to a missing or foreign order are dropped, the rows stay."""
    if connection.vendor != "postgresql":
        pytest.skip("the constraint is PostgreSQL's")
    from importlib import import_module

    from parts.models import Warehouse

    migration = import_module("orders.migrations.0005_reservation_reference").Migration
    add_fk = migration.operations[1]
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER TABLE
    with connection.schema_editor(atomic=False) as editor:
        add_fk.reverse_code(None, editor)  # as before the migration: no constraint
    warehouse = Warehouse.objects.create(dealership=dealership, code="W", name="W")
    own_order = CustomerOrderFactory(dealership=dealership)
    foreign_order = CustomerOrderFactory(dealership=other_dealership)
    fields = dict(dealership=dealership, part=part, warehouse=warehouse, quantity=1, reference="x")
    good = Reservation.objects.create(customer_order_id=own_order.pk, **fields)
    foreign = Reservation.objects.create(customer_order_id=foreign_order.pk, **fields)
    missing = Reservation.objects.create(customer_order_id=foreign_order.pk + 1000, **fields)
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor(atomic=False) as editor:
        add_fk.code(None, editor)
    values = dict(Reservation.objects.values_list("pk", "customer_order_id"))
    assert values == {good.pk: own_order.pk, foreign.pk: None, missing.pk: None}


def test_scope_refuses_a_model_without_a_dealership():
    """A model with no way to its dealership cannot be named by an id: a loud error, never an unscoped lookup."""
    from django.contrib.auth.models import Group

    with pytest.raises(ImproperlyConfigured):
        scope_to_dealerships(Group.objects.all(), [1])


def test_lines_resolve_through_their_parents_dealership(dealership, other_dealership):
    part = PartFactory(dealership=other_dealership)
    line = CustomerOrderLine.objects.create(
        order=CustomerOrderFactory(dealership=other_dealership), part=part, quantity=1
    )
    assert resolve_reference(CustomerOrderLine, line.pk, dealership=other_dealership, field="line") == line
    with pytest.raises(ValidationError) as refused:
        resolve_reference(CustomerOrderLine, line.pk, dealership=dealership, field="line")
    assert "line" in refused.value.message_dict


def test_resolve_reference_scopes_users_by_their_dealerships(dealership, other_dealership):
    ours = UserFactory(dealership=[dealership])
    theirs = UserFactory(dealership=[other_dealership])
    User = type(ours)
    assert resolve_reference(User, ours.pk, dealership=dealership, field="who") == ours
    with pytest.raises(ValidationError):
        resolve_reference(User, theirs.pk, dealership=dealership, field="who")
    customer = CustomerFactory(dealership=other_dealership)
    with pytest.raises(ValidationError):
        resolve_reference(type(customer), customer.pk, dealership=dealership, field="customer")


# ------------------------------------------------------------------------------------------------------------------
# Page forms: every model choice goes through the shared DealershipScopedFormMixin.
# ------------------------------------------------------------------------------------------------------------------

APPS_WITH_FORMS = ("dms.core", "orders", "parts", "service", "claims", "notifications")


def _page_form_classes():
    import importlib
    import inspect

    from django import forms

    classes = set()
    for app in APPS_WITH_FORMS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ImportError:
            continue
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, forms.BaseForm) and obj.__module__ == module.__name__:
                classes.add(obj)
    return sorted(classes, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_every_page_form_with_a_model_choice_is_scoped():
    """Sweep: a form of any app with a ModelChoiceField (declared, or a ModelForm's foreign key) uses the mixin."""
    import inspect

    from django import forms

    from dms.core.forms import DealershipScopedFormMixin

    def needs_scope(cls) -> bool:
        # Declared model choices, or a form built for a dealership (fields added in __init__, like the advisor).
        declared = any(isinstance(f, forms.ModelChoiceField) for f in cls.base_fields.values())
        return declared or "dealership" in inspect.signature(cls.__init__).parameters

    unscoped = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _page_form_classes()
        if needs_scope(cls) and not issubclass(cls, DealershipScopedFormMixin)
    ]
    assert len(_page_form_classes()) > 30
    assert not unscoped, unscoped


def test_the_form_mixin_narrows_whatever_queryset_the_form_set(dealership, other_dealership):
    """Even a form that (wrongly) offers every customer accepts only its dealership's."""
    from django import forms

    from dms.core.forms import DealershipScopedFormMixin
    from dms.core.models import Customer

    class CarelessForm(DealershipScopedFormMixin, forms.Form):
        customer = forms.ModelChoiceField(Customer.objects.all())
        others = forms.ModelMultipleChoiceField(Customer.objects.none(), required=False)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["others"].queryset = Customer.objects.all()  # replaced after the mixin ran

    ours, theirs = CustomerFactory(dealership=dealership), CustomerFactory(dealership=other_dealership)
    assert CarelessForm({"customer": ours.pk}, dealership=dealership).is_valid()
    form = CarelessForm({"customer": theirs.pk, "others": [theirs.pk]}, dealership=dealership)
    assert not form.is_valid() and set(form.errors) == {"customer", "others"}
    rendered = str(CarelessForm(dealership=dealership)["others"])
    assert ours.name in rendered and theirs.name not in rendered
    assert not CarelessForm({"customer": ours.pk}).is_valid()  # no dealership: no record


@pytest.mark.parametrize("order_id", [10**30, -5, 0, "abc", True, 1.5, [1], {"id": 1}])
def test_receipt_with_an_impossible_order_id_is_a_400(api_as, storekeeper, part, order_id):
    response = receive_for(api_as(storekeeper), part, order_id)
    assert response.status_code == 400 and "reserve_for_order_id" in response.json()
    assert stock_rows() == (0, 0, 0)


def test_admin_choices_use_the_shared_scope(client, make_user, dealership, other_dealership):
    """A dealership's staff administrator cannot point a customer at another dealership's employee in the admin
    (the raw-id field used to accept any user: users have no dealership column)."""
    from dms.core.models import Customer

    admin_user = make_user(roles.ADMINISTRATOR, is_staff=True)
    stranger = UserFactory(dealership=[other_dealership])
    client.force_login(admin_user)
    before = Customer.objects.count()
    response = client.post(
        "/admin/core/customer/add/",
        {
            "name": "Иван",
            "phone": "+79161234567",
            "preferred_channel": "sms",
            "dealership": dealership.pk,
            "assigned_manager": stranger.pk,
        },
    )
    assert response.status_code == 200  # the form again, with an error
    assert "assigned_manager" in response.context["adminform"].form.errors
    assert Customer.objects.count() == before
