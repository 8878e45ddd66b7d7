"""`flask check-deploy` on a good and on a bad deployment."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from roros_checkin import create_app, db, deploy_check, queries
from roros_checkin.db import write_transaction

NOW = 1_795_194_000
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def good_config(tmp_path: Path) -> dict:
    # As on the server: no SECRET_KEY set, so one is generated into instance/secret_key (0600).
    return {"INSTANCE_PATH": tmp_path / "instance", "PUBLIC_URL": "https://checkin.roros.kommune.no",
            "TRUSTED_PROXY": "127.0.0.1", "CLOCK": lambda: NOW,
            "BACKUP_DIR": str(tmp_path / "backups")}


def deployed(config: dict, purged_hours_ago: float | None = 1, backed_up_hours_ago: float | None = 1):
    app = create_app(config)
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            for task, hours in (("purge", purged_hours_ago), ("backup", backed_up_hours_ago)):
                if hours is not None:
                    queries.record_maintenance_run(conn, task, int(NOW - hours * 3600), "")
    return app


def test_good_deployment_passes(good_config):
    app = deployed(good_config)
    assert (Path(app.instance_path) / "secret_key").stat().st_mode & 0o777 == 0o600
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output


def test_bad_deployment_lists_each_problem_with_its_fix(good_config):
    # DEBUG as an operator would set it; under `flask`, app.debug itself follows FLASK_DEBUG instead.
    good_config["INSTANCE_PATH"].mkdir(mode=0o700)
    (good_config["INSTANCE_PATH"] / "config.py").write_text("DEBUG = True\n")
    config = {**good_config, "SECRET_KEY": "changeme", "PUBLIC_URL": "http://127.0.0.1:8080",
              "TRUSTED_PROXY": "*", "RATELIMIT_ENABLED": False, "TWO_FACTOR_ENABLED": False,
              "BACKUP_DIR": ""}
    app = deployed(config, purged_hours_ago=27, backed_up_hours_ago=None)
    instance = Path(app.instance_path)
    instance.chmod(0o755)
    Path(app.config["DATABASE"]).chmod(0o644)
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    output = result.output
    for expected in ("SECRET_KEY is missing or weak", "DEBUG is on", "PUBLIC_URL 'http://127.0.0.1:8080'",
                     "TRUSTED_PROXY '*'", "RATELIMIT_ENABLED is off", "TWO_FACTOR_ENABLED is off",
                     f"{instance} is open to group or others (mode 755)", f"chmod 700 {instance}",
                     "checkin.sqlite3 is open to group or others (mode 644)",
                     "the last purge ran 27 hours ago", "no backup has ever run", "BACKUP_DIR is not set"):
        assert expected in output, expected
    assert output.count("PROBLEM:") == output.count("    fix: ") == 11
    assert "11 problem(s) found" in output


def test_secret_key_file_readable_by_others_is_flagged(good_config):
    app = deployed(good_config)
    (Path(app.instance_path) / "secret_key").chmod(0o644)
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1 and "secret_key is readable by others" in result.output


def test_missing_proxy_and_old_backup_are_flagged(good_config):
    app = deployed({**good_config, "TRUSTED_PROXY": ""}, backed_up_hours_ago=26.5)
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "TRUSTED_PROXY is not set" in result.output
    assert "the last backup ran 26 hours ago" in result.output
    assert "purge" not in result.output.split("backup ran")[0]


@pytest.mark.parametrize("url", ["https://127.0.0.1", "https://localhost:8443", "https://10.0.0.5",
                                 "http://checkin.roros.kommune.no", "https://checkin.roros.kommune.no/app"])
def test_public_url_guests_cannot_reach_is_flagged(url):
    config = {"PUBLIC_URL": url, "TRUSTED_PROXY": "127.0.0.1", "RATELIMIT_ENABLED": True,
              "TWO_FACTOR_ENABLED": True, "BACKUP_DIR": "/var/backups/roros-checkin"}
    problems = deploy_check.check_settings(config, debug=False)
    assert len(problems) == 1 and problems[0].problem.startswith(f"PUBLIC_URL {url!r}")


def test_public_https_url_passes():
    config = {"PUBLIC_URL": "https://checkin.roros.kommune.no", "TRUSTED_PROXY": "127.0.0.1",
              "RATELIMIT_ENABLED": True, "TWO_FACTOR_ENABLED": True, "BACKUP_DIR": "/var/backups/roros-checkin"}
    assert deploy_check.check_settings(config, debug=False) == []


def test_unset_public_url_is_flagged_by_name(good_config):
    config = {**good_config, "PUBLIC_URL": ""}
    result = deployed(config).test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "PROBLEM: PUBLIC_URL is not set: QR posters cannot be printed" in result.output
    assert "1 problem(s) found" in result.output


def test_roros_debug_counts_where_the_app_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ROROS_DEBUG", "true")
    assert deploy_check.configured_debug({"CONFIG_FROM_ENVIRONMENT": True}, tmp_path) is True
    # An app built from a test config reads no environment, so the shell's ROROS_DEBUG is not its own.
    assert deploy_check.configured_debug(create_app({"INSTANCE_PATH": tmp_path}).config, tmp_path) is False


def nginx_site(tmp_path: Path, *ports: int) -> Path:
    """The site as scripts/install-server writes it (through scripts/server/nginx-site)."""
    site = tmp_path / "roros-checkin"
    output = subprocess.run([str(ROOT / "scripts" / "server" / "nginx-site"), "checkin.roros.kommune.no",
                             *map(str, ports)], check=True, capture_output=True, text=True).stdout
    site.write_text(output)
    return site


def systemd_with(tmp_path: Path, *ports: int, single: bool = False) -> Path:
    systemd = tmp_path / "systemd"
    wants = systemd / "roros-checkin.target.wants"
    wants.mkdir(parents=True)
    for port in ports:
        (wants / f"roros-checkin@{port}.service").symlink_to("/etc/systemd/system/roros-checkin@.service")
    if single:
        (systemd / "multi-user.target.wants").mkdir()
        (systemd / "multi-user.target.wants" / "roros-checkin.service").touch()
    return systemd


def test_processes_are_not_checked_where_nothing_is_installed(tmp_path):
    assert deploy_check.check_processes(tmp_path / "systemd", tmp_path / "no-site", cores=2) == []


def test_one_process_per_core_all_in_the_nginx_upstream_passes(tmp_path):
    problems = deploy_check.check_processes(systemd_with(tmp_path, 8080, 8081), nginx_site(tmp_path, 8080, 8081),
                                            cores=2)
    assert problems == []


def test_fewer_processes_than_cores_is_flagged_with_the_units_to_enable(tmp_path):
    problems = deploy_check.check_processes(systemd_with(tmp_path, 8080), nginx_site(tmp_path, 8080), cores=2)
    assert [problem.problem for problem in problems] == ["1 server process(es) for 2 cores: the others stay idle"]
    assert "systemctl enable --now roros-checkin@8081.service" in problems[0].fix


def test_a_process_missing_from_the_nginx_upstream_is_flagged(tmp_path):
    problems = deploy_check.check_processes(systemd_with(tmp_path, 8080, 8081), nginx_site(tmp_path, 8080),
                                            cores=2)
    assert [problem.problem for problem in problems] == [
        "nginx sends guests to port(s) 8080, but the server processes listen on 8080, 8081"]


def test_the_older_single_process_setup_is_flagged(tmp_path):
    site = tmp_path / "old-site"
    site.write_text("server {\n    location / {\n        proxy_pass http://127.0.0.1:8080;\n    }\n}\n")
    problems = deploy_check.check_processes(systemd_with(tmp_path, 8080, 8081, single=True), site, cores=2)
    texts = " | ".join(problem.problem for problem in problems)
    assert "roros-checkin.service is still enabled" in texts
    assert "nginx sends guests to port(s) 8080, but the server processes listen on 8080, 8081" in texts
