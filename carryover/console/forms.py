"""Console forms: parse and shape input only; the rules live in the services."""

from __future__ import annotations

from django import forms

from carryover.console.exports import FORMATS
from carryover.console.selectors import EraseSelection

MAX_USERNAMES_TEXT = 200_000


class EraseSelectionForm(forms.Form):
    """Which old accounts: the default set, or the usernames typed (one a line, or
    separated by commas)."""

    usernames = forms.CharField(
        label="Only these usernames",
        required=False,
        max_length=MAX_USERNAMES_TEXT,
        help_text="Leave empty for every old account still temporary after its end date.",
        widget=forms.Textarea(
            attrs={"rows": 4, "class": "mono", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )

    def selection(self) -> EraseSelection:
        text = self.cleaned_data.get("usernames", "") if self.is_valid() else ""
        return EraseSelection.parse(text)


class EraseConfirmForm(EraseSelectionForm):
    confirm = forms.IntegerField(
        label="Type the number of accounts to erase",
        min_value=0,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-confirm"}
        ),
    )


class ExportFormatForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, f.upper()) for f in FORMATS], required=False)

    def export_format(self) -> str:
        if self.is_valid() and self.cleaned_data.get("format"):
            return str(self.cleaned_data["format"])
        return "csv"
