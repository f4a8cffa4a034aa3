"""Create pg_stat_statements where the server preloads it (docker-compose's does).

Elsewhere (the embedded server, a managed database without it) this does
nothing, and ``db_report`` says how to enable it.
"""

from django.db import DatabaseError, migrations, transaction


def create_extension(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_preload_libraries')")
        (preloaded,) = cursor.fetchone()
        if "pg_stat_statements" not in [name.strip() for name in preloaded.split(",")]:
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except DatabaseError:  # no privilege: the report explains the missing statistics
            pass


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop)]
