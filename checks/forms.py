"""Forms of the checks app."""

from __future__ import annotations

from django import forms

from checks.models import CustomCheck


class CustomCheckForm(forms.ModelForm):
    class Meta:
        model = CustomCheck
        fields = ["name", "description"]
        labels = {"name": "Name", "description": "What to check"}
        help_texts = {
            "description": "Say what to look at and what good looks like. Web addresses become "
            "links, so you can point to the guidance or the client's software."
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["name"].widget.attrs["maxlength"] = 200

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the check a name.")
        taken = CustomCheck.objects.filter(practice=self.practice, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("The practice already has a custom check of that name.")
        return name

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if len(description) > 4000:
            raise forms.ValidationError("Keep the description under 4,000 characters.")
        return description
