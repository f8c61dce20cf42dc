from django.urls import path

from templates_app.views import browse, design, operations

urlpatterns = [
    path("", browse.template_list, name="template-list"),
    path("new/", design.template_create, name="template-create"),
    path("validate/", design.template_validate, name="template-validate"),
    path("import/", operations.template_import, name="template-import"),
    path("<int:pk>/", browse.template_detail, name="template-detail"),
    path("<int:pk>/duplicate/", operations.template_duplicate, name="template-duplicate"),
    path("<int:pk>/delete/", operations.template_delete, name="template-delete"),
    path("languages/<int:pk>/edit/", design.variant_edit, name="variant-edit"),
    path("languages/<int:pk>/translate/", design.variant_translate, name="variant-translate"),
    path("languages/<int:pk>/submit/", operations.variant_submit, name="variant-submit"),
    path("languages/<int:pk>/refresh/", operations.variant_refresh, name="variant-refresh"),
    path("languages/<int:pk>/delete/", operations.variant_delete, name="variant-delete"),
    path("languages/<int:pk>/status/", browse.variant_status, name="variant-status"),
    path("languages/<int:pk>/versions/", browse.variant_versions, name="variant-versions"),
    path("jobs/<int:pk>/", browse.job_status, name="job-status"),
]
