"""Each fact lives once.

The constitutional hash, the 7 service ports and the infrastructure ports are
literals in exactly one file of code that runs (the catalog), and no playbook
restates a role default with ``| default(``. Documentation (README, module
DOCUMENTATION/EXAMPLES/RETURN, doc fragments, argument_specs descriptions,
comments) and tests are not code that runs.
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CODE_DIRS = ("plugins", "roles", "playbooks", "inventories", "scripts")
FACTS = [("the constitutional hash", "cdd01ef066bc6cf2")] + [
    ("port %d" % port, r"(?<![0-9.])%d(?![0-9])" % port)
    for port in (8000, 8001, 8002, 8003, 8004, 8005, 8006, 5432, 6379, 4222, 8222, 8404, 9090, 9093, 9115, 9100, 9096)]


def code_files():
    for top in CODE_DIRS:
        for base, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                path = os.path.join(base, name)
                rel = os.path.relpath(path, ROOT)
                if rel.startswith("plugins/doc_fragments/") or rel.endswith(("argument_specs.yml", ".md")):
                    continue
                yield rel


def code_text(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    if rel.endswith(".py"):
        text = re.sub(r'(?s)(DOCUMENTATION|EXAMPLES|RETURN)\s*=\s*r?""".*?"""', "", text)
    return re.sub(r"(?m)^\s*[#;].*$", "", text)


def main():
    texts = dict((rel, code_text(rel)) for rel in code_files())
    status = 0
    for what, pattern in FACTS:
        found = sorted(rel for rel, text in texts.items() if re.search(pattern, text))
        if len(found) != 1:
            print("FAIL: %s is written in %d files of code: %s" % (what, len(found), ", ".join(found) or "none"))
            status = 1
        else:
            print("ok: %s only in %s" % (what, found[0]))
    for rel, text in sorted(texts.items()):
        if rel.startswith("playbooks/") and re.search(r"\|\s*default\(", text):
            print("FAIL: %s restates a default with | default(...)" % rel)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
