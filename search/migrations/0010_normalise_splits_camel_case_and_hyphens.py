"""Names split where producers split them: "kick-hard01" and "KickHard01" as "kick hard 01".

This migration replaced ``search_normalise`` and rebuilt every search row.
The function is now made by the backend (``search/backends/postgres/schema.py``,
after every ``migrate``), which rebuilds the rows itself when what a row
holds changes; nothing is left to do here.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0009_sample_vectors_by_category_and_key"),
    ]

    operations = []
