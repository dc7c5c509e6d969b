# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing HAProxy's runtime API answers (captured text); the client against a real
HAProxy is covered by the acgs_canary integration target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.acgs.platform.plugins.module_utils import _haproxy_runtime as rt
from ansible_collections.acgs.platform.plugins.module_utils._errors import OperatorError

# captured from HAProxy 2.6 (show stat, trimmed to the first 64 columns and three rows)
HEADER = ("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"
          "weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
          "rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,"
          "hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
          "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,")
SHOW_STAT = "\n".join([
    HEADER,
    "fe_good,FRONTEND,,,1,3,4096,700,1,2,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,9,0,40,,,,0,700,0,0,0,0,,9,40,700,,,0,0,0,0,,,,,,,,",
    "be_good,stable,0,0,0,2,,630,1,2,,0,,0,0,0,0,no check,90,1,0,,,52,,,1,3,1,,630,,2,8,,36,,,,0,630,0,0,0,0,,,,630,0,0,,,,,0,,,0,0,1,2,",
    "be_good,canary,0,0,0,1,,70,1,2,,0,,2,1,0,0,DRAIN,10,1,0,,,52,,,1,3,2,,70,,2,1,,4,,,,0,60,0,3,4,0,,,,70,0,0,,,,,0,,,0,0,7,9,",
    "be_good,BACKEND,0,0,0,2,410,700,1,2,0,0,,0,0,0,0,UP,100,2,0,,0,52,0,,1,3,0,,700,,1,9,,40,,,,0,690,0,3,4,0,,,,700,0,0,0,0,0,0,0,,,0,0,1,2,",
    "",
])


def test_parse_stat_indexes_rows_by_proxy_and_server():
    rows = rt.parse_stat(SHOW_STAT)
    assert set(rows) == {("fe_good", "FRONTEND"), ("be_good", "stable"), ("be_good", "canary"), ("be_good", "BACKEND")}
    canary = rows[("be_good", "canary")]
    assert (canary["weight"], canary["status"], canary["hrsp_5xx"], canary["rtime"]) == ("10", "DRAIN", "4", "7")


def test_parse_stat_without_header_is_an_operator_error():
    with pytest.raises(OperatorError, match="show stat"):
        rt.parse_stat("Unknown command\n")
    with pytest.raises(OperatorError):
        rt.parse_stat("")


def test_counter_treats_empty_and_missing_as_zero():
    row = rt.parse_stat(SHOW_STAT)[("be_good", "stable")]
    assert rt.counter(row, "hrsp_2xx") == 630
    assert rt.counter(row, "qtime") == 0   # empty cell
    assert rt.counter(row, "no_such_column") == 0
    assert rt.counter(None, "hrsp_2xx") == 0


# captured from HAProxy 2.6: blue ready, green after `set server ... state drain` (8), a third after
# `state maint` (1), a fourth in maintenance for a failed address resolution (0x20)
SERVERS_STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change \
srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn \
srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
10 be_fv-service 1 fv-service-blue 127.0.0.1 2 0 100 100 775 15 3 3 6 0 0 0 - 18003 - 0 0 - - 0
10 be_fv-service 2 fv-service-green 127.0.0.1 2 8 0 0 1 15 3 3 6 0 0 0 - 18103 - 0 0 - - 0
10 be_fv-service 3 fv-service-blue-2 127.0.0.1 0 1 0 0 0 15 3 0 14 0 0 0 - 18003 - 0 0 - - 0
10 be_fv-service 4 fv-service-green-2 127.0.0.1 0 32 0 0 0 15 3 0 14 0 0 0 - 18103 - 0 0 - - 0

""".replace("\\\n", "")


def test_admin_states_from_show_servers_state():
    """The admin state set with `set server ... state`, also of a server that is DOWN (op state 0), where
    show stat's status says only DOWN."""
    assert rt.parse_servers_state(SERVERS_STATE) == {
        ("be_fv-service", "fv-service-blue"): "ready", ("be_fv-service", "fv-service-green"): "drain",
        ("be_fv-service", "fv-service-blue-2"): "maint", ("be_fv-service", "fv-service-green-2"): "maint"}
    with pytest.raises(OperatorError, match="no header"):
        rt.parse_servers_state("Unknown command.\n")
    with pytest.raises(OperatorError, match="unexpected line"):
        rt.parse_servers_state("1\n# be_id be_name srv_id srv_name\n10 be_x 1 s\n")


def test_parse_weight():
    assert rt.parse_weight("10 (initial 100)\n\n") == (10, 100)
    assert rt.parse_weight("0 (initial 0)") == (0, 0)
    assert rt.parse_weight("42") == (42, 42)
    with pytest.raises(OperatorError, match="get weight"):
        rt.parse_weight("No such server.")


class FakeRuntime(rt.HaproxyRuntime):
    """Records the commands; answers from a table."""

    def __init__(self, answers):
        super(FakeRuntime, self).__init__("/nonexistent")
        self.answers = answers
        self.sent = []

    def command(self, line):
        self.sent.append(line)
        return self.answers.get(line.split()[0] + " " + line.split()[1], "\n")


def test_commands_sent_for_weight_and_state():
    fake = FakeRuntime({"get weight": "35 (initial 100)\n"})
    fake.set_weight("be_good", "canary", 35)
    fake.set_state("be_good", "stable", "drain")
    assert fake.get_weight("be_good", "canary") == (35, 100)
    assert fake.sent == ["set server be_good/canary weight 35", "set server be_good/stable state drain",
                         "get weight be_good/canary"]


def test_refusals_and_bad_input_raise():
    fake = FakeRuntime({"set server": "No such server.\n", "get weight": "No such backend.\n"})
    with pytest.raises(OperatorError, match="No such server"):
        fake.set_weight("be_good", "nobody", 10)
    with pytest.raises(OperatorError, match="No such backend"):
        fake.get_weight("be_nowhere", "canary")
    with pytest.raises(OperatorError, match="0..256"):
        fake.set_weight("be_good", "canary", 300)
    with pytest.raises(OperatorError, match="unknown server state"):
        fake.set_state("be_good", "canary", "up")
    with pytest.raises(OperatorError, match="bad server name"):
        fake.set_weight("be_good", "canary;shutdown", 10)


def test_check_socket(tmp_path):
    client = rt.HaproxyRuntime(str(tmp_path / "missing.sock"))
    with pytest.raises(OperatorError, match="^socket: .*does not exist"):
        client.check_socket()
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(OperatorError, match="not a unix socket"):
        rt.HaproxyRuntime(str(plain)).check_socket()


def test_command_on_missing_socket_is_an_operator_error(tmp_path):
    client = rt.HaproxyRuntime(os.path.join(str(tmp_path), "none.sock"), timeout=1)
    with pytest.raises(OperatorError, match="show stat"):
        client.command("show stat")


def test_show_commands_reads_each_and_refuses_anything_but_show(tmp_path):
    fake = FakeRuntime({"show info": "Name: HAProxy\nVersion: 2.6\n", "show stat": "# pxname,svname\nfe_x,FRONTEND\n"})
    answers = rt.show_commands(fake, ["show info", "show stat"])
    assert fake.sent == ["show info", "show stat"]
    assert answers == [{"command": "show info", "answer": "Name: HAProxy\nVersion: 2.6", "error": ""},
                       {"command": "show stat", "answer": "# pxname,svname\nfe_x,FRONTEND", "error": ""}]
    assert rt.show_text(answers) == "### show info\nName: HAProxy\nVersion: 2.6\n### show stat\n# pxname,svname\nfe_x,FRONTEND\n"
    for bad in (["show info", "set server be/s state maint"], ["show info; shutdown sessions"], ["show stat\nclear counters"], []):
        fake = FakeRuntime({})
        with pytest.raises(OperatorError, match="commands"):
            rt.show_commands(fake, bad)
        assert fake.sent == []
    # a socket that does not answer is recorded, not raised
    missing = rt.HaproxyRuntime(os.path.join(str(tmp_path), "none.sock"), timeout=1)
    answers = rt.show_commands(missing, ["show info"])
    assert answers[0]["answer"] == "" and "show info" in answers[0]["error"]
    assert rt.show_text(answers).startswith("### show info\n(no answer: HAProxy admin socket ")
