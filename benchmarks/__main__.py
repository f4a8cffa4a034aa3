"""Run every benchmark module in this package and print its figures.

Each benchmark measures a baseline in the same run and reports ratios against
it, because these machines are shared and noisy.
"""

import importlib
import os
import pkgutil
import sys
import time

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samplemind.settings")
    django.setup()
    import benchmarks

    names = [
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    ]
    wanted = set(sys.argv[1:])
    ran = 0
    for name in sorted(names):
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        for line in module.run():
            print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
        ran += 1
    if not ran:
        print("no benchmarks matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
