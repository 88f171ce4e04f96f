"""List API items built from ``.values()`` rows — the serializer's output without a model instance per row.

Issue 19 item 2: a list of 50 rows spent most of its time in DRF (``Serializer.to_representation`` looks up each
field's attribute and checks for ``SkipField`` per field and row; a ``many=True`` id field clones a queryset per row;
a phone number is parsed per row), not in SQL. This module reads the serializer's own fields once and builds each
item as a plain dict in the same order with the same values — the JSON is byte for byte the serializer's, which each
list's test holds (``tests/core/test_lean_list_items.py``).

What a field may be (anything else raises ``LeanUnsupported`` when the list is built, so a serializer change cannot
silently diverge):

- a column or an annotation of the queryset (``source`` may follow foreign keys: ``part.number``), rendered by the
  field's own ``to_representation`` (identity for plain text, integers and booleans, which it would return as is);
- the label of a choices column (``source="get_status_display"``, Django's own method): its labels read once per
  page in the active language;
- a ``PrimaryKeyRelatedField`` over a foreign key: the column's id;
- a ``many=True`` id field over a reverse foreign key: one query for the whole page;
- a nested ``many=True`` model serializer over a reverse foreign key: one query for the whole page, its items built
  by the same rules;
- a nested serializer over a foreign key (a user's brief): the page's related rows in one query, each rendered once
  by the nested serializer itself;
- a field the serializer class derives in ``lean_fields`` (``{name: function(row, item)}``: from the row's columns
  and the item built so far — a sum of the nested lines' totals, a value every listed row has), rendered by the
  field's ``to_representation``; ``{name: (lookups, function)}`` also reads those lookups into the row (a related
  row's column: the dealership's time zone). A ``SerializerMethodField`` derived so is the function's value.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.settings import ISO_8601, api_settings

# DRF's to_representation of these returns a value of this exact type unchanged (str(), int(), the bool checks).
_IDENTITY = {drf_fields.CharField: str, drf_fields.IntegerField: int, drf_fields.BooleanField: bool}
# ``source="get_status_display"``: Django's label of a choices column
_CHOICE_DISPLAY = re.compile(r"get_(\w+)_display")


class LeanUnsupported(TypeError):
    """A serializer field the lean items cannot reproduce exactly: the list must keep the serializer."""


def _is_phone_field(model_field) -> bool:
    from phonenumber_field.modelfields import PhoneNumberField

    return isinstance(model_field, PhoneNumberField)


def _phone_text_is_output() -> bool:
    """A valid number is stored in PHONENUMBER_DB_FORMAT and shown in PHONENUMBER_DEFAULT_FORMAT (an invalid one is
    stored and shown as typed): when both are the same, the stored text IS the output and needs no parsing."""
    return getattr(settings, "PHONENUMBER_DB_FORMAT", "E164") == getattr(settings, "PHONENUMBER_DEFAULT_FORMAT", "E164")


def _is_forward_key(model_field) -> bool:
    """A foreign key or a one-to-one of this model (its column holds the id)."""
    return model_field.concrete and (model_field.many_to_one or model_field.one_to_one)


class _DateTimeConverter:
    """DRF's ``DateTimeField.to_representation`` in ISO 8601, the active time zone read once per page (``bind``)
    instead of once per value: 1.5 µs a value instead of 5 (a page of 50 rows shows two or three datetimes each)."""

    def __init__(self, field: drf_fields.DateTimeField):
        self.field = field

    @staticmethod
    def applies(field) -> bool:
        cls, drf = type(field), drf_fields.DateTimeField
        return (
            isinstance(field, drf)
            and cls.to_representation is drf.to_representation
            and cls.enforce_timezone is drf.enforce_timezone
            and cls.default_timezone is drf.default_timezone
            and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        )

    def bind(self) -> Callable[[Any], Any]:
        field = self.field
        represent = field.to_representation
        zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
        if zone is None:
            return represent

        def convert(value):
            if value.__class__ is not datetime.datetime or value.utcoffset() is None:
                return represent(value)  # a naive time is made aware (or refused) by DRF itself
            try:
                text = value.astimezone(zone).isoformat()
            except OverflowError:
                return represent(value)  # DRF's «overflow» error
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return convert


class _ChoiceLabel:
    """``get_<field>_display`` of a choices column (``source="get_status_display"``), rendered by the field: the
    labels read once per page, in the language active for it (Django rebuilds the dict of every choice, with its lazy
    labels, on each call: a third of a 50-row call log's time)."""

    def __init__(self, model_field, field):
        self.model_field, self.represent = model_field, _converter(field)

    def bind(self) -> Callable[[Any], Any]:
        # as Model._get_FIELD_display: the value's label, or the value itself when it is no choice
        labels = {value: str(label) for value, label in self.model_field.flatchoices}
        represent = _bound(self.represent)

        def convert(value):
            return represent(labels.get(value, value))

        return convert


def _same(value: Any) -> Any:
    return value


def _bound(convert):
    """A converter for this page: a time converter bound to the zone active now, choice labels read in the language
    active now, any other as it is."""
    return convert.bind() if isinstance(convert, _DateTimeConverter | _ChoiceLabel) else convert


def _converter(field) -> Callable[[Any], Any]:
    if _DateTimeConverter.applies(field):
        return _DateTimeConverter(field)
    kind = _IDENTITY.get(type(field)) or next(
        (t for cls, t in _IDENTITY.items() if type(field).to_representation is cls.to_representation), None
    )
    if kind is None:
        return field.to_representation
    represent = field.to_representation

    def convert(value):
        return value if value.__class__ is kind else represent(value)

    return convert


class _Spec:
    """How to build one serializer's items: the columns to read and, per output key, how to get its value."""

    def __init__(self, serializer: serializers.Serializer, model, *, annotations: Iterable[str] = ()):
        self.model = model
        self.annotations = set(annotations)
        self.columns: dict[str, Any] = {}  # values() keyword → column name or expression
        self.plan: list[tuple[str, str, Callable | None]] = []  # (output key, kind, converter)
        self.keys: dict[str, str] = {}  # output key → values() key
        self.many: dict[str, tuple] = {}  # output key → (kind, relation details)
        self.nested_one: dict[str, tuple] = {}
        derived = getattr(type(serializer), "lean_fields", {})
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            if name in derived:
                derive = derived[name]
                if isinstance(derive, tuple):  # (the lookups it reads besides the serializer's columns, function)
                    lookups, derive = derive
                    for lookup in lookups:
                        self._column(name, lookup)
                # a method field's value is the derived value itself (its to_representation would call the method)
                represent = _same if isinstance(field, serializers.SerializerMethodField) else _converter(field)
                self.plan.append((name, "derived", (derive, represent)))
                continue
            self._add(name, field)

    def _add(self, name: str, field) -> None:
        source = field.source
        if isinstance(field, relations.ManyRelatedField):
            if not isinstance(field.child_relation, relations.PrimaryKeyRelatedField) or field.child_relation.pk_field:
                raise LeanUnsupported(f"{name}: a many=True field other than ids")
            self.many[name] = ("ids", self._relation(name, source))
            self.plan.append((name, "many", None))
            return
        if isinstance(field, serializers.ListSerializer):
            child = field.child
            if not isinstance(child, serializers.ModelSerializer):
                raise LeanUnsupported(f"{name}: a nested list of a plain serializer")
            relation = self._relation(name, source)
            self.many[name] = ("items", relation, _Spec(child, relation[0]))
            self.plan.append((name, "many", None))
            return
        if isinstance(field, serializers.BaseSerializer):
            model_field = self._model_field(name, source)
            if not _is_forward_key(model_field):
                raise LeanUnsupported(f"{name}: a nested serializer not over a foreign key")
            key = self._column(name, model_field.attname)
            self.nested_one[name] = (key, model_field.related_model, field)
            self.plan.append((name, "one", None))
            return
        if isinstance(field, relations.PrimaryKeyRelatedField):
            if field.pk_field is not None:
                raise LeanUnsupported(f"{name}: a pk_field")
            model_field = self._model_field(name, source)
            if not _is_forward_key(model_field):
                raise LeanUnsupported(f"{name}: an id field not over a foreign key")
            self.plan.append((name, "value", None))
            self.keys[name] = self._column(name, model_field.attname)
            return
        if isinstance(field, relations.RelatedField | serializers.SerializerMethodField | serializers.HiddenField):
            raise LeanUnsupported(f"{name}: {type(field).__name__}")
        if isinstance(field, drf_fields.FileField):  # its URL depends on the request (the spec is shared)
            raise LeanUnsupported(f"{name}: {type(field).__name__}")
        self._add_value(name, field, source)

    def _add_value(self, name: str, field, source: str) -> None:
        display = _CHOICE_DISPLAY.fullmatch(source)
        if display:
            model_field = self._choices_field(name, source, display.group(1))
            self.keys[name] = self._column(name, model_field.attname)
            self.plan.append((name, "value", _ChoiceLabel(model_field, field)))
            return
        lookup = source.replace(".", "__")
        if "." not in source and source not in self.annotations and not self._is_column(source):
            raise LeanUnsupported(f"{name}: source {source!r} is not a column")
        model_field = self._model_field(name, source) if "." not in source and source not in self.annotations else None
        if model_field is not None and _is_phone_field(model_field) and _phone_text_is_output():
            if not isinstance(field, drf_fields.CharField):
                raise LeanUnsupported(f"{name}: a phone number shown other than as text")
            # The stored text as it is: no PhoneNumber parsed per row (see _phone_text_is_output).
            key = f"lean__{name}"
            self.columns[key] = Cast(source, output_field=models.TextField())
            self.keys[name] = key
            self.plan.append((name, "value", None))
            return
        self.keys[name] = self._column(name, lookup)
        self.plan.append((name, "value", _converter(field)))

    def _choices_field(self, name: str, source: str, field_name: str):
        """The column behind Django's own ``get_<field>_display`` (one a model defines itself may say anything)."""
        model_field = self._model_field(name, field_name)
        if not (model_field.concrete and model_field.choices and not model_field.is_relation):
            raise LeanUnsupported(f"{name}: {field_name!r} is not a column with choices")
        if not isinstance(inspect.getattr_static(self.model, source, None), functools.partialmethod):
            raise LeanUnsupported(f"{name}: {self.model.__name__}.{source} is the model's own method")
        if any(value is None for value, _label in model_field.flatchoices):
            raise LeanUnsupported(f"{name}: None is a choice (a null column would need its label)")
        return model_field

    def _is_column(self, source: str) -> bool:
        try:
            field = self.model._meta.get_field(source)
        except Exception:  # noqa: BLE001 - a property or a method: only the instance knows it
            return False
        # a column of the row, or a foreign key's own column named by its attname (``work_order_id``: the id)
        return field.concrete and (not field.is_relation or field.attname == source)

    def _model_field(self, name: str, source: str):
        try:
            return self.model._meta.get_field(source)
        except Exception as error:
            raise LeanUnsupported(f"{name}: {source!r} is not a field of {self.model.__name__}") from error

    def _column(self, name: str, lookup: str) -> str:
        self.columns[lookup] = lookup
        return lookup

    def _relation(self, name: str, source: str) -> tuple:
        """(related model, the lookup from it back to this model, the column of this model it points to)."""
        field = self._model_field(name, source)
        # a reverse foreign key only: a many-to-many lists its rows in the target's order through a join (not read
        # here), a generic relation by content type
        if type(field) is models.ManyToOneRel:
            return field.related_model, field.field.name, None
        raise LeanUnsupported(f"{name}: {source!r} is not a reverse foreign key")

    def value_names(self) -> tuple[list[str], dict[str, Any]]:
        names = ["pk"] + [v for k, v in self.columns.items() if isinstance(v, str)]
        expressions = {k: v for k, v in self.columns.items() if not isinstance(v, str)}
        return list(dict.fromkeys(names)), expressions

    def build(self, rows: list[dict], context: dict) -> list[dict]:
        ids = [row["pk"] for row in rows]
        extra = {name: self._load_many(ids, details, context) for name, details in self.many.items()}
        nested = {name: self._load_one(rows, details, context) for name, details in self.nested_one.items()}
        plan = [
            (
                name,
                self.keys.get(name),
                kind,
                (convert[0], _bound(convert[1])) if kind == "derived" else _bound(convert),
                extra.get(name),
                nested.get(name),
            )
            for name, kind, convert in self.plan
        ]
        items = []
        for row in rows:
            item = {}
            for name, key, kind, convert, many, one in plan:
                if kind == "value":
                    value = row[key]
                    item[name] = value if value is None or convert is None else convert(value)
                elif kind == "many":
                    item[name] = many.get(row["pk"], [])
                elif kind == "one":
                    item[name] = one.get(row[self.nested_one[name][0]])
                else:
                    derive, represent = convert
                    value = derive(row, item)
                    item[name] = None if value is None else represent(value)
            items.append(item)
        return items

    @staticmethod
    def _load_many(ids: list, details: tuple, context: dict) -> dict:
        if not ids:
            return {}
        kind, (model, back, _target) = details[0], details[1]
        # the order DRF gives: the relation's queryset, in the model's default ordering
        qs = model._default_manager.filter(**{f"{back}__in": ids}).order_by(*(model._meta.ordering or ["pk"]))
        grouped: dict[Any, list] = defaultdict(list)
        if kind == "ids":
            for parent, child in qs.values_list(back, "pk"):
                grouped[parent].append(child)
            return grouped
        spec: _Spec = details[2]
        names, expressions = spec.value_names()
        rows = list(qs.values(*names, back, **expressions))
        for row, item in zip(rows, spec.build(rows, context), strict=True):
            grouped[row[back]].append(item)
        return grouped

    @staticmethod
    def _load_one(rows: list[dict], details: tuple, context: dict) -> dict:
        key, model, field = details
        wanted = {row[key] for row in rows if row[key] is not None}
        if not wanted:
            return {}
        # a fresh instance with this request's context (the spec's fields are shared between requests)
        nested = type(field)(context=context)
        return {pk: nested.to_representation(obj) for pk, obj in model._base_manager.in_bulk(wanted).items()}


_SPECS: dict[tuple, _Spec] = {}


def lean_items(serializer_class, queryset: models.QuerySet, *, context: dict) -> list[dict]:
    """The serializer's items for ``queryset``'s rows (a page: sliced, ordered) from one ``.values()`` query plus one
    per to-many relation or nested row the serializer shows.

    The fields are read once per serializer class (building a model serializer's fields cost ~1.5 ms a request):
    what a kept field renders depends on its value only — a time in the zone active at the call, never on the
    request (fields that do — file URLs, method fields — are refused above)."""
    key = (serializer_class, queryset.model, tuple(sorted(queryset.query.annotations)))
    spec = _SPECS.get(key)
    if spec is None:
        spec = _SPECS[key] = _Spec(serializer_class(), queryset.model, annotations=queryset.query.annotations)
    names, expressions = spec.value_names()
    rows = list(queryset.prefetch_related(None).values(*names, **expressions))
    return spec.build(rows, context)
