"""Helpers shared by the load and fault scripts (not a benchmark itself, so `make bench` does not run it)."""
