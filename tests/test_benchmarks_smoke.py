"""A small run of the benchmark scripts, so they keep working as the schema and searches change."""
from __future__ import annotations

from benchmarks import fill_visits, search_bench
from roros_checkin import db


def test_fill_builds_the_schema_and_realistic_visits(tmp_path):
    path = tmp_path / "bench.sqlite3"
    result = fill_visits.fill(path, visits=2000, venues=50, days=14, seed=3, now=1_795_194_000)
    conn = db.connect(str(path))
    try:
        assert db.schema_version(conn) == db.latest_version()
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == result.visits == 2000
        assert conn.execute("SELECT count(*) FROM venues").fetchone()[0] == 50
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"visits_venue_arrived", "visits_phone_arrived", "visits_arrived"} <= indexes
        low, high, parties, open_stays = conn.execute(
            "SELECT min(arrived_at), max(arrived_at), max(party_size), sum(left_at IS NULL) FROM visits").fetchone()
        assert 1_795_194_000 - 15 * 86400 < low and high < 1_795_194_000
        assert 1 < parties <= 20 and 0 < open_stays < 2000
    finally:
        conn.close()


def test_search_bench_times_both_searches(tmp_path, capsys):
    path = tmp_path / "bench.sqlite3"
    assert fill_visits.main([str(path), "--visits", "2000", "--venues", "20"]) == 0
    assert search_bench.main([str(path), "--cases", "20", "--warmup", "3"]) == 0
    out = capsys.readouterr().out
    assert "2,000 visits" in out and "case search" in out and "name search" in out and "venue search" in out
    assert "p99" in out and "CPU p50" in out
    timings = search_bench.bench(path, cases=10)
    assert timings["case search"].runs == 10 and timings["venue search"].runs == 10
    assert timings["case search"].mean_results > 0
    # The name search finds the same people as the phone search of the same cases (each phone has one name).
    assert timings["name search"].mean_results >= timings["case search"].mean_results > 0


def test_storage_counts_every_structure_of_the_visits_table(tmp_path, capsys):
    from benchmarks import storage

    result = storage.main([str(tmp_path / "storage.sqlite3"), "--visits", "3000"])
    assert result["visits"] == 3000
    structures = result["per_structure"]
    assert {"visits", "visits_venue_arrived", "visits_phone_arrived", "visits_arrived"} <= set(structures)
    assert abs(sum(structures.values()) - result["visits_structures_bytes_per_visit"]) < 1
    assert "bytes per visit" in capsys.readouterr().out
