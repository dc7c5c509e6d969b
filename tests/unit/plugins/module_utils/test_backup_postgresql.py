# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL client tools' command lines and environment (no server needed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _backup_postgresql as pg
from ansible_collections.acgs.platform.plugins.module_utils._postgres import resolve

PARAMS = resolve({"host": "db.example", "port": 5433, "login_user": "acgs", "login_password": "Pg-s3cret"})
needs_tools = pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")),
                                 reason="the PostgreSQL client tools are not installed")


def test_password_goes_to_the_environment_only():
    env = pg.env_for(PARAMS)
    assert (env["PGPASSWORD"], env["PGCONNECT_TIMEOUT"], env["PGSSLMODE"]) == ("Pg-s3cret", "10", "prefer")
    assert pg.conn_args(PARAMS) == ["--host", "db.example", "--port", "5433", "--username", "acgs", "--no-password"]
    assert "PGPASSWORD" not in pg.env_for(resolve({}))


@needs_tools
def test_dump_and_restore_command_lines():
    argv = pg.dump_argv(PARAMS, "acgs", "directory", jobs=4, level=3, snapshot="0000-1", out_dir="/b/acgs.dir")
    assert argv[1:] == pg.conn_args(PARAMS) + ["--format", "directory", "--compress", "3", "--snapshot", "0000-1",
                                               "--jobs", "4", "--file", "/b/acgs.dir", "--dbname", "acgs"]
    assert pg.restore_argv(PARAMS, "t", "/b/x.dump", 2, no_owner=True)[-6:] == [
        "--exit-on-error", "--no-owner", "--no-privileges", "--jobs", "2", "/b/x.dump"]
    assert pg.list_argv("/b/x.dump")[1:] == ["--list", "/b/x.dump"]
    assert all("Pg-s3cret" not in arg for arg in argv)


def test_recovery_settings():
    text = pg.recovery_settings("/var/wal", "2026-01-01 12:00:00+00")
    assert "restore_command = 'cp \"/var/wal/%f\" \"%p\"'" in text
    assert "recovery_target_time = '2026-01-01 12:00:00+00'" in text and "recovery_target_action = 'promote'" in text
    assert "recovery_target_timeline = 'latest'" in pg.recovery_settings("/var/wal")


def test_quote_ident():
    assert pg.quote_ident('we"ird') == '"we""ird"'


def test_split_data_entries_balances_by_size_and_keeps_the_archive_order():
    listing = "\n".join([
        ";",
        "; Archive created at 2026-01-01 00:00:00 UTC",
        "3340; 0 16390 TABLE DATA public small acgs",
        "3341; 0 16395 TABLE DATA public big acgs",
        "3342; 0 16400 TABLE DATA public medium acgs",
        "3343; 0 0 SEQUENCE SET public small_id_seq acgs",
        "3344; 0 16405 TABLE DATA public other acgs",
    ])
    sizes = {"public.big": 1000, "public.medium": 600, "public.other": 500, "public.small": 10}
    lists = pg.split_data_entries(listing, 2, sizes)
    assert lists == [(1013, "3340; 0 16390 TABLE DATA public small acgs\n3341; 0 16395 TABLE DATA public big acgs\n"
                            "3343; 0 0 SEQUENCE SET public small_id_seq acgs\n"),
                     (1102, "3342; 0 16400 TABLE DATA public medium acgs\n3344; 0 16405 TABLE DATA public other acgs\n")]
    assert len(pg.split_data_entries(listing, 8)) == 5
    assert pg.split_data_entries(listing, 1) == [(5, "\n".join(listing.splitlines()[2:]) + "\n")]
    assert pg.split_data_entries(";\n", 4) == []


def test_own_file_tables_largest_first_from_the_threshold():
    sizes = {"public.big": 1000, "public.medium": 600, "s.b": 600, "public.small": 10}
    assert pg.own_file_tables(sizes, 600) == ["public.big", "public.medium", "s.b"]
    assert pg.own_file_tables(sizes, 0) == []
    assert pg.own_file_tables(sizes, 2000) == []


def test_table_pattern_is_exact():
    assert pg.table_pattern("public", 'we"ird*') == '"public"."we""ird*"'


@needs_tools
def test_dump_of_one_table_command_line():
    argv = pg.dump_argv(PARAMS, "acgs", level=0, snapshot="0000-1", extra=["--data-only", '--table="public"."t"'])
    assert argv[1:] == pg.conn_args(PARAMS) + ["--format", "custom", "--compress", "0", "--data-only", '--table="public"."t"',
                                               "--snapshot", "0000-1", "--dbname", "acgs"]
