"""Ranked postings: each public document's words, each with the rank it gives.

``search_publicposting`` holds one row per (public sample, word of its
document), with the ``ts_rank`` the sample gets for a search of that word
alone. A B-tree on (word, rank, created_at, sample_id) then hands over a
one-word search's best public matches in rank order, and their number from
the index alone, where ranking through the GIN index reads every match's
document (a common word matches thousands).

The triggers that keep it, and the ranks' weights (the backend's defaults),
are not copied here: the backend makes them (``search/backends/postgres/schema.py``,
after every ``migrate``); a backend configured with other weights ranks
through the GIN index instead.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0007_public_document"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicPosting",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "sample_id",
                        "lexeme",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("sample_id", models.UUIDField()),
                ("lexeme", models.TextField()),
                ("owner_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("rank", models.FloatField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["lexeme", "-rank", "-created_at", "sample_id"],
                        include=["owner_id"],
                        name="search_posting_ranked",
                    )
                ],
            },
        ),
    ]
