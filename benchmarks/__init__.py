"""Benchmarks for `make bench`: each module defines ``run() -> list[str]`` of report lines."""
