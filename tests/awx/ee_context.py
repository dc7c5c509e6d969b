"""Check the execution environment's build context that `ansible-builder create` made.

Usage (from the checkout's root): ee_context.py CONTEXT_DIR

- the Containerfile exists and installs the ansible-core and ansible-runner pins of
  requirements-controller.txt (what make test runs);
- the galaxy requirements install acgs.platform from a copy in the context, of this
  checkout's version;
- ansible-builder's own introspection, run on that copy, finds exactly the Python and
  system requirements of meta/ee-requirements.txt and meta/ee-bindep.txt.
Exits 1 with one line per problem.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml


def requirement_lines(path):
    """The requirement lines of a pip or bindep file, comments dropped."""
    with open(path) as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return sorted(line for line in lines if line)


def introspect(context, collection):
    """(python, system) requirements ansible-builder finds in the collection copy."""
    with tempfile.TemporaryDirectory() as tree:
        os.makedirs(os.path.join(tree, "ansible_collections", "acgs"))
        os.symlink(os.path.abspath(collection), os.path.join(tree, "ansible_collections", "acgs", "platform"))
        out = subprocess.run([sys.executable, os.path.join(context, "_build", "scripts", "introspect.py"),
                              "introspect", tree], check=True, capture_output=True, text=True).stdout
    found = yaml.safe_load(out)
    return _uncommented(found["python"]), _uncommented(found["system"])


def _uncommented(reqs):
    """Requirements as introspect.py lists them, without its '# from collection' notes."""
    return sorted(r.split("#", 1)[0].strip() for r in reqs or [])


def problems(context):
    found = []
    containerfile = os.path.join(context, "Containerfile")
    if not os.path.isfile(containerfile):
        return ["no Containerfile in %s" % context]
    with open(containerfile) as f:
        refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', f.read(), re.M)
    pins = sorted(r for r in requirement_lines("requirements-controller.txt")
                  if r.split("==")[0] in ("ansible-core", "ansible-runner"))
    if not refs or sorted(refs.group(1).split()) != pins:
        found.append("Containerfile installs %s, make test runs %s" % (refs and refs.group(1), " ".join(pins)))

    with open(os.path.join(context, "_build", "requirements.yml")) as f:
        wanted = [c for c in yaml.safe_load(f)["collections"] if c["name"] == "acgs.platform"]
    if not wanted:
        return found + ["the galaxy requirements do not install acgs.platform"]
    collection = os.path.join(context, "_build", wanted[0]["source"])
    manifest = os.path.join(collection, "MANIFEST.json")
    if not os.path.isfile(manifest):
        return found + ["acgs.platform's source %s is not in the context" % wanted[0]["source"]]
    with open(manifest) as f:
        version = json.load(f)["collection_info"]["version"]
    with open("galaxy.yml") as f:
        ours = yaml.safe_load(f)["version"]
    if version != ours:
        found.append("the context carries acgs.platform %s, this checkout is %s" % (version, ours))

    python, system = introspect(context, collection)
    if python != requirement_lines("meta/ee-requirements.txt"):
        found.append("introspection finds Python requirements %s" % python)
    if system != requirement_lines("meta/ee-bindep.txt"):
        found.append("introspection finds system requirements %s" % system)
    return found


def main():
    found = problems(sys.argv[1])
    for line in found:
        print(line)
    if found:
        sys.exit(1)
    print("%s: Containerfile, acgs.platform and its Python and system requirements in the context" % sys.argv[1])


if __name__ == "__main__":
    main()
