from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from camsconsole.roles import Role, has_role
from camsconsole.views import directory, health, history, home, users
from messaging.views.hooks import receipt_hook

# The Django admin is for console admins only, whatever their staff flag says.
admin.site.has_permission = lambda request: has_role(request.user, Role.ADMIN)  # type: ignore[method-assign]
admin.site.site_header = "CAMS Console administration"

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for it on pages that name no icon (the Django admin, the RQ dashboard).
    path("favicon.ico", home.favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", directory.account_list, name="account-list"),
    path("accounts/new/", directory.account_edit, name="account-create"),
    path("accounts/<int:pk>/", directory.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", directory.account_edit, name="account-edit"),
    path(
        "accounts/<int:pk>/active/", directory.toggle_active, {"kind": "account"}, "account-active"
    ),
    path("accounts/<int:pk>/test/", directory.account_test, name="account-test"),
    path("accounts/<int:pk>/check/", directory.account_check_status, name="account-check"),
    path("channels/", directory.channel_list, name="channel-list"),
    path("channels/new/", directory.channel_edit, name="channel-create"),
    path("channels/<int:pk>/", directory.channel_detail, name="channel-detail"),
    path("channels/<int:pk>/edit/", directory.channel_edit, name="channel-edit"),
    path(
        "channels/<int:pk>/active/", directory.toggle_active, {"kind": "channel"}, "channel-active"
    ),
    path("channels/<int:pk>/rotate/", directory.channel_rotate_token, name="channel-rotate"),
    path("senders/", directory.sender_list, name="sender-list"),
    path("senders/new/", directory.sender_edit, name="sender-create"),
    path("senders/<int:pk>/", directory.sender_detail, name="sender-detail"),
    path("senders/<int:pk>/edit/", directory.sender_edit, name="sender-edit"),
    path("senders/<int:pk>/active/", directory.toggle_active, {"kind": "sender"}, "sender-active"),
    path("users/", users.user_list, name="user-list"),
    path("users/new/", users.user_edit, name="user-create"),
    path("users/<int:pk>/", users.user_detail, name="user-detail"),
    path("users/<int:pk>/edit/", users.user_edit, name="user-edit"),
    path("users/<int:pk>/active/", users.user_toggle_active, name="user-active"),
    path("history/", history.history_list, name="history"),
    path("history/export/", history.history_export, name="history-export"),
    path("templates/", include("templates_app.urls")),
    path("", include("messaging.urls")),
    # CAMS pushes receipts here; public, the token is the credential (models.RECEIPT_HOOK_PATH).
    path("hooks/cams/<str:token>/", receipt_hook, name="receipt-hook"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
