"""`flask backup`: an online, checked, private copy; old backups rotated; a restore that works."""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from pathlib import Path

from conftest import post_checkin

from roros_checkin import backup, create_app, db, queries

DAY = 86400


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_is_a_checked_private_copy_with_the_visits(runner, client, clock, venue, conn, tmp_path):
    post_checkin(client)
    post_checkin(client)
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "backups" / "checkin-20261120T170000Z.sqlite3"
    assert f"Wrote {copy}" in result.output and "integrity ok" in result.output
    assert mode(copy) == 0o600 and mode(tmp_path / "backups") == 0o700
    assert sorted(path.name for path in copy.parent.iterdir()) == [copy.name]  # no -wal, no leftovers
    with sqlite3.connect(copy) as restored:
        assert restored.execute("SELECT count(*) FROM visits").fetchone()[0] == 2
        assert restored.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored.close()
    run = queries.last_maintenance_run(conn, "backup")
    assert run["ran_at"] == int(clock.now) and copy.name in run["detail"]


def test_backup_leaves_out_visits_past_retention(runner, client, clock, venue, tmp_path):
    post_checkin(client)
    clock.advance(14 * DAY - 60)
    post_checkin(client)
    clock.advance(60)
    runner.invoke(args=["backup", str(tmp_path / "backups")])
    (copy,) = (tmp_path / "backups").iterdir()
    with sqlite3.connect(copy) as restored:
        assert restored.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    restored.close()


def test_purge_deletes_expired_visits_inside_backups(app, runner, client, clock, venue, tmp_path):
    backups = tmp_path / "backups"
    app.config["BACKUP_DIR"] = str(backups)
    post_checkin(client, name="Zyxwvu Backupmarker")
    clock.advance(DAY)
    post_checkin(client)
    runner.invoke(args=["backup", str(backups)])
    (copy,) = backups.iterdir()
    clock.advance(13 * DAY)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "1 visits inside backups" in result.output
    with sqlite3.connect(copy) as kept:
        assert kept.execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    kept.close()
    assert b"Backupmarker" not in copy.read_bytes()
    assert not list(backups.glob("*-journal")) and not list(backups.glob("*-wal"))


def test_old_backups_are_deleted_and_other_files_kept(runner, clock, venue, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    now = int(clock.now)
    old = folder / backup.backup_name(now - 14 * DAY)
    young = folder / backup.backup_name(now - 14 * DAY + 1)
    other = folder / "notes.txt"
    for path in (old, young, other):
        path.write_bytes(b"x")
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"Deleted old backup {old}" in result.output
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [young.name, other.name, backup.backup_name(now)])


def test_backup_refuses_a_folder_others_can_read(runner, venue, tmp_path):
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o755)
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 1 and "chmod 700" in result.output
    assert list(folder.iterdir()) == []


def test_two_backups_in_one_second_do_not_overwrite(runner, venue, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 1 and "already exists" in result.output


def test_restored_backup_serves_the_visits(app, runner, client, clock, venue, tmp_path, app_config):
    receipt = post_checkin(client).headers["Location"]
    runner.invoke(args=["backup", str(tmp_path / "backups")])
    (copy,) = (tmp_path / "backups").iterdir()
    # The documented restore: with the service stopped, copy the backup into place.
    target = tmp_path / "restored" / "checkin.sqlite3"
    target.parent.mkdir(mode=0o700)
    shutil.copy2(copy, target)
    restored = create_app({**app_config, "DATABASE": str(target), "INSTANCE_PATH": target.parent})
    with restored.app_context():
        db.upgrade(db.get_db())
        assert db.get_db().execute("SELECT count(*) FROM visits").fetchone()[0] == 1
    page = restored.test_client().get(receipt)
    assert page.status_code == 200 and "Kaffestuggu" in page.get_data(as_text=True)


def test_partial_backup_left_by_a_crash_is_deleted_by_the_next_backup(runner, clock, venue, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    stale = folder / (backup.backup_name(int(clock.now) - 3600) + ".partial")
    stale.write_bytes(b"half a database")
    os.utime(stale, (time.time() - 3601, time.time() - 3601))
    running = folder / (backup.backup_name(int(clock.now) - 1) + ".partial")
    running.write_bytes(b"another backup still writing")
    assert runner.invoke(args=["backup", str(folder)]).exit_code == 0
    assert sorted(path.name for path in folder.iterdir()) == sorted([backup.backup_name(int(clock.now)), running.name])
