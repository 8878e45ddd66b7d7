"""Benchmarks: fill a database with realistic visits, time the tracing searches."""
