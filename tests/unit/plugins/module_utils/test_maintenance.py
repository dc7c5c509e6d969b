# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance runs' readers: apt-get -s output, the /proc scan, Prometheus range results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _maintenance as m

# apt-get -s upgrade on Debian 12 with bookworm, bookworm-updates and bookworm-security (abridged, real lines)
APT = """NOTE: This is only a simulation!
Reading package lists...
The following packages will be upgraded:
  base-files krb5-locales libexpat1 liblzma-dev
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst krb5-locales [1.20.1-2+deb12u3] (1.20.1-2+deb12u5 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [all])
Inst libexpat1 [2.5.0-1+deb12u1] (2.5.0-1+deb12u5 Debian-Security:12/oldstable-security [amd64])
Inst liblzma-dev [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Inst libfoo2 (2.0 Debian:12.15/oldstable [amd64])
Remv libfoo1 [1.0]
Conf libexpat1 (2.5.0-1+deb12u5 Debian-Security:12/oldstable-security [amd64])
"""


def test_apt_plan_splits_security_updates_from_the_rest():
    plan = m.apt_plan(APT)
    assert [e["name"] for e in plan["security"]] == ["krb5-locales", "libexpat1", "liblzma-dev"]
    assert [e["name"] for e in plan["other"]] == ["base-files", "libfoo2"]
    assert plan["install"] == ["krb5-locales=1.20.1-2+deb12u5", "libexpat1=2.5.0-1+deb12u5", "liblzma-dev=5.4.1-1+deb12u2"]
    expat = plan["security"][1]
    assert expat["from"] == "2.5.0-1+deb12u1" and expat["to"] == "2.5.0-1+deb12u5"
    assert expat["origins"] == ["Debian-Security:12/oldstable-security"] and expat["arch"] == "amd64"
    assert plan["other"][1]["from"] is None  # a new package
    assert plan["removed"] == [{"name": "libfoo1", "version": "1.0"}]


def test_apt_plan_ubuntu_security_pocket_and_nothing_to_do():
    ubuntu = "Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])"
    assert m.apt_plan(ubuntu)["install"] == ["libssl3=3.0.2-0ubuntu1.12"]
    assert m.apt_plan("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.") == \
        {"security": [], "other": [], "removed": [], "install": []}


def test_apt_plan_bad_regex_is_named():
    with pytest.raises(m.MaintenanceError, match=r"security_regex '\(' is not a regular expression"):
        m.apt_plan(APT, "(")


SERVICES = ["auth-service", "ac-service", "gs-service"]
SCAN = [
    "23544\tpython3\t/usr/bin/python3 /opt/acgs/releases/ac-service/0.1.0/acgs_service.py --config /etc/acgs/services/ac-service-blue.json"
    "\t/usr/lib/x86_64-linux-gnu/libssl.so.3",
    "23545\tpython3\t/usr/bin/python3 /opt/acgs/releases/ac-service/0.1.0/acgs_service.py --config /etc/acgs/services/ac-service-green.json",
    "23546\tpython3\t/usr/bin/python3 /opt/acgs/bin/acgs_service.py --config /etc/acgs/services/auth-service-blue.json\t/usr/bin/python3.11",
    "22913\tpostgres\t/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf",
    "22914\tpostgres\tpostgres: 15/main: checkpointer",
    "22915\tpostgres\tpostgres: 15/acgsbench: checkpointer",
    "22916\tpostgres\t/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/acgsbench/ -c config_file=x",
    "23207\tredis-server\t/usr/bin/redis-server 127.0.0.1:6379",
    "23208\tredis-server\t/usr/bin/redis-server 127.0.0.1:6393",
    "22917\tpostgres\tpostgres: checkpointer ",
    "23566\tnats-server\t/usr/sbin/nats-server -c /etc/nats-server.conf",
    "23569\tprometheus-node\t/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:9100",
    "23570\tprometheus-aler\t/usr/bin/prometheus-alertmanager --config.file=/etc/prometheus/alertmanager.yml",
    "23565\tacgs-remediatio\t/usr/bin/python3 /opt/acgs-remediation/acgs-remediation /opt/acgs-remediation/config.json",
    "23483\tsupervisord\t/usr/bin/python3 /usr/bin/supervisord -c /etc/supervisor/supervisord.conf",
    "555\tsshd\tsshd: /usr/sbin/sshd -D [listener]",
    "",
]


def test_restarts_map_processes_to_lifecycle_components_in_order():
    r = m.restarts(SCAN, SERVICES, "main", 6379)
    assert r["components"] == ["postgresql", "redis", "nats", "services", "node_exporter", "alertmanager", "remediator"]
    assert r["services"] == ["ac-service", "auth-service"]
    assert r["processes"][0]["files"] == ["/usr/lib/x86_64-linux-gnu/libssl.so.3"]
    left = dict((p["comm"] + str(p["pid"]), p["why_not_restarted"]) for p in r["not_restarted"])
    assert "process manager itself" in left["supervisord23483"]
    assert left["sshd555"] == "not an ACGS component"
    assert "acgsbench is not the ACGS cluster main" in left["postgres22915"]
    assert "not the ACGS cluster main" in left["postgres22916"]
    # a scratch server of a test (initdb, no Debian cluster name) and a Redis on another port
    assert "without a Debian cluster name" in left["postgres22917"]
    assert left["redis-server23208"] == "Redis on port 6393 is not the ACGS Redis (port 6379)"
    assert [p["pid"] for p in r["processes"] if p["component"] == "redis"] == [23207]
    # without a port, every Redis is taken for the ACGS one
    assert 23208 in [p["pid"] for p in m.restarts(SCAN, SERVICES)["processes"]]


def test_restarts_of_an_unknown_service_config_and_nothing_stale():
    r = m.restarts(["1\tpython3\t/usr/bin/python3 x.py --config /etc/acgs/services/other-service-blue.json"], SERVICES)
    assert r["components"] == [] and r["not_restarted"][0]["why_not_restarted"] == "not an ACGS component"
    assert m.restarts("", SERVICES) == {"components": [], "services": [], "processes": [], "not_restarted": []}


def test_restarts_bad_line_is_named():
    with pytest.raises(m.MaintenanceError, match="'garbage' is not 'pid<TAB>comm"):
        m.restarts(["garbage"], SERVICES)


def series(points, metric=None):
    return {"metric": metric or {}, "values": [[t, str(v)] for t, v in points]}


DAY = 86400.0


def test_trend_days_until_the_limit_along_the_line():
    # 1 % a day for 10 days, from 50 %: 40 days to 90 %
    s = series([(i * DAY / 4, 50 + i * 0.25) for i in range(41)], {"mountpoint": "/"})
    t = m.trend([s], 90)[0]
    assert t["trend"] == "growing" and abs(t["per_day"] - 1.0) < 1e-9
    assert abs(t["days_to_limit"] - 30.0) < 1e-6
    assert t["current"] == 60.0 and t["labels"] == {"mountpoint": "/"}
    assert "reaches the limit 90 in 30.0 days" in t["verdict"]


def test_trend_not_enough_data_is_no_trend():
    short = series([(i * 60, 50 + i) for i in range(30)])  # 30 min
    t = m.trend([short], 90)[0]
    assert t["trend"] == "no trend" and t["per_day"] is None and t["days_to_limit"] is None
    assert t["verdict"].startswith("no trend (30 samples over 0.5 h; needs 10 over 24.0 h)")
    few = series([(0, 1), (2 * DAY, 2)])
    assert m.trend([few], 90)[0]["trend"] == "no trend"
    assert m.trend([], 90) == []


def test_trend_flat_shrinking_over_the_limit_and_without_limit():
    flat = series([(i * DAY / 10, 20) for i in range(20)])
    assert m.trend([flat], 90)[0]["trend"] == "flat" and m.trend([flat], 90)[0]["days_to_limit"] is None
    down = series([(i * DAY / 10, 80 - i) for i in range(20)])
    assert "does not reach the limit" in m.trend([down], 90)[0]["verdict"]
    over = series([(i * DAY / 10, 95 + i) for i in range(20)])
    assert m.trend([over], 90)[0]["days_to_limit"] == 0.0
    assert "no limit set" in m.trend([down], None)[0]["verdict"]


def test_trend_skips_nan_and_names_bad_input():
    s = series([(i * DAY / 10, 10 + i) for i in range(20)])
    s["values"].append([3 * DAY, "NaN"])
    assert m.trend([s], 100, what="db")[0]["points"] == 20
    with pytest.raises(m.MaintenanceError, match="db: sample"):
        m.trend([{"values": [["x", "1"]]}], 1, what="db")
    with pytest.raises(m.MaintenanceError, match="db: limit 'lots' is not a number"):
        m.trend([], "lots", what="db")
    with pytest.raises(m.MaintenanceError, match="db: expected Prometheus's data.result list"):
        m.trend({"result": []}, 1, what="db")
