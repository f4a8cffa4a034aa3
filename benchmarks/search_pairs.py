"""What the ranked postings buy: text searches timed with and without them, in turn, same run.

Not a ``bench_`` module (``make bench`` does not run it): it needs the
database a ``BENCH_SEARCH_KEEP_DB=1`` run of ``bench_search`` kept, named in
``PAIRED_DB``, and replays that run's full-text, fuzzy and hybrid queries
(same seed) through ``search.selectors`` with the default backend and with
one built with ``postings=False``, alternating which goes first::

    flock /tmp/samplemind-bench.lock env PAIRED_DB=bench_search_NNN \\
        python -m samplemind.launch -- python -m benchmarks.search_pairs
"""

from __future__ import annotations

import os
import statistics
import time

import django

QUERIES = int(os.environ.get("PAIRED_QUERIES", "400"))
CONFIGS = {"postings": {}, "no postings": {"postings": False}}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samplemind.settings")
    django.setup()
    import numpy as np
    from django.db import connection
    from django.test import override_settings

    from accounts.models import User
    from benchmarks import bench_search as b
    from library.models import Sample
    from search import backends, selectors
    from search.backends.postgres import PostgresSearchBackend

    connection.settings_dict["NAME"] = os.environ["PAIRED_DB"]
    rng = np.random.default_rng(b.SEED)
    rows = b._catalogue(rng)["rows"]  # the same draws as bench_search, in the same order
    ids = list(Sample.objects.order_by("created_at").values_list("id", flat=True))
    users = list(User.objects.filter(email__endswith="@bench.example").order_by("id"))
    callers = rng.integers(0, b.PRODUCERS, 1000)
    probes = rng.integers(0, b.SAMPLES, 1000)
    probe_samples = Sample.objects.in_bulk([ids[p] for p in probes])
    words = sorted({w.lower() for r in rows[:2000] for w in r["name"].split() if w.isalpha()})
    texts = []
    for i in range(1000):
        x, y = words[rng.integers(len(words))], words[rng.integers(len(words))]
        texts.append([x, f"{x} {y}", f"{x} -{y}", f'"{x} {y}"', f"{x} {b.GENRES[i % 19]}"][i % 5])
    typos = list(b.TYPOS)

    def user(i):
        return users[callers[i]]

    kinds = {
        "full-text": lambda i: selectors.search_samples(user=user(i), text=texts[i]),
        "fuzzy (typo)": lambda i: selectors.search_samples(user=user(i), text=typos[i % 12]),
        "hybrid": lambda i: selectors.search_samples(
            user=user(i),
            text=texts[i].split()[0].strip('"'),
            similar_to=probe_samples[ids[probes[i]]],
        ),
    }
    built = {name: PostgresSearchBackend("default", **options) for name, options in CONFIGS.items()}
    names = list(built)
    print(f"{QUERIES} queries per type, each with every configuration in turn")
    with override_settings(SEARCH_CACHE_SECONDS=0):
        for kind, run in kinds.items():
            times: dict[str, list[float]] = {name: [] for name in names}
            for i in range(QUERIES + 10):
                for name in names[i % 2 :] + names[: i % 2]:
                    backends._backends["default"] = built[name]
                    started = time.perf_counter()
                    run(i % 1000)
                    if i >= 10:  # after a warm-up
                        times[name].append((time.perf_counter() - started) * 1000)
            for name in names:
                ordered = sorted(times[name])
                p50 = statistics.median(ordered)
                p95 = ordered[int(len(ordered) * 0.95)]
                print(f"{kind:<14}{name:<13} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms", flush=True)
    backends._backends.clear()


if __name__ == "__main__":
    main()
