from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from dms.core.models import DealershipOwned


class Supplier(DealershipOwned):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=30, blank=True)
    # Seed 000: the distributor's standard term is 7 days; a longer ETA triggers interim calls (R3).
    delivery_days = models.PositiveSmallIntegerField(_("standard delivery term, days"), default=7)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["dealership", "name"], name="supplier_name_unique")]

    def __str__(self) -> str:
        return self.name


class Part(DealershipOwned):
    class Unit(models.TextChoices):
        PIECE = "pcs", _("pcs")
        SET = "set", _("set")
        LITRE = "l", _("l")
        KG = "kg", _("kg")
        METRE = "m", _("m")

    number = models.CharField(_("part number"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=5, choices=Unit.choices, default=Unit.PIECE)
    default_supplier = models.ForeignKey(
        Supplier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("default supplier"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "number"],
                name="part_number_unique_per_dealership",
                violation_error_message=_("A part with this number already exists in the dealership."),
            )
        ]
        indexes = [models.Index(fields=["dealership", "name"])]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"
