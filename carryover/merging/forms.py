from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from carryover.accounts.models import User
from carryover.identity import is_account_number, normalize_account_number


class OldDetailsForm(forms.Form):
    """The three old details. A blank field or an account number that is not six digits
    is a typing slip: answered here, at once, and counted against no limit."""

    username = forms.CharField(
        label=_("Your old username"),
        max_length=128,
        error_messages={"required": _("Type your old username.")},
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
        label=_("Your old passcode"),
        max_length=128,
        strip=False,
        error_messages={"required": _("Type your old passcode.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "class": "input-big"}),
    )
    account_number = forms.CharField(
        label=_("Your school's account number"),
        max_length=32,
        error_messages={"required": _("Type your school's account number: six numbers.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-big"}
        ),
    )

    def clean_account_number(self) -> str:
        number = normalize_account_number(self.cleaned_data["account_number"])
        if not is_account_number(number):
            raise forms.ValidationError(
                _("The account number is six numbers, like 123456. Check it with your teacher."),
                code="account_number_six_digits",
            )
        return number


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
