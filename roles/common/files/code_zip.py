# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""code_zip.py COLLECTION_ROOT OUT.zip PATH... - this collection's code a host runs without Ansible, in one zip.

Run on the controller by the roles that install a program on a host (backup: the acgs-backup
job; remediator: the Level 1 receiver). PATH is a file or a directory (its .py files) of this
collection, relative to COLLECTION_ROOT; the zip holds them under
ansible_collections/acgs/platform/, every package's __init__.py, and the running ansible-core's
module_utils (what AnsiballZ would ship with a module), so the host needs no Ansible of its own.
Python imports straight from the zip. Entries are sorted and dated 1980-01-01, so the same code
gives the same bytes and the copy to the host stays unchanged (idempotent).
"""

import os
import sys
import zipfile

import ansible.module_utils

PREFIX = "ansible_collections/acgs/platform/"


def entries(collection_root, paths):
    """[(name in the zip, file on disk or None for an empty __init__.py)], sorted."""
    out = {}
    for rel in paths:
        full = os.path.join(collection_root, rel)
        names = sorted(n for n in os.listdir(full) if n.endswith(".py")) if os.path.isdir(full) else [None]
        for name in names:
            path = os.path.join(full, name) if name else full
            out[PREFIX + os.path.relpath(path, collection_root).replace(os.sep, "/")] = path
    core = os.path.dirname(ansible.module_utils.__file__)
    for root, dirs, names in os.walk(core):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(root, name)
                out["ansible/module_utils/" + os.path.relpath(path, core).replace(os.sep, "/")] = path
    for name in list(out):
        package = os.path.dirname(name)
        while package:
            out.setdefault(package + "/__init__.py", None)
            package = os.path.dirname(package)
    return sorted(out.items())


def main(collection_root, dest, paths):
    if not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
        os.makedirs(os.path.dirname(os.path.abspath(dest)))
    tmp = dest + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries(collection_root, paths):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = b""
            if path:
                with open(path, "rb") as handle:
                    data = handle.read()
            archive.writestr(info, data)
    os.replace(tmp, dest)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__.splitlines()[0])
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
