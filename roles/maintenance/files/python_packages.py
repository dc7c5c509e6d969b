# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python distributions the interpreter running this sees (the services' interpreter, run by
the monthly dependency report), as JSON: name, version, where, and the Debian package that ships
it (dpkg -S), or null when it was installed otherwise (pip)."""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

try:
    from importlib import metadata
except ImportError:  # Python < 3.8
    metadata = None


def distributions():
    seen = {}
    for dist in metadata.distributions() if metadata else []:
        name = dist.metadata["Name"]
        if not name or name.lower() in seen:
            continue
        path = getattr(dist, "_path", None)  # the .dist-info or .egg-info directory
        seen[name.lower()] = {"name": name, "version": dist.version, "path": str(path) if path else None}
    return sorted(seen.values(), key=lambda d: d["name"].lower())


def debian_owners(paths):
    if not paths:
        return {}
    proc = subprocess.Popen(["dpkg", "-S"] + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.communicate()[0].decode("utf-8", "replace")
    owners = {}
    for line in out.splitlines():
        package, sep, path = line.partition(": ")
        if sep:
            owners[path.strip()] = package.split(":")[0].split(",")[0].strip()
    return owners


def main():
    dists = distributions()
    owners = debian_owners([d["path"] for d in dists if d["path"] and os.path.exists(d["path"])])
    for dist in dists:
        dist["debian_package"] = owners.get(dist["path"])
    json.dump({"python": sys.executable, "version": sys.version.split()[0], "distributions": dists}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
