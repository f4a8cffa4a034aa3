from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import page_limits, schema, signals  # noqa: F401 - receivers, schema

        page_limits.install()
