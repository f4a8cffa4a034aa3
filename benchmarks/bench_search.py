"""Search at 100,000 samples: p50/p95 latency per query type through the service, kNN recall@10.

A throw-away database is created and migrated beside the development one
(``bench_search_<pid>``; dropped at the end, whatever happens), and filled by
COPY with 100,000 synthetic samples from 200 producers: names and tags from a
sample-pack vocabulary ("Dusty Kick 07", tags kick/trap/vinyl), a third with
descriptions, tempo and key where they belong, 60% public, and 64-d unit
embeddings drawn around 128 cluster centres (8 timbres per category). The
search triggers build the documents and ranked postings during the load; the
search indexes (GIN, the postings' B-tree, HNSW) are dropped before it and
built after it, as one would for a bulk import.

Each query type then runs, uncached, through ``search.selectors`` (what the API calls:
the ranking query plus loading the page's samples with their owners and
highlights) as a random producer, and its p50/p95 latency is printed.
Beside them, as the baseline measured in the same run: a bare SQL kNN query
on the same index (``ORDER BY embedding <=> v LIMIT 10``, no privacy rule,
no page load). Recall@10 compares the service's kNN answers with exact
answers computed with numpy over the same visible, filtered set.

Goals: p95 <= 20 ms for every query type, recall@10 >= 0.95.
"""

from __future__ import annotations

import io
import json
import logging
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

SAMPLES = int(os.environ.get("BENCH_SEARCH_SAMPLES", "100000"))
PRODUCERS = 200
DIM = 64
QUERIES = 200  # per query type, after a warm-up
CHUNK = 10_000
SEED = 11
GOAL_P95_MS = 20.0
GOAL_RECALL = 0.95

CATEGORIES = {
    # category: (nouns, tonal, loop)
    "kick": (["kick", "bd", "808", "909", "boom", "thump"], False, False),
    "snare": (["snare", "snr", "rim", "crack"], False, False),
    "clap": (["clap", "snap", "handclap"], False, False),
    "hihat": (["hihat", "hat", "chh", "ohh", "shaker"], False, False),
    "cymbal": (["cymbal", "crash", "ride", "splash"], False, False),
    "tom": (["tom", "floor", "rack"], False, False),
    "percussion": (["conga", "bongo", "cowbell", "clave", "tabla", "perc"], False, False),
    "bass": (["bass", "sub", "reese", "wobble"], True, False),
    "synth": (["lead", "pluck", "stab", "arp", "saw"], True, False),
    "keys": (["piano", "rhodes", "organ", "epiano", "keys"], True, False),
    "pad": (["pad", "drone", "atmosphere", "strings", "choir"], True, False),
    "vocal": (["vocal", "vox", "chop", "adlib", "shout"], True, False),
    "fx": (["riser", "impact", "sweep", "noise", "downlifter", "whoosh"], False, False),
    "drum_loop": (["beat", "groove", "drums", "break", "toploop"], False, True),
    "music_loop": (["loop", "chords", "melody", "progression", "riff"], True, True),
    "other": (["foley", "texture", "field", "recording", "misc"], False, False),
}
ADJECTIVES = (
    "dark warm bright dusty vinyl analog crunchy lofi deep tight wide airy gritty clean "
    "saturated metallic organic punchy soft hard heavy smooth dirty crisp fat thin hollow "
    "glassy lush moody dreamy haunting icy fuzzy tape distorted filtered reversed"
).split()
GENRES = (
    "trap house techno dnb hiphop lofi ambient garage dubstep jungle afro disco funk soul "
    "cinematic edm pop rnb drill grime"
).split()
GEAR = "a tape machine|an old sampler|a modular rig|a valve preamp|a ribbon mic|a drum machine"
GEAR = GEAR.split("|")
PACKS = "Night Drive|Dust Bowl|Neon Rain|Low End Theory|Concrete|Velvet|Static Bloom|Ghost Notes"
PACKS = PACKS.split("|")
PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TYPOS = {
    "kik": "kick",
    "snre": "snare",
    "ambiant": "ambient",
    "vinil": "vinyl",
    "dsty": "dusty",
    "atmospere": "atmosphere",
    "cymbol": "cymbal",
    "pianno": "piano",
    "distorded": "distorted",
    "hihatt": "hihat",
    "wooble": "wobble",
    "shakr": "shaker",
}


# -- data -----------------------------------------------------------------------------


def _catalogue(rng: np.random.Generator) -> dict[str, np.ndarray | list]:
    """Column arrays for SAMPLES synthetic samples."""
    names_cat = list(CATEGORIES)
    category_idx = rng.integers(0, len(names_cat), SAMPLES)
    subcluster = rng.integers(0, 8, SAMPLES)
    base = rng.normal(0, 1, (len(names_cat), DIM))
    offsets = rng.normal(0, 0.7, (len(names_cat), 8, DIM))
    centres = base[:, None, :] + offsets
    centres /= np.linalg.norm(centres, axis=2, keepdims=True)
    noise = rng.normal(0, 0.09, (SAMPLES, DIM))
    vectors = centres[category_idx, subcluster] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float32)

    rows = []
    for i in range(SAMPLES):
        category = names_cat[category_idx[i]]
        nouns, tonal, loop = CATEGORIES[category]
        noun = nouns[rng.integers(len(nouns))]
        adjective = ADJECTIVES[rng.integers(len(ADJECTIVES))]
        genre = GENRES[rng.integers(len(GENRES))]
        number = int(rng.integers(1, 100))
        if rng.random() < 0.25:
            pack = PACKS[rng.integers(len(PACKS))]
            name = f"{''.join(w[0] for w in pack.split())}_{noun.title()}_{number:02d}"
        else:
            name = f"{adjective.title()} {noun.title()} {number:02d}"
        tags = [category.replace("_", " "), genre, ADJECTIVES[rng.integers(len(ADJECTIVES))]]
        if rng.random() < 0.3:
            tags.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
        description = ""
        if rng.random() < 0.33:
            gear = GEAR[rng.integers(len(GEAR))]
            description = (
                f"A {adjective} {noun} recorded through {gear}. "
                f"Works well in {genre} and {GENRES[rng.integers(len(GENRES))]} productions."
            )
        bpm = float(rng.integers(70, 181)) if loop else None
        key = mode = None
        if tonal and rng.random() < 0.85:
            key = PITCHES[rng.integers(12)]
            mode = "minor" if rng.random() < 0.55 else "major"
        duration = float(rng.uniform(2, 16)) if loop else float(rng.uniform(0.05, 3))
        rows.append(
            {
                "category": category,
                "name": name,
                "tags": list(dict.fromkeys(tags)),
                "description": description,
                "bpm": bpm,
                "key": key,
                "mode": mode,
                "is_loop": loop,
                "duration": duration,
                "loudness_lufs": float(rng.uniform(-30, -4)),
                "public": bool(rng.random() < 0.6),
                "owner": int(rng.integers(PRODUCERS)),
            }
        )
    return {"rows": rows, "vectors": vectors}


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _pg_array(items: list[str]) -> str:
    return (
        "{" + ",".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items) + "}"
    )


_SET_PER_ROW = frozenset(
    "id owner_id original_filename name description tags visibility sha256 size_bytes duration"
    " bpm key mode loudness_lufs is_loop category embedding created_at updated_at".split()
)


def _load(data: dict, owner_ids: list[int]) -> tuple[list[uuid.UUID], float]:
    """COPY the samples in; return their ids and the seconds taken (triggers included)."""
    from django.db import connection

    from library.models import Sample

    columns = [f.column for f in Sample._meta.concrete_fields]
    fixed = {
        "batch_id": None,
        "file": "samples/bench.wav",
        "format": "wav",
        "sample_rate": 44100,
        "channels": 2,
        "bit_depth": 24,
        "status": "ready",
        "error": "",
        "analysis_attempts": 1,
        "analysis_started_at": None,
        "analyzer_version": "bench",
        "bpm_confidence": None,
        "key_confidence": None,
        "peak_db": -1.0,
        "descriptors": "{}",
        "preview": "",
        "waveform": "[]",
    }
    # Columns the synthetic rows do not set (added to the model since) take their defaults.
    for field in Sample._meta.concrete_fields:
        if field.column not in fixed and field.column not in _SET_PER_ROW:
            default = field.get_default()
            fixed[field.column] = (
                json.dumps(default) if isinstance(default, dict | list) else default
            )
    ids = [uuid.uuid4() for _ in data["rows"]]
    vectors = data["vectors"]
    start = datetime.now(tz=UTC) - timedelta(days=400)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for chunk_start in range(0, len(ids), CHUNK):
            buffer = io.StringIO()
            chunk = range(chunk_start, min(chunk_start + CHUNK, len(ids)))
            vector_text = [
                "[" + ",".join(row) + "]"
                for row in np.char.mod("%.5f", vectors[chunk.start : chunk.stop])
            ]
            for offset, i in enumerate(chunk):
                row = data["rows"][i]
                created = start + timedelta(seconds=i * 300)
                values = {
                    **fixed,
                    "id": ids[i],
                    "owner_id": owner_ids[row["owner"]],
                    "original_filename": row["name"].replace(" ", "_") + ".wav",
                    "name": row["name"],
                    "description": row["description"],
                    "tags": _pg_array(row["tags"]),
                    "visibility": "public" if row["public"] else "private",
                    "sha256": ids[i].hex + ids[i].hex,
                    "size_bytes": int(row["duration"] * 44100 * 6),
                    "duration": row["duration"],
                    "bpm": row["bpm"],
                    "key": row["key"],
                    "mode": row["mode"],
                    "loudness_lufs": row["loudness_lufs"],
                    "is_loop": row["is_loop"],
                    "category": row["category"],
                    "embedding": vector_text[offset],
                    "created_at": created.isoformat(),
                    "updated_at": created.isoformat(),
                }
                buffer.write("\t".join(_copy_value(values[c]) for c in columns) + "\n")
            column_list = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f"COPY library_sample ({column_list}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
    return ids, time.perf_counter() - started


def _setup(rng: np.random.Generator) -> dict:
    logging.getLogger("samplemind.db.slow").setLevel(logging.ERROR)  # index builds are slow
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import Role, User

    timings = {}
    with connection.cursor() as cursor:
        # Search's indexes (the search tables' but their primary keys, and the HNSW ones
        # on library_sample): built once after the load.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE (tablename IN"
            " ('search_sampledocument', 'search_publicposting')"
            " AND indexname NOT LIKE '%%pkey') OR indexname LIKE 'search_sample_embedding%%'"
        )
        index_sql = dict(cursor.fetchall())
        for name in index_sql:
            cursor.execute(f'DROP INDEX "{name}"')
    password = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"producer{i}@bench.example", role=Role.PRO, password=password)
        for i in range(PRODUCERS)
    )
    owner_ids = [user.pk for user in users]
    started = time.perf_counter()
    data = _catalogue(rng)
    timings["generate"] = time.perf_counter() - started
    ids, timings["load"] = _load(data, owner_ids)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        for sql in index_sql.values():
            cursor.execute(sql)
        cursor.execute("VACUUM ANALYZE library_sample")
        cursor.execute("VACUUM ANALYZE search_sampledocument")
        cursor.execute("VACUUM ANALYZE search_publicposting")
        cursor.execute("VACUUM ANALYZE search_searchterm")
    timings["index"] = time.perf_counter() - started
    return {"data": data, "ids": ids, "users": users, "timings": timings}


# -- measuring ----------------------------------------------------------------------


def _latencies(run: Callable[[int], object], count: int = QUERIES) -> list[float]:
    for i in range(10):  # warm-up: caches, plans
        run(i)
    out = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _measure(state: dict, rng: np.random.Generator) -> list[str]:
    from django.db import connection

    from library.models import Sample
    from search import selectors
    from search.backends import get_search_backend
    from search.backends.base import SearchFilters
    from search.keys import compatible_keys

    data, ids, users = state["data"], state["ids"], state["users"]
    rows, vectors = data["rows"], data["vectors"]
    owners = np.array([r["owner"] for r in rows])
    public = np.array([r["public"] for r in rows])
    categories = np.array([r["category"] for r in rows])
    loops = np.array([r["is_loop"] for r in rows])
    bpms = np.array([r["bpm"] if r["bpm"] is not None else np.nan for r in rows])
    backend = get_search_backend()

    callers = rng.integers(0, PRODUCERS, 1000)
    probes = rng.integers(0, SAMPLES, 1000)
    probe_samples = Sample.objects.in_bulk([ids[p] for p in probes])
    words = sorted({w.lower() for r in rows[:2000] for w in r["name"].split() if w.isalpha()})
    text_queries = []
    for i in range(1000):
        a, b = words[rng.integers(len(words))], words[rng.integers(len(words))]
        text_queries.append(
            [a, f"{a} {b}", f"{a} -{b}", f'"{a} {b}"', f"{a} {GENRES[i % 19]}"][i % 5]
        )
    typos = list(TYPOS)
    category_names = list(CATEGORIES)
    filter_sets = [
        SearchFilters(categories=(category_names[i % 16],), bpm_min=90, bpm_max=130)
        if i % 3 == 0
        else SearchFilters(key=PITCHES[i % 12], mode="minor", compatible_keys=True)
        if i % 3 == 1
        else SearchFilters(categories=(category_names[i % 16],), is_loop=False, duration_max=1.0)
        for i in range(1000)
    ]
    # Four kinds, in turn: "like this, but <category>" (mostly another category than
    # the probe's), loops only, loops at 100-140 BPM, keys that mix with X minor.
    knn_kinds = ("one category", "loops", "loops at 100-140 BPM", "compatible keys")

    def knn_filter(i: int) -> SearchFilters:
        return (
            SearchFilters(categories=(category_names[i % 16],)),
            SearchFilters(is_loop=True),
            SearchFilters(is_loop=True, bpm_min=100, bpm_max=140),
            SearchFilters(key=PITCHES[i % 12], mode="minor", compatible_keys=True),
        )[i % 4]

    knn_filters = [knn_filter(i) for i in range(1000)]

    def user(i):
        return users[callers[i]]

    def probe(i):
        return probe_samples[ids[probes[i]]]

    def visible(i) -> np.ndarray:
        return public | (owners == callers[i])

    results: dict[str, list[float]] = {}
    results["full-text"] = _latencies(
        lambda i: selectors.search_samples(user=user(i), text=text_queries[i])
    )
    results["fuzzy (typo)"] = _latencies(
        lambda i: selectors.search_samples(user=user(i), text=typos[i % len(typos)])
    )
    results["filtered"] = _latencies(
        lambda i: selectors.search_samples(user=user(i), filters=filter_sets[i])
    )
    knn_answers: dict[int, list] = {}
    results["kNN k=10"] = _latencies(
        lambda i: knn_answers.__setitem__(
            i, selectors.similar_samples(user=user(i), sample=probe(i), k=10)
        )
    )
    filtered_answers: dict[int, list] = {}
    results["filtered kNN k=10"] = _latencies(
        lambda i: filtered_answers.__setitem__(
            i,
            selectors.similar_samples(user=user(i), sample=probe(i), k=10, filters=knn_filters[i]),
        )
    )
    results["hybrid"] = _latencies(
        lambda i: selectors.search_samples(
            user=user(i), text=text_queries[i].split()[0].strip('"'), similar_to=probe(i)
        )
    )
    extra: dict[str, list[float]] = {}
    extra["autocomplete"] = _latencies(
        lambda i: selectors.search_suggestions(user=user(i), text=text_queries[i][:3])
    )
    extra["facets (text)"] = _latencies(
        lambda i: selectors.search_facets(user=user(i), text=text_queries[i].split()[0]), 50
    )

    ef = backend.ef_search

    def raw_knn(i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM library_sample ORDER BY embedding <=> %s::vector LIMIT 10",
                [json.dumps(vectors[probes[i]].tolist())],
            )
            cursor.fetchall()

    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.ef_search = %s", [ef])
    baseline = _latencies(raw_knn)

    # Recall@10 against exact answers over the same visible (and filtered) samples.
    id_index = {pk: n for n, pk in enumerate(ids)}

    def recall(answers: dict[int, object], mask_of: Callable[[int], np.ndarray]) -> float:
        scores = []
        for i, page in answers.items():
            mask = mask_of(i).copy()
            mask[probes[i]] = False  # "more like this" leaves the sample itself out
            similarities = vectors @ vectors[probes[i]]
            similarities[~mask] = -np.inf
            exact = set(np.argpartition(-similarities, 10)[:10])
            got = {id_index[hit.sample.pk] for hit in page.hits}
            scores.append(len(exact & got) / 10)
        return float(np.mean(scores))

    knn_recall = recall(knn_answers, visible)

    def filtered(i: int) -> np.ndarray:
        f = knn_filters[i]
        if f.categories:
            return visible(i) & (categories == f.categories[0])
        if f.key:
            wanted = set(compatible_keys(f.key, f.mode))
            return visible(i) & np.array([(r["key"], r["mode"]) in wanted for r in rows])
        with np.errstate(invalid="ignore"):
            mask = visible(i) & loops
            if f.bpm_min is not None:
                mask &= (bpms >= f.bpm_min) & (bpms <= f.bpm_max)
            return mask

    kind_recall = {
        kind: recall({i: p for i, p in filtered_answers.items() if i % 4 == n}, filtered)
        for n, kind in enumerate(knn_kinds)
    }

    base50, base95 = _percentiles(baseline)
    t = state["timings"]
    lines = [
        f"{SAMPLES:,} samples from {PRODUCERS} producers: generated in {t['generate']:.1f} s, "
        f"COPY + document triggers {t['load']:.1f} s ({SAMPLES / t['load']:,.0f} rows/s), "
        f"search indexes (GIN, B-trees, HNSW) {t['index']:.1f} s",
        f"{QUERIES} queries per type, random producer as caller, ef_search={ef} "
        f"({backend.filtered_ef_search} when filtered), "
        f"page size 20 (k=10 for kNN)",
        f"{'query type':<22}{'p50 ms':>8}{'p95 ms':>8}{'p50 vs raw kNN':>16}  goal p95<=20",
    ]
    for name, values in results.items():
        p50, p95 = _percentiles(values)
        verdict = "ok" if p95 <= GOAL_P95_MS else "MISSED"
        lines.append(f"{name:<22}{p50:>8.2f}{p95:>8.2f}{p50 / base50:>15.1f}x  {verdict}")
    for name, values in extra.items():
        p50, p95 = _percentiles(values)
        lines.append(f"{name:<22}{p50:>8.2f}{p95:>8.2f}{p50 / base50:>15.1f}x  (not a goal)")
    lines.append(f"{'raw SQL kNN (baseline)':<22}{base50:>8.2f}{base95:>8.2f}{1:>15.1f}x")
    for name, value in (
        ("kNN", knn_recall),
        *((f"filtered kNN, {kind}", value) for kind, value in kind_recall.items()),
    ):
        verdict = "ok" if value >= GOAL_RECALL else "MISSED"
        lines.append(f"recall@10 {name}: {value:.3f} (goal >= {GOAL_RECALL}) {verdict}")
    return lines


def run() -> list[str]:
    from django.db import connection
    from django.test import override_settings

    rng = np.random.default_rng(SEED)
    settings_dict = connection.settings_dict
    old_name = settings_dict["NAME"]
    settings_dict.setdefault("TEST", {})["NAME"] = f"bench_search_{os.getpid()}"
    started = time.perf_counter()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    migrated = time.perf_counter() - started
    keep = os.environ.get("BENCH_SEARCH_KEEP_DB") == "1"
    try:
        state = _setup(rng)
        # Uncached: every query reaches the backend, as a new question would.
        with override_settings(SEARCH_CACHE_SECONDS=0):
            lines = _measure(state, rng)
    finally:
        if keep:  # for looking at query plans afterwards; drop it by hand
            print(f"   kept database {settings_dict['NAME']}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    return [f"throw-away database created and migrated in {migrated:.1f} s", *lines]
