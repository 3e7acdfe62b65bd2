"""Mobile numbers: parsed with a British default, stored in E.164, checked before texting.

Imports no model, so `sodium.models` can use `MobileNumberField`.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumber_field import formfields, modelfields
from phonenumber_field.phonenumber import PhoneNumber, to_python

# Ofcom reserves 07700 900000–900999 for drama and examples: libphonenumber calls it invalid,
# yet it is the range the demo and the tests use, so that nobody real is ever texted.
_FICTION = "7700900"
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
INVALID = "Enter a mobile number, e.g. 07700 900123 or +44 7700 900123."


def is_textable(number: PhoneNumber | str | None) -> bool:
    """Return whether `number` is a mobile number a text can be sent to."""
    parsed = to_python(number) if number else None
    if not isinstance(parsed, PhoneNumber) or not phonenumbers.is_possible_number(parsed):
        return False
    if parsed.country_code == 44 and str(parsed.national_number).startswith(_FICTION):
        return len(str(parsed.national_number)) == 10
    return (
        phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in _MOBILE_TYPES
    )


def e164(number: PhoneNumber | str | None) -> str:
    """Return `number` in E.164 ("+447700900123"), or "" when it is not a possible number.

    PhoneNumber's own str() gives back what was typed for numbers libphonenumber calls
    invalid, which includes the reserved range above.
    """
    parsed = to_python(number) if number else None
    if not isinstance(parsed, PhoneNumber) or not phonenumbers.is_possible_number(parsed):
        return ""
    return parsed.as_e164


UK_COUNTRY_CODE = 44


def display_mobile(number: PhoneNumber | str | None) -> str:
    """Return `number` as staff read it: national for UK numbers ("07700 900123"),
    international for any other ("+1 415-555-2671"). Display only: storage stays E.164.

    A number that is not even possible is shown as it was stored. The country code decides,
    not the region, so the reserved drama range (which has no region) still reads nationally.
    """
    parsed = to_python(number) if number else None
    if not isinstance(parsed, PhoneNumber) or not phonenumbers.is_possible_number(parsed):
        return str(number or "")
    if parsed.country_code == UK_COUNTRY_CODE:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def validate_mobile(value: PhoneNumber | str) -> None:
    """Raise ValidationError unless `value` is a mobile number (see `is_textable`)."""
    if value and not is_textable(value):
        raise ValidationError(INVALID, code="invalid")


class MobileFormField(formfields.PhoneNumberField):
    """A form field for a mobile number: British by default, any country with a prefix."""

    default_validators = [validate_mobile]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages["invalid"] = INVALID  # the library's names a landline example


class MobileNumberField(modelfields.PhoneNumberField):
    """A mobile number column in E.164 ("+447700900123"), validated by `validate_mobile`."""

    default_validators = [validate_mobile]

    def get_prep_value(self, value):
        # Store every possible number in E.164, not only those libphonenumber calls valid.
        return e164(value) or super().get_prep_value(value)

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", MobileFormField)
        return super().formfield(**kwargs)
