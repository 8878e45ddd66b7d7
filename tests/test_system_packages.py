"""scripts/system-packages with fake dpkg-query, apt-get and id on PATH: the real system is never touched."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from server import ROOT

# (package to install, installed package it would remove), as Debian's LibreOffice has them: the
# -nogui flavour replaces the GUI one and its core. The fake apt-get acts as the real one does.
CONFLICTS = [("libreoffice-calc-nogui", "libreoffice-calc"), ("libreoffice-calc-nogui", "libreoffice-core"),
             ("libreoffice-calc", "libreoffice-calc-nogui")]

FAKE_DPKG_QUERY = """#!/usr/bin/env bash
# dpkg-query -W -f='${Status}' PACKAGE
package="${@: -1}"
if grep -qx "$package" "$FAKE/installed"; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $package" >&2; exit 1
"""

FAKE_APT_GET = """#!/usr/bin/env bash
echo "apt-get $*" >> "$FAKE/apt-log"
[ "$1" = update ] && exit 0
package="${@: -1}"
no_remove=no
for arg in "$@"; do [ "$arg" = --no-remove ] && no_remove=yes; done
while read -r wanted conflicting; do
    if [ "$wanted" = "$package" ] && grep -qx "$conflicting" "$FAKE/installed"; then
        if [ $no_remove = yes ]; then
            echo "E: Packages need to be removed but remove is disabled." >&2; exit 100
        fi
        grep -vx "$conflicting" "$FAKE/installed" > "$FAKE/installed.new"; mv "$FAKE/installed.new" "$FAKE/installed"
        echo "removed $conflicting" >> "$FAKE/apt-log"
    fi
done < "$FAKE/conflicts"
echo "$package" >> "$FAKE/installed"
"""


def run(tmp_path: Path, installed: list[str], uid: int) -> tuple[subprocess.CompletedProcess, list[str], list[str]]:
    """Run the script with fakes; return its result, the apt-get calls and what is installed afterwards."""
    fake = tmp_path / "fake"
    bin_dir = fake / "bin"
    bin_dir.mkdir(parents=True)
    (fake / "installed").write_text("".join(f"{package}\n" for package in installed))
    (fake / "conflicts").write_text("".join(f"{wanted} {conflicting}\n" for wanted, conflicting in CONFLICTS))
    (fake / "apt-log").write_text("")
    for name, text in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET),
                       ("id", f"#!/bin/sh\necho {uid}\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE": str(fake)}
    result = subprocess.run([str(ROOT / "scripts" / "system-packages")], env=env, capture_output=True, text=True,
                            timeout=30)
    calls = (fake / "apt-log").read_text().splitlines()
    return result, calls, (fake / "installed").read_text().split()


@pytest.mark.parametrize("uid", [0, 1000])
def test_nothing_to_do_when_every_need_is_met_by_one_of_its_packages(tmp_path, uid):
    # libreoffice-calc instead of -nogui, libzbar0t64 (Debian 13's name) instead of libzbar0.
    machine = ["chromium", "libreoffice-calc", "libzbar0t64", "zbar-tools", "fonts-dejavu-core", "wrk"]
    result, calls, after = run(tmp_path, machine, uid)
    assert result.returncode == 0, result.stderr
    assert calls == [] and sorted(after) == sorted(machine)


def test_root_installs_what_is_missing_and_removes_nothing(tmp_path):
    result, calls, after = run(tmp_path, ["chromium", "fonts-dejavu-core"], 0)
    assert result.returncode == 0, result.stderr
    assert {"libreoffice-calc-nogui", "libzbar0", "zbar-tools", "wrk", "chromium", "fonts-dejavu-core"} <= set(after)
    installs = [call for call in calls if call.startswith("apt-get install")]
    assert len(installs) == 4 and all("--no-remove" in call for call in installs)
    assert not [call for call in calls if call.startswith("removed")]


def test_root_takes_the_next_package_rather_than_remove_one(tmp_path):
    # LibreOffice Writer is there (its GUI core): -nogui would remove it, libreoffice-calc fits beside it.
    machine = ["chromium", "libzbar0", "zbar-tools", "fonts-dejavu-core", "wrk", "libreoffice-core"]
    result, calls, after = run(tmp_path, machine, 0)
    assert result.returncode == 0, result.stderr
    assert set(machine) <= set(after) and "libreoffice-calc" in after
    assert not [call for call in calls if call.startswith("removed")]


def test_a_normal_user_is_told_what_to_install(tmp_path):
    result, calls, _after = run(tmp_path, ["chromium", "fonts-dejavu-core", "wrk"], 1000)
    assert result.returncode == 1
    assert ("sudo apt-get install --no-install-recommends libreoffice-calc-nogui libzbar0 zbar-tools"
            in result.stderr)
    assert calls == []
