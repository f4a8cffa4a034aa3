"""The embedded PostgreSQL has pgvector and pg_trgm, usable through the ORM."""

import pytest
from django.db import connection, models
from pgvector.django import CosineDistance, VectorField


class Probe(models.Model):
    label = models.CharField(max_length=20)
    embedding = VectorField(dimensions=3)

    class Meta:
        app_label = "library"
        db_table = "test_vector_probe"


@pytest.mark.django_db
def test_rows_order_by_cosine_distance_on_a_vector_column():
    with connection.schema_editor() as editor:
        editor.create_model(Probe)
    Probe.objects.bulk_create(
        [
            Probe(label="opposite", embedding=[-1.0, 0.0, 0.0]),
            Probe(label="same direction", embedding=[10.0, 0.1, 0.0]),
            Probe(label="orthogonal", embedding=[0.0, 1.0, 0.0]),
            Probe(label="close", embedding=[1.0, 0.5, 0.0]),
        ]
    )

    ranked = Probe.objects.annotate(d=CosineDistance("embedding", [1.0, 0.0, 0.0])).order_by("d")

    assert [row.label for row in ranked] == ["same direction", "close", "orthogonal", "opposite"]
    assert ranked[0].d == pytest.approx(1 - 10 / (10**2 + 0.1**2) ** 0.5, abs=1e-6)
    assert ranked.last().d == pytest.approx(2.0)


@pytest.mark.django_db
def test_trigram_similarity_finds_a_misspelt_word():
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity('kik', 'kick') > similarity('kik', 'snare')")
        assert cursor.fetchone()[0] is True


@pytest.mark.django_db
def test_extensions_are_created_by_migrations():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        names = {name for (name,) in cursor.fetchall()}
    assert {"vector", "pg_trgm"} <= names
