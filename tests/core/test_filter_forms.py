"""Issue 19 item 1: a FilterSet's form class is built once per FilterSet class, and sharing it changes nothing a
request sees — each request's form has its own fields, data, errors and language."""

import django_filters
from django.http import QueryDict
from django.utils import translation

from dms.core.filters import FilterSet, IdFilter
from orders.filters import CustomerOrderFilter
from orders.models import CustomerOrder

ORDERS = CustomerOrder.objects.none()


def test_one_form_class_per_filterset_and_each_request_its_own_form():
    first = CustomerOrderFilter(QueryDict("status=received&author=12.5"), ORDERS)
    second = CustomerOrderFilter(QueryDict("status=ordered&author=7"), ORDERS)
    assert type(first.form) is type(second.form)
    assert first.form.fields is not second.form.fields
    assert not first.form.is_valid() and "author" in first.form.errors
    assert second.form.is_valid() and second.form.cleaned_data["author"] == 7
    assert second.form.cleaned_data["status"] == ["ordered"]


def test_labels_follow_each_request_s_language():
    with translation.override("ru"):
        russian = str(CustomerOrderFilter(QueryDict(""), ORDERS).form["kind"].label)
    with translation.override("en"):
        english = str(CustomerOrderFilter(QueryDict(""), ORDERS).form["kind"].label)
    assert (russian, english) == ("Вид", "Kind")


def test_a_subclass_builds_its_own_form_and_request_dependent_choices_are_not_shared():
    class Narrower(CustomerOrderFilter):
        extra = IdFilter(method="_noop")

    assert "extra" in Narrower(QueryDict(""), ORDERS).form.fields
    assert "extra" not in CustomerOrderFilter(QueryDict(""), ORDERS).form.fields

    calls = []

    def per_request(request):
        calls.append(request)
        from django.contrib.auth import get_user_model

        return get_user_model().objects.none()

    class PerRequest(FilterSet):
        author = django_filters.ModelChoiceFilter(queryset=per_request)

        class Meta:
            model = CustomerOrder
            fields = ["author"]

    assert PerRequest(QueryDict(""), request="first").form is not None
    assert PerRequest(QueryDict(""), request="second").form is not None
    assert calls == ["first", "second"]
    assert "_dms_form_class" not in PerRequest.__dict__
