"""The search backend contract, run against every backend; plus how backends are chosen.

``SearchBackendContract`` holds the behaviour a user relies on whatever the
backend: ranking, web-search syntax, highlighting, fuzzy words, each filter,
compatible keys, nearest neighbours with filters, hybrid fusion, facets,
autocomplete, and the privacy rule through every method. A backend's test
class inherits it and names the backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string

from library.models import CollectionItem, Sample
from search.backends import get_search_backend
from search.backends.base import BaseSearchBackend, SearchFilters
from search.backends.postgres.postings import RANK_WEIGHTS
from tests.factories import CollectionFactory, SampleFactory, UserFactory

pytestmark = pytest.mark.django_db

DIM = 64


def vector(*weights: tuple[int, float]) -> list[float]:
    """A unit vector with the given (axis, weight) components."""
    v = np.zeros(DIM)
    for axis, weight in weights:
        v[axis] += weight
    return (v / np.linalg.norm(v)).tolist()


def names(page) -> list[str]:
    return [hit.sample.name for hit in page.hits]


class SearchBackendContract:
    """Behaviour every search backend must show; subclasses set ``backend_path``."""

    backend_path: str
    options: dict = {}

    @pytest.fixture
    def backend(self) -> BaseSearchBackend:
        return import_string(self.backend_path)("test", **self.options)

    @pytest.fixture
    def me(self):
        return UserFactory()

    @pytest.fixture
    def other(self):
        return UserFactory()

    # -- text ---------------------------------------------------------------------------

    def test_a_name_match_outranks_a_description_match(self, backend, me):
        SampleFactory(owner=me, name="Warm texture", description="A kick layered under a pad")
        SampleFactory(owner=me, name="Kick 1", description="Round and short")
        SampleFactory(owner=me, name="Snare", description="Nothing to see")

        page = backend.search(user=me, text="kick")

        assert names(page) == ["Kick 1", "Warm texture"]
        assert page.total == 2
        first, second = page.hits
        assert first.parts["text_rank"] > second.parts["text_rank"]

    def test_excluded_words_leave_the_rest_ranked_by_relevance(self, backend, me, other):
        SampleFactory(
            owner=other, name="Warm pad", description="A kick under it", visibility="public"
        )
        SampleFactory(owner=other, name="Kick 1", visibility="public")
        SampleFactory(owner=me, name="Kick snare", description="kick")
        SampleFactory(owner=me, name="Kick 2", visibility="public")

        page = backend.search(user=me, text="kick -snare")
        misspelt = backend.search(user=me, text="kck -snare", fuzzy="on")

        # Name matches first, whoever made them; the description match last.
        assert names(page)[-1] == "Warm pad" and set(names(page)) == {
            "Kick 1",
            "Kick 2",
            "Warm pad",
        }
        assert page.hits[0].parts["text_rank"] > page.hits[-1].parts["text_rank"]
        assert names(misspelt)[-1] == "Warm pad" and len(misspelt.hits) == 3

    def test_tags_count_like_the_name_and_collection_names_between_name_and_description(
        self, backend, me
    ):
        tagged = SampleFactory(owner=me, name="Untitled 1", tags=["vinyl"])
        in_collection = SampleFactory(owner=me, name="Untitled 2")
        collection = CollectionFactory(owner=me, name="Vinyl Finds")
        CollectionItem.objects.create(collection=collection, sample=in_collection)
        SampleFactory(owner=me, name="Untitled 3", description="sampled from vinyl")

        page = backend.search(user=me, text="vinyl")

        assert names(page) == ["Untitled 1", "Untitled 2", "Untitled 3"]
        assert page.hits[0].sample == tagged

    def test_documents_follow_renames_and_collection_changes(self, backend, me):
        sample = SampleFactory(owner=me, name="Kick 1")
        collection = CollectionFactory(owner=me, name="Crate")
        CollectionItem.objects.create(collection=collection, sample=sample)
        assert names(backend.search(user=me, text="crate")) == ["Kick 1"]

        collection.name = "Dusty"
        collection.save()
        sample.name = "Boom"
        sample.save()
        assert names(backend.search(user=me, text="crate", fuzzy="off")) == []
        assert names(backend.search(user=me, text="dusty boom")) == ["Boom"]

        CollectionItem.objects.filter(sample=sample).delete()
        assert names(backend.search(user=me, text="dusty", fuzzy="off")) == []

    def test_web_search_syntax_excludes_words_and_matches_phrases(self, backend, me):
        SampleFactory(owner=me, name="Dark pad", tags=["noise"])
        SampleFactory(owner=me, name="Dark pad two")
        SampleFactory(owner=me, name="Pad dark")

        assert set(names(backend.search(user=me, text="dark pad -noise"))) == {
            "Dark pad two",
            "Pad dark",
        }
        assert set(names(backend.search(user=me, text='"dark pad"'))) == {
            "Dark pad",
            "Dark pad two",
        }

    def test_file_style_names_split_into_words(self, backend, me):
        SampleFactory(owner=me, name="BD808_Kick.wav", tags=["Snr2"])

        assert names(backend.search(user=me, text="kick")) == ["BD808_Kick.wav"]
        assert names(backend.search(user=me, text="808")) == ["BD808_Kick.wav"]
        assert names(backend.search(user=me, text="snr")) == ["BD808_Kick.wav"]

    def test_highlights_mark_matches_and_escape_everything_else(self, backend, me):
        SampleFactory(
            owner=me,
            name="Kick & <Snare>",
            description='<p>A <b>kick</b> &amp; &lt;img src=x onerror=alert(1)&gt; "quoted"</p>',
        )

        (hit,) = backend.search(user=me, text="kick").hits

        assert hit.highlight["name"] == "<mark>Kick</mark> &amp; &lt;Snare&gt;"
        description = hit.highlight["description"]
        assert "<mark>kick</mark>" in description
        assert description.replace("<mark>", "").replace("</mark>", "").count("<") == 0
        assert "<img" not in description and "&amp;" in description and "&quot;" in description

    def test_without_text_newest_first_or_by_the_ordering_asked(self, backend, me):
        SampleFactory(owner=me, name="Old", bpm=90)
        SampleFactory(owner=me, name="New", bpm=120)

        assert names(backend.search(user=me)) == ["New", "Old"]
        assert names(backend.search(user=me, ordering="bpm")) == ["Old", "New"]
        assert names(backend.search(user=me, ordering="-bpm")) == ["New", "Old"]

    def test_pages(self, backend, me):
        for i in range(5):
            SampleFactory(owner=me, name=f"Kick {i}")

        first = backend.search(user=me, text="kick", limit=2)
        third = backend.search(user=me, text="kick", offset=4, limit=2)
        beyond = backend.search(user=me, text="kick", offset=10, limit=2)

        assert (len(first.hits), len(third.hits), len(beyond.hits)) == (2, 1, 0)
        assert first.total == third.total == beyond.total == 5

    # -- fuzzy --------------------------------------------------------------------------

    def test_fuzzy_words_find_near_spellings(self, backend, me):
        SampleFactory(owner=me, name="Deep kick")
        SampleFactory(owner=me, name="Snare", tags=["acoustic"])

        kick = backend.search(user=me, text="kik")
        assert names(kick) == ["Deep kick"]
        assert kick.fuzzy and "kick" in kick.expanded["kik"]
        assert names(backend.search(user=me, text="acustic")) == ["Snare"]
        assert names(backend.search(user=me, text="kik", fuzzy="off")) == []

    def test_exact_matches_do_not_turn_fuzzy(self, backend, me):
        SampleFactory(owner=me, name="Kit")
        SampleFactory(owner=me, name="Kick")

        page = backend.search(user=me, text="kit")

        assert names(page) == ["Kit"] and not page.fuzzy
        assert set(names(backend.search(user=me, text="kit", fuzzy="on"))) >= {"Kit"}

    def test_autocomplete_completes_the_last_word(self, backend, me):
        SampleFactory(owner=me, name="Kick 1", tags=["dark"])
        SampleFactory(owner=me, name="Kick 2")
        SampleFactory(owner=me, name="Kalimba")
        SampleFactory(owner=me, name="Snare", tags=["dark"])

        words = [s.word for s in backend.autocomplete(user=me, text="k")]
        assert words[:2] == ["kick", "kalimba"]  # more samples first
        dark = backend.autocomplete(user=me, text="dark ki")
        assert [(s.text, s.samples) for s in dark] == [("dark kick", 1)]
        fuzzy = backend.autocomplete(user=me, text="kik")
        assert fuzzy[0].word == "kick" and fuzzy[0].fuzzy
        assert backend.autocomplete(user=me, text="kick ") == []

    # -- filters ------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (SearchFilters(bpm_min=100), {"Loop 120", "Loop 140"}),
            (SearchFilters(bpm_max=130), {"Loop 90", "Loop 120"}),
            (SearchFilters(bpm_min=100, bpm_max=130), {"Loop 120"}),
            (SearchFilters(key="A"), {"Loop 90", "Loop 140"}),
            (SearchFilters(key="A", mode="minor"), {"Loop 90"}),
            (SearchFilters(mode="major"), {"Loop 120", "Loop 140"}),
            (SearchFilters(duration_min=3), {"Loop 90", "Loop 140"}),
            (SearchFilters(duration_max=1), {"Hit"}),
            (SearchFilters(loudness_min=-10), {"Loop 120", "Hit"}),
            (SearchFilters(loudness_max=-12), {"Loop 90", "Loop 140"}),
            (SearchFilters(categories=("drum_loop",)), {"Loop 90", "Loop 140"}),
            (SearchFilters(categories=("drum_loop", "kick")), {"Loop 90", "Loop 140", "Hit"}),
            (SearchFilters(is_loop=True), {"Loop 90", "Loop 120", "Loop 140"}),
            (SearchFilters(is_loop=False), {"Hit"}),
            (SearchFilters(tags=("dusty",)), {"Loop 90", "Loop 120"}),
            (SearchFilters(tags=("dusty", "swing")), {"Loop 90"}),
            (SearchFilters(visibility="public"), {"Loop 140", "Hit"}),
            (SearchFilters(visibility="private"), {"Loop 90", "Loop 120"}),
        ],
        ids=repr,
    )
    def test_each_filter(self, backend, me, filters, expected):
        SampleFactory(
            owner=me,
            name="Loop 90",
            bpm=90,
            key="A",
            mode="minor",
            duration=4,
            loudness_lufs=-14,
            category="drum_loop",
            is_loop=True,
            tags=["dusty", "swing"],
        )
        SampleFactory(
            owner=me,
            name="Loop 120",
            bpm=120,
            key="C",
            mode="major",
            duration=2,
            loudness_lufs=-8,
            category="music_loop",
            is_loop=True,
            tags=["dusty"],
        )
        SampleFactory(
            owner=me,
            name="Loop 140",
            bpm=140,
            key="A",
            mode="major",
            duration=5,
            loudness_lufs=-16,
            category="drum_loop",
            is_loop=True,
            visibility="public",
        )
        SampleFactory(
            owner=me,
            name="Hit",
            bpm=None,
            duration=0.5,
            loudness_lufs=-6,
            category="kick",
            is_loop=False,
            visibility="public",
        )

        assert set(names(backend.search(user=me, filters=filters))) == expected
        with_text = backend.search(user=me, text="loop", filters=filters)
        assert set(names(with_text)) == expected - {"Hit"}

    def test_collection_and_mine_filters(self, backend, me, other):
        mine = SampleFactory(owner=me, name="Mine")
        theirs = SampleFactory(owner=other, name="Theirs", visibility="public")
        crate = CollectionFactory(owner=me, name="Crate")
        CollectionItem.objects.create(collection=crate, sample=theirs)
        secret = CollectionFactory(owner=other, name="Secret")
        CollectionItem.objects.create(collection=secret, sample=theirs)

        assert names(backend.search(user=me, filters=SearchFilters(collection=crate.pk))) == [
            "Theirs"
        ]
        # Another user's private collection narrows to nothing rather than revealing its contents.
        assert names(backend.search(user=me, filters=SearchFilters(collection=secret.pk))) == []
        assert names(backend.search(user=me, filters=SearchFilters(mine=True))) == [mine.name]

    def test_compatible_keys_are_the_camelot_neighbours(self, backend, me):
        keys = [(k, m) for k in ("C", "D", "E", "F", "G", "A", "B") for m in ("major", "minor")]
        for n, (key, mode) in enumerate(keys):
            SampleFactory(
                owner=me,
                name=f"{key} {mode}",
                key=key,
                mode=mode,
                category=("kick", "snare", "pad")[n % 3],
                embedding=vector((0, 1.0), (n + 1, 0.1 * n)),  # further with each
            )
        mixes = SearchFilters(key="A", mode="minor", compatible_keys=True)

        compatible = backend.search(user=me, filters=mixes, limit=50)
        exact = backend.search(user=me, filters=SearchFilters(key="A", mode="minor"))
        nearest = backend.nearest(user=me, vector=vector((0, 1.0)), k=10, filters=mixes)
        in_two = mixes.replace(categories=("snare", "pad"))
        nearest_in_two = backend.nearest(user=me, vector=vector((0, 1.0)), k=10, filters=in_two)

        # 8A: itself, its relative major (8B), a fifth up (9A) and a fifth down (7A).
        assert set(names(compatible)) == {"A minor", "C major", "E minor", "D minor"}
        assert names(exact) == ["A minor"]
        assert names(nearest) == ["C major", "D minor", "E minor", "A minor"]
        assert names(nearest_in_two) == ["E minor", "A minor"]  # C major and D minor are kicks

    # -- vectors ------------------------------------------------------------------------

    def test_nearest_orders_by_cosine_distance(self, backend, me):
        SampleFactory(owner=me, name="Far", embedding=vector((1, 1.0)))
        SampleFactory(owner=me, name="Near", embedding=vector((0, 1.0), (1, 0.2)))
        SampleFactory(owner=me, name="Nearer", embedding=vector((0, 1.0), (1, 0.05)))
        SampleFactory(owner=me, name="Unanalysed")

        page = backend.nearest(user=me, vector=vector((0, 1.0)), k=5)

        assert names(page) == ["Nearer", "Near", "Far"]
        distances = [hit.parts["distance"] for hit in page.hits]
        assert distances == sorted(distances) and distances[0] < 0.01

    def test_filtered_nearest_still_returns_k(self, backend, me):
        rng = np.random.default_rng(3)
        # Many close neighbours that the filter rejects, a few far ones it keeps.
        for i in range(300):
            noise = rng.normal(0, 0.05, DIM)
            noise[0] += 1
            SampleFactory(
                owner=me,
                name=f"Snare {i}",
                category="snare",
                embedding=(noise / np.linalg.norm(noise)).tolist(),
            )
        for i in range(12):
            SampleFactory(
                owner=me,
                name=f"Kick {i}",
                category="kick",
                embedding=vector((0, 0.3), (i + 1, 1.0)),
            )

        page = backend.nearest(
            user=me, vector=vector((0, 1.0)), k=10, filters=SearchFilters(categories=("kick",))
        )

        assert len(page.hits) == 10
        assert {hit.sample.category for hit in page.hits} == {"kick"}

    def test_nearest_leaves_out_excluded_samples(self, backend, me):
        source = SampleFactory(owner=me, name="Source", embedding=vector((0, 1.0)))
        SampleFactory(owner=me, name="Other", embedding=vector((0, 1.0), (1, 0.1)))

        page = backend.nearest(user=me, vector=vector((0, 1.0)), k=5, exclude=[source.pk])

        assert names(page) == ["Other"]

    def test_hybrid_fuses_text_and_sound_and_shows_the_parts(self, backend, me):
        # "Kick A" matches the text best but sounds far; "Kick B" does both; "Thud" only sounds.
        SampleFactory(owner=me, name="Kick A", tags=["kick"])
        SampleFactory(owner=me, name="Kick B", embedding=vector((0, 1.0), (1, 0.1)))
        SampleFactory(owner=me, name="Thud", embedding=vector((0, 1.0), (1, 0.05)))

        page = backend.hybrid(user=me, text="kick", vector=vector((0, 1.0)), limit=10)

        assert names(page)[0] == "Kick B"
        assert set(names(page)) == {"Kick A", "Kick B", "Thud"}
        best = page.hits[0]
        assert best.parts["text_position"] == 2 and best.parts["vector_position"] == 2
        kick_a = next(hit for hit in page.hits if hit.sample.name == "Kick A")
        assert kick_a.parts["text_position"] == 1 and kick_a.parts["distance"] is None
        assert best.score == pytest.approx(best.parts["text_rrf"] + best.parts["vector_rrf"])
        thud = next(hit for hit in page.hits if hit.sample.name == "Thud")
        assert thud.parts["text_rank"] is None and thud.parts["vector_position"] == 1

    # -- facets -------------------------------------------------------------------------

    def test_facets_count_matches_and_each_ignores_its_own_filter(self, backend, me):
        SampleFactory(owner=me, name="Kick 1", category="kick", key=None, bpm=None)
        SampleFactory(owner=me, name="Loop 1", category="drum_loop", bpm=92, key="A", mode="minor")
        SampleFactory(owner=me, name="Loop 2", category="drum_loop", bpm=128, key="A", mode="minor")
        SampleFactory(
            owner=me, name="Loop 3", category="music_loop", bpm=175, key="C", mode="major"
        )
        SampleFactory(owner=me, name="Pad", category="pad", key="C", mode="major")

        facets = backend.facets(
            user=me, text="loop", filters=SearchFilters(categories=("drum_loop",))
        )

        # Categories ignore the category filter, so the other choices stay visible.
        assert {f.value: f.count for f in facets.category} == {"drum_loop": 2, "music_loop": 1}
        assert [(f.value, f.count) for f in facets.key] == [({"key": "A", "mode": "minor"}, 2)]
        assert [(f.label, f.count) for f in facets.bpm] == [("80–99", 1), ("120–139", 1)]
        assert facets.key[0].label == "A minor (8A)"

        # Keys ignore the key filter; tempo bands ignore the tempo filter; the rest apply.
        by_key = backend.facets(user=me, filters=SearchFilters(key="C", mode="major"))
        assert {f.value["key"]: f.count for f in by_key.key} == {"A": 2, "C": 2}
        assert {f.value: f.count for f in by_key.category} == {"music_loop": 1, "pad": 1}
        assert [(f.label, f.count) for f in by_key.bpm] == [("160–179", 1)]
        by_tempo = backend.facets(user=me, text="loop", filters=SearchFilters(bpm_min=120))
        assert [f.label for f in by_tempo.bpm] == ["80–99", "120–139", "160–179"]
        assert {f.value: f.count for f in by_tempo.category} == {"drum_loop": 1, "music_loop": 1}
        assert backend.facets(user=me, text="nothing like it").category == []

    def test_facets_count_the_near_spellings_the_page_used(self, backend, me):
        SampleFactory(owner=me, name="Deep kick", category="kick")
        SampleFactory(owner=me, name="Kit snare", category="snare")
        page = backend.search(user=me, text="kik")

        looked_up = backend.facets(user=me, text="kik", fuzzy="on")
        given = backend.facets(user=me, text="kik", fuzzy="on", expanded=page.expanded)
        assert given == looked_up and sum(f.count for f in given.category) == page.total
        only_kit = backend.facets(user=me, text="kik", fuzzy="on", expanded={"kik": ["kit"]})
        assert [f.value for f in only_kit.category] == ["snare"]
        # Only words as the word list spells them are counted; anything else is dropped.
        junk = backend.facets(user=me, text="kik", fuzzy="on", expanded={"kik": ["kick' | 'x"]})
        assert junk.category == []

    # -- privacy ------------------------------------------------------------------------

    def test_every_method_keeps_others_private_samples_out(self, backend, me, other):
        embedding = vector((0, 1.0))
        SampleFactory(
            owner=other,
            name="Secret kick",
            tags=["kick"],
            category="kick",
            bpm=120,
            key="A",
            mode="minor",
            embedding=embedding,
        )
        SampleFactory(
            owner=other,
            name="Shared kick",
            visibility="public",
            category="kick",
            bpm=120,
            key="A",
            mode="minor",
            embedding=embedding,
        )
        SampleFactory(
            owner=me,
            name="My kick",
            category="kick",
            bpm=120,
            key="A",
            mode="minor",
            embedding=embedding,
        )
        visible = {"Shared kick", "My kick"}

        assert set(names(backend.search(user=me, text="kick"))) == visible
        assert set(names(backend.search(user=me, text="kick secret"))) == set()
        secrt = backend.search(user=me, text="secrt", fuzzy="on")
        assert (names(secrt), secrt.expanded) == ([], {})
        assert "secret" not in str(backend.hybrid(user=me, text="secrt", vector=embedding).expanded)
        assert set(names(backend.search(user=me))) == visible
        assert set(names(backend.nearest(user=me, vector=embedding, k=10))) == visible
        assert set(names(backend.hybrid(user=me, text="kick", vector=embedding))) == visible
        assert backend.autocomplete(user=me, text="secr") == []
        assert backend.autocomplete(user=me, text="secrt") == []
        assert [s.samples for s in backend.autocomplete(user=me, text="kic")] == [2]
        facets = backend.facets(user=me, text="kick")
        assert [(f.value, f.count) for f in facets.category] == [("kick", 2)]
        assert sum(f.count for f in backend.facets(user=me).bpm) == 2

    def test_others_private_words_do_not_crowd_out_the_callers_own(self, backend, me, other):
        # Many private words of another user lie nearer "kik" and are shorter
        # completions of "k" than the caller's one word.
        near = ["kiki", "kikk", "kika", "kiko", "kikx", "kiky", "kikz", "kikki"]
        short = [f"k{letter}" for letter in "abcdefghijklmnopqrstuvwxyz"]
        SampleFactory(owner=other, name="Noise", tags=near + short)
        SampleFactory(owner=me, name="Kick")

        kik = backend.search(user=me, text="kik", fuzzy="on")
        assert names(kik) == ["Kick"] and kik.expanded == {"kik": ["kick"]}
        assert [s.word for s in backend.autocomplete(user=me, text="k")] == ["kick"]
        assert [s.word for s in backend.autocomplete(user=me, text="kik")] == ["kick"]

    def test_private_collection_names_do_not_make_public_samples_findable(self, backend, me, other):
        shared = SampleFactory(owner=other, name="Shared loop", visibility="public")
        hidden = CollectionFactory(owner=other, name="Unreleased album")
        CollectionItem.objects.create(collection=hidden, sample=shared)

        assert names(backend.search(user=me, text="unreleased", fuzzy="off")) == []
        assert names(backend.search(user=other, text="unreleased")) == ["Shared loop"]
        hidden.visibility = "public"
        hidden.save()
        assert names(backend.search(user=me, text="unreleased")) == ["Shared loop"]


class TestPostgresSearchBackend(SearchBackendContract):
    backend_path = "search.backends.postgres.PostgresSearchBackend"

    def test_filtered_nearest_uses_the_hnsw_index_and_still_returns_k(self, backend, me):
        rng = np.random.default_rng(5)
        for i in range(400):
            noise = rng.normal(0, 0.05, DIM)
            noise[0] += 1
            SampleFactory(
                owner=me,
                name=f"Quiet {i}",
                loudness_lufs=-20,
                embedding=(noise / np.linalg.norm(noise)).tolist(),
            )
        for i in range(10):
            SampleFactory(
                owner=me,
                name=f"Loud {i}",
                loudness_lufs=-6,
                embedding=vector((0, 0.2), (i + 1, 1.0)),
            )
        loud = SearchFilters(loudness_min=-10)
        # exact_max=0: never compare exactly, always walk the graph.
        backend = import_string(self.backend_path)(
            "test", ef_search=20, filtered_ef_search=20, exact_max=0
        )
        strict = import_string(self.backend_path)(
            "test", ef_search=20, filtered_ef_search=20, exact_max=0, iterative_scan="off"
        )

        with connection.cursor() as cursor:
            # On a table this small the planner would read it all, whole or through the
            # covering index of every embedding (rolled back with the test); make it use
            # the graph, whose first 20 candidates are all quiet.
            cursor.execute("DROP INDEX search_sample_embedding_vectors")
            cursor.execute("SET enable_seqscan = off")
            try:
                with CaptureQueriesContext(connection) as queries:
                    page = backend.nearest(user=me, vector=vector((0, 1.0)), k=10, filters=loud)
                starved = strict.nearest(user=me, vector=vector((0, 1.0)), k=10, filters=loud)
                knn_sql = next(q["sql"] for q in queries if "<=>" in q["sql"])
                # The HNSW settings travel in front of the query, in the same round trip.
                knn_sql = knn_sql.rpartition("; ")[2]
                cursor.execute(f"EXPLAIN {knn_sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET enable_seqscan")

        assert "Index Scan using search_sample_embedding on" in plan
        assert [hit.sample.loudness_lufs for hit in page.hits] == [-6] * 10
        # Without pgvector's iterative scan the filter empties the index's candidate list.
        assert len(starved.hits) < 10

    def test_loops_only_nearest_compares_every_loop_rather_than_walking_their_graph(
        self, backend, me, other
    ):
        """Loops sit in a few tight clusters; a graph walk from a far query misses some
        of their true nearest (recall under 0.8 at 100,000 samples), so they are compared
        exactly, through the covering index of their embeddings."""
        rng = np.random.default_rng(3)
        for i in range(60):
            noise = rng.normal(0, 0.02, DIM)
            noise[1 + i % 3] += 1
            SampleFactory(
                owner=me,
                name=f"Loop {i}",
                is_loop=True,
                embedding=(noise / np.linalg.norm(noise)).tolist(),
            )
        SampleFactory(owner=other, name="Hidden loop", is_loop=True, embedding=vector((0, 1.0)))
        SampleFactory(owner=me, name="One-shot", is_loop=False, embedding=vector((0, 1.0)))
        query = vector((0, 1.0), (2, 0.3))
        loops = SearchFilters(is_loop=True)

        with connection.cursor() as cursor:
            # On a table this small the planner would scan it all and sort; make it use the
            # loops' HNSW graph whenever the query lets it. Small as it is, it would also
            # read the loops from the covering index of every embedding (rolled back with
            # the test); at 100,000 samples it takes the loops' own, a fifth the size.
            cursor.execute("DROP INDEX search_sample_embedding_vectors")
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_sort = off")
            try:
                with CaptureQueriesContext(connection) as queries:
                    page = backend.nearest(user=me, vector=query, k=5, filters=loops)
                knn_sql = next(q["sql"] for q in queries if "<=>" in q["sql"])
                cursor.execute(f"EXPLAIN {knn_sql.rpartition('; ')[2]}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET enable_seqscan")
                cursor.execute("RESET enable_sort")

        assert "search_sample_embedding_loops " not in plan
        assert "search_sample_embedding_loop_vectors" in plan
        loop_vectors = {
            s.name: np.array(s.embedding) for s in Sample.objects.filter(owner=me, is_loop=True)
        }
        exact = sorted(loop_vectors, key=lambda name: -float(loop_vectors[name] @ query))[:5]
        assert names(page) == exact

    def test_filters_leaving_few_samples_are_answered_exactly(self, backend, me):
        for i in range(200):
            SampleFactory(
                owner=me, name=f"Near {i}", bpm=90, embedding=vector((0, 1.0), (1 + i % 50, 0.1))
            )
        for i in range(8):
            SampleFactory(
                owner=me, name=f"Far {i}", bpm=170, embedding=vector((0, 0.1 * i), (60, 1.0))
            )
        backend = import_string(self.backend_path)("test", ef_search=10, filtered_ef_search=10)

        page = backend.nearest(
            user=me, vector=vector((0, 1.0)), k=3, filters=SearchFilters(bpm_min=160)
        )

        assert names(page) == ["Far 7", "Far 6", "Far 5"]

    def test_category_filters_find_that_categorys_nearest(self, backend, me):
        """ "Like this snare, but kicks": the kicks nearest to a snare, not the first kicks met.

        At 100,000 samples each category's partial HNSW index answers this (see the
        benchmark's filtered kNN recall); here the planner may as well sort the few rows.
        """
        rng = np.random.default_rng(7)
        for i in range(300):
            noise = rng.normal(0, 0.05, DIM)
            noise[0] += 1
            SampleFactory(
                owner=me,
                name=f"Snare {i}",
                category="snare",
                embedding=(noise / np.linalg.norm(noise)).tolist(),
            )
        for i in range(30):
            SampleFactory(
                owner=me,
                name=f"Kick {i}",
                category="kick",
                embedding=vector((0, 0.1 * i), (1, 1.0)),
            )
        SampleFactory(owner=me, name="Clap", category="clap", embedding=vector((0, 1.0), (2, 0.2)))
        backend = import_string(self.backend_path)("test", ef_search=10)
        probe = vector((0, 1.0))

        one = backend.nearest(
            user=me, vector=probe, k=5, filters=SearchFilters(categories=("kick",))
        )
        two = backend.nearest(
            user=me, vector=probe, k=5, filters=SearchFilters(categories=("kick", "clap"))
        )

        assert names(one) == ["Kick 29", "Kick 28", "Kick 27", "Kick 26", "Kick 25"]
        assert names(two) == ["Clap", "Kick 29", "Kick 28", "Kick 27", "Kick 26"]


def test_the_base_backend_names_what_a_subclass_must_provide():
    backend = BaseSearchBackend()
    calls = {
        "search": lambda: backend.search(user=None),
        "nearest": lambda: backend.nearest(user=None, vector=[0.0]),
        "hybrid": lambda: backend.hybrid(user=None, text="", vector=[0.0]),
        "facets": lambda: backend.facets(user=None),
        "autocomplete": lambda: backend.autocomplete(user=None, text=""),
    }
    for name, call in calls.items():
        with pytest.raises(NotImplementedError, match=rf"must provide {name}\(\)"):
            call()


def test_the_backend_is_chosen_by_alias_from_settings():
    custom = {
        "default": {"BACKEND": "search.backends.postgres.PostgresSearchBackend"},
        "exact": {
            "BACKEND": "search.backends.postgres.PostgresSearchBackend",
            "OPTIONS": {"ef_search": 400},
        },
        "broken": {"BACKEND": "search.backends.nowhere.Backend"},
    }
    with override_settings(SEARCH_BACKENDS=custom):
        assert get_search_backend("exact").ef_search == 400
        assert get_search_backend() is get_search_backend("default")
        with pytest.raises(ImproperlyConfigured):
            get_search_backend("broken")
        with pytest.raises(ImproperlyConfigured):
            get_search_backend("missing")


def test_pruning_the_word_list_drops_words_no_sample_uses():
    from search.models import SearchTerm
    from search.services import search_terms_prune

    sample = SampleFactory(name="Zebra kick", tags=["striped"])
    SampleFactory(name="Kick 2")
    sample.name, sample.tags = "Plain", []
    sample.save()
    assert {"zebra", "striped", "plain", "kick"} <= set(
        SearchTerm.objects.values_list("word", flat=True)
    )

    removed = search_terms_prune()

    words = set(SearchTerm.objects.values_list("word", flat=True))
    assert removed >= 2 and "zebra" not in words and "striped" not in words
    assert {"plain", "kick"} <= words


class TestPostgresSearchBackendWithoutPostings(SearchBackendContract):
    """The same contract ranking every match's document, as other weights than the default do."""

    backend_path = "search.backends.postgres.PostgresSearchBackend"
    options = {"postings": False}


def _postings() -> dict:
    """{(sample_id, lexeme): rank} of every ranked posting, and whether each checks out.

    A posting checks out when its word's query matches its sample's public
    document and ranks it exactly as ``rank`` says.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.sample_id, p.lexeme, p.rank,"
            " d.document @@ search_lexeme_query(p.lexeme)"
            " AND p.rank::real = ts_rank(%s::float4[], d.document, search_lexeme_query(p.lexeme))"
            " FROM search_publicposting p"
            " LEFT JOIN search_sampledocument d"
            " ON d.sample_id = p.sample_id AND d.visibility = 'public'",
            [list(RANK_WEIGHTS)],
        )
        return {(sample_id, lexeme): (rank, ok) for sample_id, lexeme, rank, ok in cursor}


def _document_words(sample) -> set:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT unnest(tsvector_to_array(document)) FROM search_sampledocument"
            " WHERE sample_id = %s AND visibility = 'public'",
            [sample.pk],
        )
        return {(sample.pk, word) for (word,) in cursor}


def test_ranked_postings_follow_every_change_to_a_public_sample():
    odd = SampleFactory(
        name="Kick's \\edge",
        description="see http://example.com/a:b it's o'clock",
        visibility="public",
    )
    plain = SampleFactory(name="Dusty kick", tags=["vinyl"], visibility="public")
    secret = SampleFactory(name="Secret kick")
    postings = _postings()
    assert set(postings) == _document_words(odd) | _document_words(plain)
    assert all(ok for _rank, ok in postings.values())  # odd words too: quotes, URL, backslash
    assert not any(sample_id == secret.pk for sample_id, _ in postings)

    plain.name = "Dusty snare"
    plain.save()
    assert (plain.pk, "snare") in _postings() and (plain.pk, "kick") not in _postings()

    before = _postings()[(plain.pk, "snare")][0]
    shelf = CollectionFactory(owner=plain.owner, name="Snare crate", visibility="public")
    CollectionItem.objects.create(collection=shelf, sample=plain)
    assert _postings()[(plain.pk, "snare")][0] > before  # also in a collection's name now
    assert (plain.pk, "crate") in _postings()

    Sample.objects.filter(pk=plain.pk).update(visibility="private")
    assert not any(sample_id == plain.pk for sample_id, _ in _postings())
    secret.visibility = "public"
    secret.save()
    assert (secret.pk, "secret") in _postings()
    odd.delete()
    assert set(_postings()) == _document_words(secret)
    assert all(ok for _rank, ok in _postings().values())


def test_ranking_from_postings_gives_the_pages_ranking_documents_gives():
    """Postings rank one-word searches; ranking the documents must give the same pages."""
    from django.contrib.auth.models import AnonymousUser

    me, producers = UserFactory(), [UserFactory() for _ in range(3)]
    rng = np.random.default_rng(11)
    adjectives = ["Dusty", "Dark", "Warm", "Tight", "Vinyl"]
    kinds = ["kick", "kicks", "snare", "snr", "hat", "pad"]
    for i in range(60):
        name = f"{adjectives[i % 5]} {kinds[i % 6]} {i % 7}08"
        SampleFactory(
            owner=[me, *producers][i % 4],
            name=name,
            tags=[kinds[(i + 1) % 6]] if i % 3 else [],
            description=f"A {kinds[(i + 2) % 6]} under the pad" if i % 2 else "",
            visibility="public" if i % 5 else "private",
            embedding=(rng.normal(size=DIM) / 8 + vector((i % 4, 1.0))).tolist(),
        )
    with_postings = get_search_backend()
    without = import_string("search.backends.postgres.PostgresSearchBackend")(
        "test", postings=False
    )
    probe = Sample.objects.filter(visibility="public").first()

    def seen(page):
        return page.total, [(hit.sample.name, round(hit.score or 0, 6)) for hit in page.hits]

    for user in (me, producers[0], AnonymousUser()):
        for text in (
            *("kick", "Kick", "snare", "808", "pad", "the", "zebra", "snre", "kik"),
            *("kick -dusty", "kik -08", "snare -the -warm", "pad -pad"),
        ):
            for offset in (0, 5):
                asked = {"user": user, "text": text, "offset": offset, "limit": 5}
                assert seen(with_postings.search(**asked)) == seen(without.search(**asked)), asked
            hybrid = {"user": user, "text": text, "vector": probe.embedding, "exclude": [probe.pk]}
            assert seen(with_postings.hybrid(**hybrid)) == seen(without.hybrid(**hybrid)), hybrid
    assert with_postings.search(user=me, text="kick").total > 10  # the pages compared hold hits


def test_other_weights_rank_through_the_documents():
    """Postings hold ranks for the default weights; other weights are still obeyed."""
    SampleFactory(name="Kick", visibility="public")
    SampleFactory(name="Warm", description="kick under a pad", visibility="public")
    me = UserFactory()
    description_first = import_string("search.backends.postgres.PostgresSearchBackend")(
        "test", weights=[0.1, 1.0, 0.4, 0.2]
    )

    assert names(get_search_backend().search(user=me, text="kick")) == ["Kick", "Warm"]
    assert names(description_first.search(user=me, text="kick")) == ["Warm", "Kick"]


def _witness(word: str):
    from search.models import SearchTerm

    return SearchTerm.objects.get(word=word).witness


def test_a_public_sample_becomes_its_new_words_witness_and_a_private_one_does_not():
    secret = SampleFactory(name="Quokka hit")
    assert _witness("quokka") is None

    shared = SampleFactory(name="Quokka kick", visibility="public")
    assert _witness("quokka") == shared.pk  # a known word without a witness gets one

    secret.visibility = "public"
    secret.save()
    assert _witness("hit") == secret.pk  # made public: its words now have a witness too
    assert _witness("quokka") == shared.pk


def test_a_stale_witness_never_shows_a_word_the_caller_cannot_see():
    backend = get_search_backend()
    me, other = UserFactory(), UserFactory()
    witness = SampleFactory(owner=other, name="Quokka kick", visibility="public")
    assert [s.word for s in backend.autocomplete(user=me, text="quok")] == ["quokka"]

    witness.visibility = "private"
    witness.save()
    assert _witness("quokka") == witness.pk  # stale now: checked at every use
    assert backend.autocomplete(user=me, text="quok") == []
    assert backend.search(user=me, text="qokka", fuzzy="on").expanded == {}
    assert [s.word for s in backend.autocomplete(user=other, text="quok")] == ["quokka"]

    witness.visibility, witness.name = "public", "Plain kick"
    witness.save()  # public again, but the word is gone from it
    assert backend.autocomplete(user=me, text="quok") == []

    SampleFactory(owner=other, name="Quokka snare", visibility="public")
    assert [s.word for s in backend.autocomplete(user=me, text="quok")] == ["quokka"]
    assert backend.search(user=me, text="qokka", fuzzy="on").expanded == {"qokka": ["quokka"]}


def test_pruning_renews_stale_witnesses():
    from search.services import search_terms_prune

    first = SampleFactory(name="Quokka kick", visibility="public")
    second = SampleFactory(name="Quokka snare", visibility="public")
    hidden = SampleFactory(name="Wombat hit")
    assert _witness("quokka") == first.pk
    Sample.objects.filter(pk=first.pk).update(visibility="private")
    hidden.visibility = "public"
    hidden.save()
    Sample.objects.filter(pk=hidden.pk).update(visibility="private")

    search_terms_prune()

    assert _witness("quokka") == second.pk
    assert _witness("wombat") is None  # no public sample has it any more


def test_others_find_a_public_sample_as_it_is_now_through_the_postings():
    """One-word searches rank other people's samples from ``search_publicposting``."""
    from search.models import PublicPosting

    backend = get_search_backend()
    me, other = UserFactory(), UserFactory()
    sample = SampleFactory(owner=other, name="Quokka kick", visibility="public")
    assert names(backend.search(user=me, text="quokka")) == ["Quokka kick"]

    sample.name = "Wombat kick"
    sample.save()
    assert names(backend.search(user=me, text="quokka", fuzzy="off")) == []
    assert names(backend.search(user=me, text="wombat")) == ["Wombat kick"]

    shelf = CollectionFactory(owner=other, name="Marsupials", visibility="public")
    CollectionItem.objects.create(collection=shelf, sample=sample)
    assert names(backend.search(user=me, text="marsupials")) == ["Wombat kick"]

    Sample.objects.filter(pk=sample.pk).update(visibility="private")
    assert names(backend.search(user=me, text="wombat", fuzzy="off")) == []
    assert not PublicPosting.objects.filter(sample_id=sample.pk).exists()
    assert names(backend.search(user=other, text="wombat")) == ["Wombat kick"]

    Sample.objects.filter(pk=sample.pk).update(visibility="public")
    assert names(backend.search(user=me, text="wombat")) == ["Wombat kick"]
    sample.delete()
    assert names(backend.search(user=me, text="wombat", fuzzy="off")) == []
    assert not PublicPosting.objects.exists()


def test_hits_carry_their_owners_name_but_not_the_rest_of_the_account():
    backend = get_search_backend()
    me = UserFactory()
    SampleFactory(owner=UserFactory(display_name="Dusty Fingers"), name="Kick", visibility="public")

    (hit,) = backend.search(user=me, text="kick").hits

    with CaptureQueriesContext(connection) as queries:
        shown = (hit.sample.owner.display_name, hit.sample.owner.email, hit.sample.owner_id)
    assert shown[0] == "Dusty Fingers" and len(queries) == 0
    assert "password" in hit.sample.owner.get_deferred_fields()


def test_near_words_much_further_than_the_nearest_are_not_tried():
    backend = get_search_backend()
    me = UserFactory()
    for name in ("Snr 1", "Snare 2", "Snap 3"):
        SampleFactory(owner=me, name=name)

    page = backend.search(user=me, text="snre")

    # Trigram similarity to "snre": snr 0.5, snare 0.38, snap 0.25 (under 0.6 x 0.5).
    assert page.expanded == {"snre": ["snr", "snare"]}
    assert sorted(names(page)) == ["Snare 2", "Snr 1"]
