# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_migrations: the files a release ships, in order, and the plan against what was applied (Flyway's rules).

Applying against a real PostgreSQL is tested by the acgs_migrations and deploy integration targets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _migrations
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError


def write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return str(tmp_path)


def test_reads_in_numeric_order_with_checksums(tmp_path):
    path = write(tmp_path, {"10_later.sql": "SELECT 10;", "2_second.sql": "SELECT 2;", "001_first.sql": "SELECT 1;"})
    found = _migrations.read_migrations(path)
    assert [m["version"] for m in found] == [1, 2, 10]
    assert [m["name"] for m in found] == ["first", "second", "later"]
    assert len(found[0]["checksum"]) == 64 and found[0]["checksum"] != found[1]["checksum"]


@pytest.mark.parametrize("files, message", [
    ({"001_a.sql": "", "1_b.sql": ""}, "version 1 is used twice"),
    ({"first.sql": ""}, "NNN_name.sql"),
    ({"001_a-b.sql": ""}, "NNN_name.sql"),
    ({"001_a.txt": ""}, "NNN_name.sql"),
])
def test_bad_files_are_named(tmp_path, files, message):
    with pytest.raises(OperatorError, match=message):
        _migrations.read_migrations(write(tmp_path, files))


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(OperatorError, match="does not exist"):
        _migrations.read_migrations(str(tmp_path / "nope"))


def test_plan_pending_refused_and_unknown(tmp_path):
    found = _migrations.read_migrations(write(tmp_path, {"001_a.sql": "A", "002_b.sql": "B", "003_c.sql": "C"}))
    sums = dict((m["version"], m["checksum"]) for m in found)
    pending, refused, unknown = _migrations.plan(found, {})
    assert [m["file"] for m in pending] == ["001_a.sql", "002_b.sql", "003_c.sql"] and not refused and not unknown
    pending, refused, unknown = _migrations.plan(found, {1: ("a", sums[1]), 2: ("b", sums[2])})
    assert [m["file"] for m in pending] == ["003_c.sql"] and not refused
    # an applied migration whose file changed is refused by name
    pending, refused, unknown = _migrations.plan(found, {1: ("a", sums[1]), 2: ("b", "0" * 64)})
    assert len(refused) == 1 and refused[0].startswith("002_b.sql")
    # a newer release's migration the older release lacks is reported, not an error
    pending, refused, unknown = _migrations.plan(found[:1], {1: ("a", sums[1]), 2: ("b", sums[2])})
    assert not pending and not refused and unknown == ["002_b"]


def test_table_name_must_be_plain():
    with pytest.raises(OperatorError, match="identifier"):
        _migrations._quote("x; DROP TABLE y")
    assert _migrations._quote("acgs_schema_migrations") == '"acgs_schema_migrations"'
