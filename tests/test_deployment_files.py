"""The server files in scripts/ agree with each other and with the app's settings."""
from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "scripts" / "server"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(SERVER / name, encoding="utf-8")
    return parser


def test_service_runs_app_py_on_loopback_under_its_own_user_one_port_per_instance():
    template = unit("roros-checkin@.service")
    service = template["Service"]
    assert service["User"] == "roros-checkin"
    # The instance name is the port: roros-checkin@8081.service listens on 8081.
    assert re.search(r"python app\.py --host 127\.0\.0\.1 --port %i\b", service["ExecStart"])
    assert "--no-background" not in service["ExecStart"]  # the background lock picks the one that purges
    assert service["UMask"] == "0077"
    assert service["ReadWritePaths"].split() == ["/opt/roros-checkin/instance", "/var/backups/roros-checkin"]
    assert template["Unit"]["PartOf"] == "roros-checkin.target"
    assert template["Install"]["WantedBy"] == "roros-checkin.target"
    assert unit("roros-checkin.target")["Install"]["WantedBy"] == "multi-user.target"


def test_nginx_site_lists_one_upstream_server_per_process():
    site = subprocess.run([str(SERVER / "nginx-site"), "checkin.example.org", "8080", "8081", "8082"],
                          check=True, capture_output=True, text=True).stdout
    upstream = re.search(r"upstream roros_checkin \{(.*?)\}", site, re.S).group(1)
    assert re.findall(r"server (127\.0\.0\.1:\d+);", upstream) == [
        "127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"]
    assert "server_name checkin.example.org;" in site and "kommune.no" not in site
    refused = subprocess.run([str(SERVER / "nginx-site"), "checkin.example.org", "80; evil"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and refused.stdout == ""


def test_nginx_sends_to_the_service_with_tls_hsts_and_overwritten_forwarded_headers():
    site = (SERVER / "nginx-roros-checkin.conf").read_text()
    assert "proxy_pass http://roros_checkin;" in site
    assert re.search(r"upstream roros_checkin \{\s*server 127\.0\.0\.1:8080;", site)
    assert "listen 443 ssl" in site and "return 301 https://" in site
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d{8,}; includeSubDomains" always;', site)
    assert "proxy_hide_header Strict-Transport-Security;" in site  # one HSTS header, not two
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "$proxy_add_x_forwarded_for" not in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site


def test_backup_timer_runs_flask_backup_nightly_into_a_writable_folder():
    timer = unit("roros-checkin-backup.timer")["Timer"]
    assert timer["OnCalendar"] == "*-*-* 03:15:00" and timer["Persistent"] == "true"
    service = unit("roros-checkin-backup.service")["Service"]
    assert service["ExecStart"].endswith("flask backup /var/backups/roros-checkin")
    assert "/var/backups/roros-checkin" in service["ReadWritePaths"].split()


def test_forwarded_headers_are_trusted_in_one_place_only():
    package = "\n".join(path.read_text() for path in (ROOT / "roros_checkin").rglob("*.py"))
    assert "ProxyFix" not in package and "ProxyFix" not in (ROOT / "app.py").read_text()
    assert "trusted_proxy=config[\"TRUSTED_PROXY\"]" in (ROOT / "app.py").read_text()


@pytest.mark.parametrize("script", ["install-server", "restore-backup", "system-packages", "lint", "test",
                                    "lock-requirements", "server/nginx-site"])
def test_shell_scripts_parse(script):
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=True)
