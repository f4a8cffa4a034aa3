"""What search keeps beside the library: a search row per sample, ranked postings, a word list.

They are written by PostgreSQL triggers that the backend makes
(``search/backends/postgres/schema.py``), never by Python code, so every path
that changes a sample, a collection or a collection's items keeps them current
in the same transaction: the ORM, ``bulk_create``, ``queryset.update()``, COPY
and raw SQL alike.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SampleDocument(models.Model):
    """A sample as text search sees it: its words, and what filters and privacy need.

    Text searches, filters and facets read this one narrow table (and then
    load the page's samples), so ranking thousands of matches never joins the
    library's wide rows. Sound similarity reads ``library_sample.embedding``
    through HNSW indexes (migration 0002, and one per category the backend makes).

    ``document`` holds what anybody who can see the sample may search: name
    and tags (weight A), the names of the owner's public collections that hold
    it (B), and the description (C). ``private_document`` holds the names of
    the owner's private collections that hold it (B), searched only by the
    owner, so a private collection's name never makes a public sample
    findable by others; it is null when there are none.
    """

    sample = models.OneToOneField(
        "library.Sample",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the (owner, created_at) index serves it
    )
    visibility = models.CharField(max_length=10)
    created_at = models.DateTimeField()
    category = models.CharField(max_length=16, null=True)  # noqa: DJ001 - mirrors Sample
    bpm = models.FloatField(null=True)
    key = models.CharField(max_length=2, null=True)  # noqa: DJ001 - mirrors Sample
    mode = models.CharField(max_length=5, null=True)  # noqa: DJ001 - mirrors Sample
    duration = models.FloatField(null=True)
    loudness_lufs = models.FloatField(null=True)
    is_loop = models.BooleanField(null=True)
    tags = ArrayField(models.CharField(max_length=50), default=list)
    document = SearchVectorField()
    private_document = SearchVectorField(null=True)

    class Meta:
        indexes = [
            GinIndex(fields=["document"], name="search_document_gin"),
            # Other people's matches are read through a GIN index of public rows' words,
            # which the backend makes (its condition names Visibility.PUBLIC).
            GinIndex(fields=["tags"], name="search_document_tags_gin"),
            models.Index(fields=["owner", "created_at"], name="search_document_owner"),
            models.Index(fields=["created_at"], name="search_document_created"),
            models.Index(fields=["category"], name="search_document_category"),
            models.Index(fields=["bpm"], name="search_document_bpm"),
            models.Index(fields=["key", "mode"], name="search_document_key"),
            # Browsing and facets by filters read their rows from the index alone (0009).
            models.Index(
                fields=["category", "key", "mode"],
                include=[
                    "visibility",
                    "owner",
                    "created_at",
                    "sample",
                    "bpm",
                    "is_loop",
                    "duration",
                    "loudness_lufs",
                ],
                name="search_document_filters",
            ),
        ]

    def __str__(self) -> str:
        return f"search document of {self.sample_id}"


class PublicPosting(models.Model):
    """One word of one public sample's document, with the rank the sample gets for it.

    A one-word search's public matches, best first, are the first rows of
    this word in the ``(lexeme, rank, created_at, sample_id)`` index, and
    their number is counted from the index alone: no match's document is
    read to rank it. ``rank`` is ``ts_rank(weights, document, word)`` with the
    backend's default weights, what ranking the document itself would give.
    Written by triggers on ``search_sampledocument`` that the backend makes
    (``search/backends/postgres/schema.py``), never by Python. It stays
    because it halves fuzzy and hybrid searches' time at 100,000 samples
    (docs/architecture.md has the figures).
    """

    pk = models.CompositePrimaryKey("sample_id", "lexeme")
    sample_id = models.UUIDField()  # not a foreign key: triggers keep it
    lexeme = models.TextField()
    owner_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    rank = models.FloatField()

    class Meta:
        indexes = [
            models.Index(
                fields=["lexeme", "-rank", "-created_at", "sample_id"],
                include=["owner_id"],
                name="search_posting_ranked",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lexeme!r} in {self.sample_id}"


class SearchTerm(models.Model):
    """Every word seen in a sample's name or tags, for fuzzy matching and autocomplete.

    Words are only added here (by trigger), so busy uploads never contend for
    a counter row; :func:`search.services.search_terms_prune` drops words no
    sample uses any more. A word's presence says nothing about who uses it:
    suggestions are checked against the caller's visible samples before they
    are shown.

    ``witness`` is a public sample that had the word in its name or tags when
    it was recorded: checking that one sample is enough to show the word to
    anybody, where otherwise the word's matches are searched. It is only a
    hint: it is checked at every use (it may have been deleted, renamed or
    made private since), and the prune task renews stale ones.
    """

    word = models.CharField(max_length=100, primary_key=True)
    # Not a foreign key: deleting a sample must not lock or touch the word list.
    witness = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [
            # GiST rather than GIN: it serves nearest-word ordering (``<->``) and LIKE prefixes.
            GistIndex(OpClass("word", name="gist_trgm_ops"), name="search_term_word_trgm"),
        ]

    def __str__(self) -> str:
        return self.word
