"""The public samples' search rows in a narrow table of their own (removed by 0011).

``search_publicdocument`` mirrored the public rows of ``search_sampledocument``
with only what ranking reads; its triggers copied ``Visibility.PUBLIC``, and
they are no longer made here. Once the ranked postings (0008) existed, ranking
through it was no faster than through the search rows themselves (paired
measurement in docs/architecture.md), so migration 0011 drops it.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0006_own_document_owner_gin"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicDocument",
            fields=[
                ("sample_id", models.UUIDField(primary_key=True, serialize=False)),
                ("owner_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["document"], name="search_public_document_gin"
                    )
                ],
            },
        ),
    ]
