"""Short runs of the load, cost and writer benchmarks, so the scripts cannot rot (figures are not checked)."""
from __future__ import annotations

import pytest

from benchmarks import checkin_cost, contention, cpu_split, load, scale, speedups, writers

pytestmark = pytest.mark.slow


def test_load_benchmark_checks_in_through_wrk_beside_the_baseline(capsys):
    summary = load.main(["--runs", "1", "--duration", "1", "--warmup", "0"])
    project, baseline = summary["project_median"], summary["baseline_median"]
    assert project["checkins_per_s"] > 0 and baseline["requests_per_s"] > 0
    assert project["failures"] == 0 and project["non_2xx_3xx"] == 0
    run = summary["runs"]["project"][0]
    # Every check-in is the phone's three steps: the form, the 303, the receipt.
    assert run["forms"] >= run["checkins"] > 0 and run["receipts"] > 0
    # The project's emptiest request, beside them: the ceiling of a check-in of three Flask requests.
    floor = summary["floor_median"]
    assert floor["requests_per_s"] > 0 and floor["non_2xx_3xx"] == 0
    assert summary["ceiling_checkins_to_baseline"] > 0
    # The bare durable POST and the project's POST alone, in the same series; every acknowledged row stored.
    durable, post = summary["durable_median"], summary["post_median"]
    assert durable["checkins_per_s"] > 0 and post["checkins_per_s"] > 0
    for name in ("project", "durable", "post"):
        assert summary["medians"][name]["stored_ok"] and summary["medians"][name]["lost"] == 0, name
    assert summary["ratio_post_to_durable"] > 0 and summary["ratio_checkins_to_durable"] > 0
    out = capsys.readouterr().out
    assert "check-in POST / bare durable POST" in out and "whole check-ins/s / bare durable POST" in out
    assert "the ceiling of a check-in of three Flask requests" in out


def test_load_benchmark_spreads_over_two_server_processes():
    summary = load.main(["--runs", "1", "--duration", "1", "--warmup", "0", "--servers", "2", "--no-baseline"])
    assert summary["project_median"]["checkins_per_s"] > 0
    assert summary["project_median"]["non_2xx_3xx"] == 0


def test_checkin_cost_measures_each_step_against_a_minimal_request():
    median = checkin_cost.main(["--checkins", "10", "--rounds", "1"])
    assert median["form_us"] > 0 and median["post_us"] > 0 and median["receipt_us"] > 0
    assert median["checkin_per_hello"] > 1
    assert median["floor_us"] > 0 and median["floor_per_hello"] > 0


def test_writers_benchmark_commits_without_errors():
    result = writers.main(["--threads", "2", "--seconds", "0.5"])
    assert result["commits_per_s"] > 0 and result["errors"] == 0


def test_contention_benchmark_checks_in_while_the_server_purges_and_exports_run():
    result = contention.main(["--expired", "3000", "--current", "500", "--connections", "4",
                              "--baseline-seconds", "1", "--export-rows", "200"])
    assert result["expired_left_after_purge"] == 0
    assert "deleted 3000 visits" in result["purge_log"]
    for phase in ("without_purge", "with_purge_and_export"):
        assert result[phase]["checkins"] > 0 and result[phase]["non_2xx_3xx"] == 0
        assert result[phase]["stored_ok"] and result[phase]["lost"] == 0, phase
    assert result["exports"]["exports"] > 0
    assert result["database_locked_in_log"] == 0 and result["tracebacks_in_log"] == 0


def test_scale_benchmark_times_searches_export_purge_and_size(tmp_path):
    result = scale.main([str(tmp_path / "scale.sqlite3"), "--visits", "3000", "--venues", "20", "--cases", "5",
                         "--warmup", "2"])
    assert result["visits"] == 3000 and result["mb_per_million"] > 0
    for kind in ("case search", "name search", "venue search"):
        assert result[kind]["runs"] == 5 and result[kind]["p99_ms"] >= result[kind]["median_ms"] > 0, kind
    assert result["export"]["rows"] > 0 and result["export"]["writer"] == "roros_checkin.export.write_csv"
    # One of the fourteen days is past the retention a day later.
    assert 0 < result["purge_one_day"]["deleted"] < 3000


def test_load_benchmark_measures_one_process_against_two():
    summary = load.main(["--runs", "1", "--duration", "2", "--warmup", "0", "--connections", "8", "--scaling"])
    for kind in ("baseline", "durable", "project"):
        assert summary["scaling"][kind] > 0, kind
        assert summary["medians"][f"{kind}#2"]["non_2xx_3xx"] == 0, kind
    for kind in ("durable", "durable#2", "project", "project#2"):
        assert summary["medians"][kind]["stored_ok"] and summary["medians"][kind]["lost"] == 0, kind


def test_speedups_benchmark_measures_each_speedup_on_and_off():
    result = speedups.main(["--checkins", "5", "--rounds", "1"])
    assert set(result["gain_percent"]) == {"pages"}
    assert all(value > 0 for value in result["checkin_us"].values())


def test_cpu_split_adds_up_a_check_in_s_cpu_in_the_real_server(capsys):
    result = cpu_split.main(["--duration", "1", "--warmup", "0"])
    per = result["per_checkin_us"]
    assert result["checkins"] > 0
    for part in ("request POST /v/", "request GET /v/", "request GET /r/", "step record_visit", "sql COMMIT"):
        assert per[part] > 0, part
    # One INSERT per check-in (a few requests are in flight when counting starts), at most one COMMIT each.
    calls = result["calls_per_checkin"]
    assert 0.9 < calls["sql INSERT INTO"] < 1.1 and 0 < calls["sql COMMIT"] <= calls["sql INSERT INTO"]
    assert result["process_us"] >= result["in_requests_us"] > 0
    assert "outside them" in capsys.readouterr().out
