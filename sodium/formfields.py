"""Model choice fields that refuse ids no database column can hold, before querying.

A 23-digit number posted as a choice made SQLite raise OverflowError while binding it (a 500);
Django guards single-value lookups but not `pk__in`. Every model choice field in the project
uses these classes, so an out-of-range id is an ordinary "Select a valid choice" field error
on every backend.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, models


def id_out_of_range(queryset: models.QuerySet, key: str, value: Any) -> bool:
    """Return True when `value` is an integer too large or small for the `key` column."""
    meta = queryset.model._meta
    try:
        field = meta.pk if key == "pk" else meta.get_field(key)
    except FieldDoesNotExist:
        return False
    if not isinstance(field, models.IntegerField):
        return False
    try:
        number = int(str(value).strip())
    except ValueError:
        return False  # not a number at all: Django's own checks give the error
    low, high = connections[queryset.db].ops.integer_field_range(field.get_internal_type())
    return (low is not None and number < low) or (high is not None and number > high)


class ModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and id_out_of_range(
            self.queryset, self.to_field_name or "pk", value
        ):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> models.QuerySet:
        key = self.to_field_name or "pk"
        if isinstance(value, (list, tuple, set, frozenset)):
            for pk in value:
                if id_out_of_range(self.queryset, key, pk):
                    raise ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": pk},
                    )
        return super()._check_values(value)


class _NeededWith:
    """A field shown as required (no "optional" label) whose emptiness is judged with the
    rest of its form: a subject only matters for inline content, a chase interval only when
    chasing is on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, required=True, **kwargs)

    def validate(self, value: Any) -> None:
        if value not in self.empty_values:
            super().validate(value)


class NeededChar(_NeededWith, forms.CharField):
    pass


class NeededInt(_NeededWith, forms.IntegerField):
    pass
