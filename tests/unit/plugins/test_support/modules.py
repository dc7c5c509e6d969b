# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() in a unit test, as Ansible runs it: arguments from _ANSIBLE_ARGS, the result
read from what it prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


def run_module(module, args, capsys, check_mode=False):
    """The result ``module.main()`` exits with, given ``args`` (in check mode when ``check_mode``)."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    basic._ANSIBLE_PROFILE = "legacy"
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)
