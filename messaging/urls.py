from django.urls import path

from messaging.views import browse, campaigns, conversations, sending, suppressions

urlpatterns = [
    path("messages/", browse.message_list, name="message-list"),
    path("messages/send/", sending.message_send, name="message-send"),
    path("messages/send/window/", sending.message_window, name="message-window"),
    path("messages/<int:pk>/", browse.message_detail, name="message-detail"),
    path("messages/<int:pk>/status/", browse.message_status, name="message-status"),
    path("messages/<int:pk>/resend/", browse.message_resend, name="message-resend"),
    path("conversations/", conversations.conversation_list, name="conversation-list"),
    path("conversations/<int:pk>/", conversations.conversation_detail, name="conversation-detail"),
    path(
        "conversations/<int:pk>/reply/", conversations.conversation_reply, name="conversation-reply"
    ),
    path("suppressions/", suppressions.suppression_list, name="suppression-list"),
    path("suppressions/new/", suppressions.suppression_add, name="suppression-add"),
    path("suppressions/<int:pk>/lift/", suppressions.suppression_lift, name="suppression-lift"),
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign-progress"),
    path("campaigns/<int:pk>/stats/", campaigns.campaign_stats, name="campaign-stats"),
    path(
        "campaigns/<int:pk>/recipients/",
        campaigns.campaign_recipients,
        name="campaign-recipients",
    ),
    path("campaigns/<int:pk>/upload/", campaigns.campaign_upload, name="campaign-upload"),
    path("campaigns/<int:pk>/launch/", campaigns.campaign_launch, name="campaign-launch"),
    path("campaigns/<int:pk>/pause/", campaigns.campaign_pause, name="campaign-pause"),
    path("campaigns/<int:pk>/resume/", campaigns.campaign_resume, name="campaign-resume"),
    path("campaigns/<int:pk>/cancel/", campaigns.campaign_cancel, name="campaign-cancel"),
    path("campaigns/<int:pk>/retry/", campaigns.campaign_retry, name="campaign-retry"),
    path("campaigns/<int:pk>/resolve/", campaigns.campaign_resolve, name="campaign-resolve"),
    path("campaigns/<int:pk>/export/", campaigns.campaign_export, name="campaign-export"),
    path(
        "campaigns/imports/<int:pk>/mapping/",
        campaigns.import_mapping,
        name="campaignimport-mapping",
    ),
    path(
        "campaigns/imports/<int:pk>/status/",
        campaigns.import_status,
        name="campaignimport-status",
    ),
    path(
        "campaigns/imports/<int:pk>/report/",
        campaigns.import_report,
        name="campaignimport-report",
    ),
]
