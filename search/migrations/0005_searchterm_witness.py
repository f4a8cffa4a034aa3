"""A public "witness" sample per word, so showing a word rarely needs a search.

Near spellings and completions are offered only when the caller can see a
sample with that word. Proving it by searching the word's matches costs a
millisecond or more for a common word; checking one public sample known to
have had it costs a primary-key lookup. ``search_add_terms`` (made by the
backend, ``search/backends/postgres/schema.py``) records such a sample for new
words, and for known words that have none yet; the daily prune task fills
and renews them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_own_document_gin"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchterm",
            name="witness",
            field=models.UUIDField(blank=True, null=True),
        ),
    ]
