"""Forms of the Plan B pages: the upload, and one decision on a row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from carryover.accounts.models import Section

ACCEPT = (
    ".csv,.xlsx,.txt,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="The filled-in logins file",
        help_text="CSV or Excel (.xlsx), as exported, with the names typed in the first column.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    section = forms.ModelChoiceField(
        queryset=Section.objects.none(),
        required=False,
        label="Only this class",
        empty_label="All my classes",
    )

    def __init__(self, *args: Any, sections: QuerySet[Section], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["section"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sections

    def clean_file(self) -> Any:
        # Imported here: the file reader pulls in the name tables, which pages without
        # an upload never need.
        from carryover.planb.files import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 1024} KB; the limit is {MAX_BYTES // 1024} KB."
            )
        return upload


class DecideForm(forms.Form):
    ACTIONS = ("confirm", "pick", "reject", "reopen")

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    student = forms.IntegerField(required=False, min_value=1)
    other = forms.CharField(required=False, max_length=255, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "pick" and not (data.get("student") or data.get("other")):
            raise forms.ValidationError("Choose a student first.")
        return data
