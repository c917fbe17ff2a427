"""``huddle backup`` and ``huddle restore`` through the real console script: a
wallet survives the round trip, and each refusal is one line with its code and
exit code (docs/cli.md)."""

from __future__ import annotations

import json
import sqlite3
import stat

from .runner import CC_NAME, fails, huddle, imported, ok, run  # noqa: F401


def test_a_wallet_survives_backup_and_restore(imported, tmp_path):
    target = tmp_path / "off-site" / "huddle-backup.sqlite3"
    target.parent.mkdir()
    out = json.loads(ok(imported("backup", str(target), "--json")))
    assert out["backup"] == str(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    ok(imported("wallet", "remove", CC_NAME, "--yes"))
    assert CC_NAME not in ok(imported("wallet", "list"))

    restored = json.loads(ok(imported("restore", str(target), "--json")))

    assert CC_NAME in ok(imported("wallet", "list"))
    kept = sqlite3.connect(restored["kept"])
    assert kept.execute("SELECT count(*) FROM wallets").fetchone()[0] == 0  # the removal, kept too


def test_backup_onto_an_existing_file_needs_force(imported, tmp_path):
    target = tmp_path / "huddle-backup.sqlite3"
    target.write_text("an older backup\n")

    line = fails(imported("backup", str(target)), 5, "backup_exists")

    assert "--force" in line
    assert target.read_text() == "an older backup\n"
    ok(imported("backup", str(target), "--force"))
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def test_restoring_a_file_that_is_not_a_database_is_one_line_and_exit_3(imported, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n")
    before = imported.database.read_bytes()

    fails(imported("restore", str(bad)), 3, "bad_backup")

    assert imported.database.read_bytes() == before


def test_restoring_a_truncated_backup_is_one_line_and_exit_3(imported, tmp_path):
    target = tmp_path / "huddle-backup.sqlite3"
    ok(imported("backup", str(target)))
    target.write_bytes(target.read_bytes()[:8192])

    line = fails(imported("restore", str(target)), 3, "bad_backup")

    assert "truncated" in line


def test_restoring_a_backup_from_a_newer_huddle_is_one_line_and_exit_3(imported, tmp_path):
    target = tmp_path / "huddle-backup.sqlite3"
    ok(imported("backup", str(target)))
    conn = sqlite3.connect(target)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('huddle', 'm999_from_the_future', '2099-01-01')")
    conn.commit()
    conn.close()

    line = fails(imported("restore", str(target)), 3, "bad_backup")

    assert "newer Huddle" in line


def test_restoring_a_backup_with_a_corrupt_page_is_one_line_and_exit_3(imported, tmp_path):
    target = tmp_path / "huddle-backup.sqlite3"
    ok(imported("backup", str(target)))
    data = bytearray(target.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data), page):  # every page but the first: each b-tree's header
        data[start: start + 16] = bytes(range(200, 216))
    target.write_bytes(bytes(data))

    fails(imported("restore", str(target)), 3, "bad_backup")
    assert CC_NAME in ok(imported("wallet", "list"))


def test_a_backup_into_a_folder_that_does_not_exist_is_the_users_input(imported, tmp_path):
    target = tmp_path / "no-such-folder" / "huddle-backup.sqlite3"

    line = fails(imported("backup", str(target)), 3, "bad_input")

    assert "no-such-folder" in line and not target.parent.exists()
