from django.apps import AppConfig


class CamsConsoleConfig(AppConfig):
    name = "camsconsole"
    verbose_name = "CAMS Console"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from camsconsole import signals  # noqa: F401  (connects the login audit receivers)
        from camsconsole.roles import grant_admin_site_permissions

        post_migrate.connect(grant_admin_site_permissions, sender=self)
