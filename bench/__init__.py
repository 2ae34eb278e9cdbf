"""Benchmarks of the running system: `make bench` runs `python -m bench`.

Results go to bench/results/<benchmark>.json.
"""
