# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""job_zip.py COLLECTION_ROOT OUT.zip - the code the host-side backup job runs, in one zip.

Run on the controller by the backup role (action deploy): this collection's acgs_backup
module and module_utils, and the running ansible-core's module_utils (what AnsiballZ
would ship with the module), so the database host needs no Ansible of its own. Python
imports straight from the zip. Entries are sorted and dated 1980-01-01, so the same
code gives the same bytes and the copy to the host stays unchanged (idempotent).
"""

import os
import sys
import zipfile

import ansible.module_utils


def entries(collection_root):
    """(name in the zip, file on disk or None for an empty __init__.py)."""
    out = [("ansible/__init__.py", None), ("ansible_collections/__init__.py", None),
           ("ansible_collections/acgs/__init__.py", None), ("ansible_collections/acgs/platform/__init__.py", None),
           ("ansible_collections/acgs/platform/plugins/__init__.py", None),
           ("ansible_collections/acgs/platform/plugins/modules/__init__.py", None),
           ("ansible_collections/acgs/platform/plugins/modules/acgs_backup.py",
            os.path.join(collection_root, "plugins", "modules", "acgs_backup.py"))]
    utils = os.path.join(collection_root, "plugins", "module_utils")
    if not os.path.isfile(os.path.join(utils, "__init__.py")):
        out.append(("ansible_collections/acgs/platform/plugins/module_utils/__init__.py", None))
    for name in os.listdir(utils):
        if name.endswith(".py"):
            out.append(("ansible_collections/acgs/platform/plugins/module_utils/" + name, os.path.join(utils, name)))
    core = os.path.dirname(ansible.module_utils.__file__)
    for root, dirs, names in os.walk(core):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(root, name)
                out.append(("ansible/module_utils/" + os.path.relpath(path, core).replace(os.sep, "/"), path))
    return sorted(out)


def main(collection_root, dest):
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
        sys.exit("usage: job_zip.py COLLECTION_ROOT OUT.zip")
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[2])), exist_ok=True)
    main(sys.argv[1], sys.argv[2])
