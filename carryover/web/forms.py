"""Page forms: parse and shape input only; the rules live in the services."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from carryover.accounts.services import MAX_PASSCODE_LENGTH

# Attributes for fields a child types: no capitalising, correcting or spell-checking
# of usernames and passcodes they learned letter by letter.
_PLAIN_TYPING = {
    "autocapitalize": "none",
    "autocorrect": "off",
    "spellcheck": "false",
}


class StudentSignInForm(forms.Form):
    """Account number + username + passcode.

    The fields are not `required` on the server: every submission, however empty, goes
    through the one sign-in path, so an empty field earns the same answer (and costs the
    same time) as a wrong one. The browser still asks for all three.
    """

    account_number = forms.CharField(
        label="Account number",
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "required": True,
                "maxlength": 20,
                "class": "input-big",
                **_PLAIN_TYPING,
            }
        ),
    )
    username = forms.CharField(
        label="Username",
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "required": True,
                "maxlength": 64,
                "class": "input-big",
                **_PLAIN_TYPING,
            }
        ),
    )
    passcode = forms.CharField(
        label="Passcode",
        required=False,
        strip=False,
        widget=forms.PasswordInput(
            attrs={
                "autocomplete": "current-password",
                "required": True,
                "maxlength": 128,
                "class": "input-big",
                **_PLAIN_TYPING,
            }
        ),
    )


class StaffSignInForm(forms.Form):
    email = forms.CharField(
        label="Email",
        required=False,
        strip=True,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "required": True}),
    )
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "required": True}),
    )


class AddStudentForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", **_PLAIN_TYPING}),
    )
    passcode = forms.CharField(
        label="Passcode",
        max_length=MAX_PASSCODE_LENGTH,
        strip=False,
        help_text="The student types this to sign in. Write it down for them.",
        widget=forms.TextInput(attrs={"autocomplete": "off", **_PLAIN_TYPING}),
    )


class ResetPasscodeForm(forms.Form):
    passcode = forms.CharField(
        label="New passcode",
        max_length=MAX_PASSCODE_LENGTH,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", **_PLAIN_TYPING}),
    )


# --- a pasted list of students ---------------------------------------------------------


@dataclass(frozen=True)
class PastedRow:
    line: int
    username: str
    passcode: str
    section_name: str


@dataclass(frozen=True)
class PastedLineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


MAX_PASTED_LINES = 500


def parse_pasted_students(text: str) -> tuple[list[PastedRow], list[PastedLineError]]:
    """Read `username, passcode[, class]` lines, comma or tab separated.

    Blank lines are skipped but still counted, so line numbers match what the teacher
    sees in the box. A first line that is a header (`username, passcode, ...`) is skipped.
    Only a line with too many parts is refused here (a passcode may hold a comma, so it
    cannot be guessed which part is what); usernames, passcodes and classes are checked
    by the service, which reports by the same line numbers.
    """
    rows: list[PastedRow] = []
    errors: list[PastedLineError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        separator = "\t" if "\t" in raw else ","
        fields = [field.strip() for field in raw.split(separator)]
        while len(fields) > 2 and fields[-1] == "":
            fields.pop()  # a trailing separator, as spreadsheets leave
        if not rows and not errors and fields[0].lower() == "username":
            continue
        if len(fields) > 3:
            errors.append(
                PastedLineError(
                    number,
                    f"too many parts ({len(fields)}): write username, passcode and an "
                    "optional class",
                )
            )
            continue
        # A line without a passcode goes on to the service, which says what is missing
        # together with every other problem of the list.
        fields += [""] * (3 - len(fields))
        rows.append(PastedRow(number, fields[0], fields[1], fields[2]))
    return rows, errors


class PasteStudentsForm(forms.Form):
    students = forms.CharField(
        label="Paste a list of students",
        help_text=(
            "One student per line: username, passcode, and optionally a class name. "
            "Separate them with commas or tabs (you can paste straight from a spreadsheet)."
        ),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "autocomplete": "off", "class": "mono", **_PLAIN_TYPING}
        ),
    )

    def clean_students(self) -> str:
        text: str = self.cleaned_data["students"]
        if not text.strip():
            raise forms.ValidationError("Paste at least one line.")
        if len(text.splitlines()) > MAX_PASTED_LINES:
            raise forms.ValidationError(
                f"At most {MAX_PASTED_LINES} lines at a time; split the list and paste it in parts."
            )
        return text
