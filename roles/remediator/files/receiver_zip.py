# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""receiver_zip.py COLLECTION_ROOT OUT.zip - the code the Level 1 remediation receiver runs, in one zip.

Run on the controller by the remediator role (action deploy): the module_utils the receiver
imports (its own, and the acgs_shutdown module's that stop a hung process) and the running
ansible-core's module_utils, so the host needs no Ansible of its own. Python imports straight
from the zip. Entries are sorted and dated 1980-01-01, so the same code gives the same bytes
and the copy to the host stays unchanged (idempotent).
"""

import os
import sys
import zipfile

import ansible.module_utils

PREFIX = "ansible_collections/acgs/platform/plugins/module_utils/"
MODULE_UTILS = ("_remediation.py", "_remediation_daemon.py", "_shutdown.py", "_supervisor.py", "_errors.py")
PACKAGES = ("ansible", "ansible_collections", "ansible_collections/acgs", "ansible_collections/acgs/platform",
            "ansible_collections/acgs/platform/plugins", "ansible_collections/acgs/platform/plugins/module_utils")


def entries(collection_root):
    """(name in the zip, file on disk or None for an empty __init__.py)."""
    out = [(package + "/__init__.py", None) for package in PACKAGES]
    for name in MODULE_UTILS:
        out.append((PREFIX + name, os.path.join(collection_root, "plugins", "module_utils", name)))
    core = os.path.dirname(ansible.module_utils.__file__)
    for root, dirs, names in os.walk(core):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(root, name)
                out.append(("ansible/module_utils/" + os.path.relpath(path, core).replace(os.sep, "/"), path))
    return sorted(out)


def main(collection_root, dest):
    if not os.path.isdir(os.path.dirname(dest)):
        os.makedirs(os.path.dirname(dest))
    tmp = dest + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries(collection_root):
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
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    main(sys.argv[1], sys.argv[2])
