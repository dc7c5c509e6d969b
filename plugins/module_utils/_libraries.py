# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the optional third-party libraries (psycopg2, redis, cryptography, PyYAML).

Each is imported on first use, never when a module starts: importing redis alone
costs about 0.1 s, which every health check would pay even when it probes no
Redis. A module asks ``missing()`` up front and fails with missing_required_lib.
Not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import traceback

_LOADED = {}


def _load(name):
    if name not in _LOADED:
        try:
            _LOADED[name] = (importlib.import_module(name), None)
        except ImportError:
            _LOADED[name] = (None, traceback.format_exc())
    return _LOADED[name]


def load_library(name):
    """The imported library ``name``, or None when it cannot be imported."""
    return _load(name)[0]


def missing(names):
    """[(name, import traceback)] of the libraries in ``names`` that cannot be imported."""
    return [(name, _load(name)[1]) for name in names if _load(name)[0] is None]
