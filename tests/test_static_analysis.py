"""CI checks on the code and its dependencies: bandit finds nothing medium or worse; pins hold."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bandit_finds_nothing_medium_or_higher():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "roros_checkin", "-ll", "-f", "json", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(result.stdout)
    findings = [f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
                for item in report["results"]]
    assert findings == []
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the package
    assert result.returncode == 0


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().removesuffix("\\").strip()
        if not line or line.startswith(("-r", "--hash=")):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[match.group(1)] = match.group(2)
    return found


def test_the_locks_hold_every_chosen_pin_each_with_its_hashes():
    """requirements*.txt are compiled from the .in files (scripts/lock-requirements): never stale."""
    for name in ("requirements", "requirements-dev"):
        chosen, locked = pins(ROOT / f"{name}.in"), pins(ROOT / f"{name}.txt")
        assert {package: locked.get(package.lower()) for package in chosen} == \
            {package: version for package, version in chosen.items()}, name
        entries = re.split(r"\n(?=[a-z0-9])", (ROOT / f"{name}.txt").read_text(encoding="utf-8"))
        unhashed = [entry.split()[0] for entry in entries if "==" in entry.split()[0]
                    and "--hash=sha256:" not in entry]
        assert unhashed == [], name
    assert pins(ROOT / "requirements.txt").keys() <= pins(ROOT / "requirements-dev.txt").keys()


def test_every_pinned_package_is_installed_at_its_pin():
    wanted = pins(ROOT / "requirements-dev.txt")
    assert {"flask", "werkzeug", "waitress", "pyotp", "bandit"} <= set(wanted)
    wrong = {}
    for name, version in wanted.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert wrong == {}
