from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from carryover.accounts.models import User


class OldDetailsForm(forms.Form):
    username = forms.CharField(
        label="Your old username",
        max_length=128,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "class": "input-big",
            }
        ),
    )
    passcode = forms.CharField(
        label="Your old passcode",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "class": "input-big"}),
    )
    account_number = forms.CharField(
        label="Your school's account number",
        max_length=16,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-big"}
        ),
    )


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user: User = obj
        if user.is_legacy:
            in_class = " (this class)" if getattr(user, "in_class", 1) == 0 else ""
            return f"{user.username}{in_class}"
        return user.display_name


class LinkForm(forms.Form):
    target = _PersonChoice(queryset=User.objects.none(), label="Student (from Clever or ClassLink)")
    legacy = _PersonChoice(queryset=User.objects.none(), label="Old account")

    def __init__(self, *args: Any, rostered: QuerySet[User], legacy: QuerySet[User], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["target"].queryset = rostered  # type: ignore[attr-defined]
        self.fields["legacy"].queryset = legacy  # type: ignore[attr-defined]
