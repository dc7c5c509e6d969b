"""Check a built collection artifact: only collection content, and release metadata.

Usage: check_artifact.py acgs-platform-X.Y.Z.tar.gz

Fails (exit 1, one line per problem) when the artifact carries a file that is not
collection content (toolchain, CI, Molecule, benchmarks, test output, the AWX and EE
build files), or when MANIFEST.json lacks dependencies or a license file that the
artifact contains.
"""
import json
import sys
import tarfile

# What a user installs: the collection's content and its release documents.
TOP_LEVEL = {
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.rst", "requirements.yml",
    "changelogs", "meta", "plugins", "roles", "playbooks", "inventories", "tests",
}
# Dev files that would sit below an allowed top-level directory.
NESTED = ("tests/output/", "playbooks/collections/", "playbooks/awx_configure.yml", "__pycache__/", ".pyc")


def problems(path):
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    found = []
    for name in names:
        if name.split("/", 1)[0] not in TOP_LEVEL:
            found.append("not collection content: %s" % name)
        elif any(part in name + "/" for part in NESTED):
            found.append("dev file: %s" % name)
    if not manifest.get("dependencies"):
        found.append("MANIFEST.json: no dependencies")
    license_file = manifest.get("license_file")
    if not license_file:
        found.append("MANIFEST.json: no license_file")
    elif license_file not in names:
        found.append("MANIFEST.json names %s, which the artifact lacks" % license_file)
    for doc in ("CHANGELOG.rst", "changelogs/changelog.yaml"):
        if doc not in names:
            found.append("artifact lacks %s" % doc)
    return found


def main():
    found = problems(sys.argv[1])
    for line in found:
        print(line)
    if found:
        sys.exit(1)
    print("%s: collection content only; dependencies and license file in MANIFEST.json" % sys.argv[1])


if __name__ == "__main__":
    main()
