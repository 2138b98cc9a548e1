"""Benchmark scripts: plain functions returning numbers, each runnable with ``python -m``."""
