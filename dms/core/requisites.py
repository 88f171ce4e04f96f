"""Russian company requisites (реквизиты) printed on every customer document (issue 16, item 4): their checks.

python-stdnum is not installed, so the checksums follow the published algorithms (ФНС for ИНН and ОГРН, Банк
России for the account key against the БИК). Each validator raises a ValidationError with a message the admin shows
beside the field.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
ACCOUNT_KEY_WEIGHTS = ((7, 1, 3) * 8)[:23]  # 23 digits: three of the BIK, then the 20-digit account


def _digits(value: str, lengths: tuple[int, ...], message) -> list[int]:
    if not (value.isascii() and value.isdigit() and len(value) in lengths):
        raise ValidationError(message, code="invalid")
    return [int(c) for c in value]


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def validate_inn(value: str) -> None:
    """ИНН: 10 digits (an organisation) or 12 (an individual entrepreneur), the last one or two being checksums."""
    digits = _digits(value, (10, 12), _("INN must have 10 or 12 digits."))
    if len(digits) == 10:
        valid = _check_digit(digits, INN10_WEIGHTS) == digits[9]
    else:
        valid = _check_digit(digits, INN12_WEIGHTS_11) == digits[10] and (
            _check_digit(digits, INN12_WEIGHTS_12) == digits[11]
        )
    if not valid:
        raise ValidationError(_("INN checksum does not match: check the digits."), code="checksum")


def validate_kpp(value: str) -> None:
    _digits(value, (9,), _("KPP must have 9 digits."))


def validate_ogrn(value: str) -> None:
    """ОГРН: 13 digits (mod 11) or ОГРНИП: 15 digits (mod 13); the last digit is the checksum."""
    digits = _digits(value, (13, 15), _("OGRN must have 13 digits (15 for an individual entrepreneur)."))
    modulus = 11 if len(digits) == 13 else 13
    if int(value[:-1]) % modulus % 10 != digits[-1]:
        raise ValidationError(_("OGRN checksum does not match: check the digits."), code="checksum")


def validate_bik(value: str) -> None:
    _digits(value, (9,), _("BIK must have 9 digits."))


def validate_account(value: str) -> None:
    _digits(value, (20,), _("An account number must have 20 digits."))


def account_key_matches(bik: str, account: str, *, correspondent: bool) -> bool:
    """The Bank of Russia's control key: a settlement account is checked with the BIK's last three digits, a
    correspondent account with "0" and the BIK's fifth and sixth digits."""
    prefix = ("0" + bik[4:6]) if correspondent else bik[-3:]
    digits = [int(c) for c in prefix + account]
    return sum(d * w % 10 for d, w in zip(digits, ACCOUNT_KEY_WEIGHTS, strict=True)) % 10 == 0


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    """The VAT inside a price that includes it (Russian retail prices do): total × rate / (100 + rate), to kopecks."""
    if not rate:
        return Decimal("0.00")
    return (total * rate / (100 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
