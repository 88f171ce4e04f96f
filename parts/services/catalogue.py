"""Writes for the parts catalogue and suppliers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dms.core.transitions import record_writes

from ..models import Part, Supplier, SupplierPrice

PART_FIELDS = ("number", "barcode", "name", "price", "unit", "default_supplier", "is_active")
SUPPLIER_FIELDS = ("name", "code", "delivery_days", "return_days", "email", "phone", "is_active")
SUPPLIER_PRICE_FIELDS = ("supplier", "part", "price", "valid_from")


def _normalise_part_number(number: str) -> str:
    return (number or "").strip().upper()


def _normalise_barcode(barcode: str | None) -> str | None:
    """Issue 15 item 7: a scanner sends the code as printed; spaces are noise, an empty code means none (NULL)."""
    barcode = "".join((barcode or "").split())
    return barcode or None


def _check_part(part: Part) -> None:
    part.number = _normalise_part_number(part.number)
    part.barcode = _normalise_barcode(part.barcode)
    if part.barcode is not None:
        taken_code = Part.objects.filter(dealership_id=part.dealership_id, barcode=part.barcode).exclude(pk=part.pk)
        if taken_code.exists():
            raise ValidationError({"barcode": _("A part with this barcode already exists in the dealership.")})
    if part.default_supplier is not None and part.default_supplier.dealership_id != part.dealership_id:
        raise ValidationError({"default_supplier": _("Unknown supplier.")})
    taken = Part.objects.filter(dealership_id=part.dealership_id, number=part.number).exclude(pk=part.pk)
    if taken.exists():
        raise ValidationError({"number": _("A part with this number already exists in the dealership.")})
    part.full_clean()


part_create, part_update = record_writes(Part, entity="part", allowed=PART_FIELDS, check=_check_part)


def _check_new_supplier(supplier: Supplier) -> None:
    if Supplier.objects.filter(dealership_id=supplier.dealership_id, name=supplier.name).exists():
        raise ValidationError({"name": _("A supplier with this name already exists.")})
    supplier.full_clean()


def _check_supplier(supplier: Supplier) -> None:
    supplier.full_clean(validate_constraints=False)


supplier_create, supplier_update = record_writes(
    Supplier, entity="supplier", allowed=SUPPLIER_FIELDS, check=_check_supplier, check_new=_check_new_supplier
)


def _check_supplier_price(price: SupplierPrice) -> None:
    """Issue 15 item 5: supplier and part of the price's own dealership; one price per supplier, part and date."""
    errors = {}
    if price.supplier_id is not None and price.supplier.dealership_id != price.dealership_id:
        errors["supplier"] = _("Unknown supplier.")
    if price.part_id is not None and price.part.dealership_id != price.dealership_id:
        errors["part"] = _("Unknown part.")
    if errors:
        raise ValidationError(errors)
    price.full_clean(validate_constraints=False)
    taken = SupplierPrice.objects.filter(
        supplier_id=price.supplier_id, part_id=price.part_id, valid_from=price.valid_from
    ).exclude(pk=price.pk)
    if taken.exists():
        raise ValidationError({"valid_from": _("This supplier already has a price for this part from this date.")})


supplier_price_create, supplier_price_update = record_writes(
    SupplierPrice, entity="supplier_price", allowed=SUPPLIER_PRICE_FIELDS, check=_check_supplier_price
)
