from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from camsconsole.models import Account, AuditEvent, Channel, Sender


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the history is append-only, the admin site included."""

    list_display = ("created_at", "actor_label", "ip", "verb", "object_type", "object_label")
    list_filter = ("verb", "object_type")
    search_fields = ("actor_label", "object_label", "verb")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Accounts, channels and senders change only through the console's pages, whose actions
    write the audit history; the admin site only shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "endpoint", "access_key_id", "is_active")
    exclude = ("access_key_secret_encrypted",)


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ("name", "channel_type", "cust_space_id", "account", "is_active")
    exclude = ("hook_token", "hook_token_previous")


@admin.register(Sender)
class SenderAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "sender_id", "channel", "status", "is_active")
