"""The content block editor's form."""

from __future__ import annotations

from django import forms

from sodium.messaging.blocks import BlockError

_TOKEN_FIELD = {"data-token-field": True, "autocomplete": "off"}
_TOKEN_DEFAULT = {"data-token-field": True, "data-token-default": True}


class ContentBlockForm(forms.Form):
    name = forms.CharField(max_length=120)
    subject = forms.CharField(max_length=300, widget=forms.TextInput(attrs=_TOKEN_FIELD))
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono", **_TOKEN_DEFAULT}),
        help_text="Plain text with Liquid. A blank line starts a new paragraph; links become "
        'clickable. {% render "Signature" %} puts in the body of your block named Signature.',
    )

    def add_block_errors(self, exc: BlockError) -> None:
        """Show a refused save's problems on their fields (the rest above the form)."""
        for field, problems in exc.errors.items():
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)
