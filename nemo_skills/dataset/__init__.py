"""Benchmarks: one package per benchmark (`<name>/__init__.py` declares `BENCHMARK`, `<name>/prepare.py` fetches it).

The public API lives in `spec` (the typed declarations), `catalog` (finding benchmarks by name) and `prepare`
(fetching and writing `<data_dir>/<name>/<split>.jsonl`). Importing this package imports nothing else.
"""
