from django.db import migrations

ROLES = ("admin", "operator", "viewer")

# PostgreSQL refuses any UPDATE or DELETE of an audit event, whatever code tries it. (Test
# flushes use TRUNCATE, which row triggers do not see.) On SQLite the model guards suffice.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION camsconsole_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER camsconsole_auditevent_append_only
    BEFORE UPDATE OR DELETE ON camsconsole_auditevent
    FOR EACH ROW EXECUTE FUNCTION camsconsole_audit_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS camsconsole_auditevent_append_only ON camsconsole_auditevent;
DROP FUNCTION IF EXISTS camsconsole_audit_append_only();
"""


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [
        ("camsconsole", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
