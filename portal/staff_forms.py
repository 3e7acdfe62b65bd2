"""Forms staff use on the portal's items: sending a document for approval."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from portal import files
from portal.models import Document
from sodium import formfields

CATEGORIES = ["Accounts", "Tax", "Payroll", "VAT", "Engagement letter", "Other"]


class SendForApprovalForm(forms.Form):
    """Upload a new file or pick an existing one (the task's files and the client's uploads;
    a copy is sent), with its title and category.

    The approval page and the focus panel both use it. The panel's short form (`panel=True`)
    keeps its own wording: the category is optional there (any the step suggests) and a
    missing title says so in the one line of errors the panel shows.
    """

    file = forms.FileField(
        required=False,
        label="Upload a new file",
        widget=forms.FileInput(attrs={"accept": files.ACCEPT}),
        help_text="PDF, images, Word, Excel, CSV or text.",
    )
    # Choices are the client's documents, set in __init__ (tenant-owned managers cannot be
    # queried when the class is built).
    document = formfields.ModelChoiceField(
        queryset=Document._base_manager.none(),
        required=False,
        label="Or pick an existing document",
        error_messages={"invalid_choice": "Choose a document of this client."},
    )
    title = forms.CharField(max_length=200, label="Title", help_text="What the client sees.")
    category = forms.ChoiceField(label="Category")

    def __init__(self, *args, documents: QuerySet[Document], panel: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = documents
        if panel:
            self.fields["title"].error_messages["required"] = "Give the document a title."
            self.fields["category"] = forms.CharField(max_length=60, required=False)
            return
        choices = [(c, c) for c in CATEGORIES]
        current = self.initial.get("category")
        if current and current not in CATEGORIES:
            choices.append((current, current))  # keep a category set before the list changed
        self.fields["category"].choices = [("", "Choose a category")] + choices

    def error_text(self) -> str:
        """Every error in one line (the focus panel shows them above its short form)."""
        return " ".join(e for errors in self.errors.values() for e in errors)

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the document a title.")
        return title

    def clean(self) -> dict:
        data = super().clean()
        upload, document = data.get("file"), data.get("document")
        if "document" in self.errors:
            return data
        if upload and document:
            raise forms.ValidationError(
                "Upload a new file or pick one the client already has, not both."
            )
        if not upload and not document:
            raise forms.ValidationError("Upload a file, or pick one the client already has.")
        return data
