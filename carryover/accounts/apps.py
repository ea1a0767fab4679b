from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "carryover.accounts"
    label = "accounts"
    verbose_name = "Accounts and people"
