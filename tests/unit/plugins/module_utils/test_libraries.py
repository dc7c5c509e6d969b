# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Optional libraries are imported on first use and a missing one is named."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

from ansible_collections.acgs.platform.plugins.module_utils import _libraries


def test_load_and_missing():
    assert _libraries.load_library("json") is json
    assert _libraries.load_library("acgs_no_such_library") is None
    (name, trace), = _libraries.missing(["json", "acgs_no_such_library"])
    assert name == "acgs_no_such_library" and "ModuleNotFoundError" in trace


def test_health_module_imports_no_optional_library():
    """acgs_health starts without psycopg2, redis or cryptography: they cost time on every run."""
    root = os.path.abspath(__file__)
    while os.path.basename(root) != "ansible_collections":
        root = os.path.dirname(root)
    code = ("import sys; sys.path.insert(0, %r); import ansible_collections.acgs.platform.plugins.modules.acgs_health, "
            "ansible_collections.acgs.platform.plugins.modules.acgs_backup; "
            "print(sorted(m for m in ('psycopg2', 'redis', 'cryptography', 'yaml') if m in sys.modules))") % os.path.dirname(root)
    out = subprocess.check_output([sys.executable, "-c", code]).decode().strip()
    assert out == "[]"
