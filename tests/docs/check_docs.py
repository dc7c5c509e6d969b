"""Check the HTML collection docs that `make docs` built with antsibull-docs and Sphinx.

Usage: check_docs.py --docs build/docs --collection COLLECTION_ROOT [--screenshot FILE.png]

--docs is the `antsibull-docs sphinx-init` project: rst/, build/html/, and build.log and
build.rc (output and exit status of its build.sh). Fails (exit 1, one line per problem) when:
- a module (plugins/modules/*.py), filter (plugins/filter/*.py), lookup (plugins/lookup/*.py)
  or role with meta/argument_specs.yml has no HTML page, or its page is antsibull-docs' error
  page (a docs block that does not parse or validate: "... was malformed"), or the page lacks
  its title, synopsis or (roles) one of its entry points;
- the build log has an antsibull-docs error or warning, or a Sphinx warning other than what an
  offline build must leave: intersphinx inventories it cannot download, references to
  docs.ansible.com's own pages (EXTERNAL_DOCSITE_LABELS) and to plugins of other collections
  that exist in the installed collections (a reference to a missing plugin still fails);
- build.sh failed for another reason than those warnings (sphinx-build -W);
- the screenshot is not a PNG of the expected size with something on it.
"""
import argparse
import ast
import os
import re
import sys

import yaml

COLLECTION = "acgs.platform"
# Labels of docs.ansible.com that antsibull-docs' templates link to (intersphinx resolves them
# online; offline they are "undefined label" warnings).
EXTERNAL_DOCSITE_LABELS = {"common_return_values", "ansible_configuration_settings"}
PLUGIN_TYPES = (
    "module", "filter", "lookup", "test", "role", "become", "cache", "callback", "cliconf",
    "connection", "httpapi", "inventory", "netconf", "shell", "strategy", "vars",
)
PLUGIN_LABEL = re.compile(
    r"^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.(.+?)_(%s)(?:__.*)?$" % "|".join(PLUGIN_TYPES))
SPHINX_PROBLEM = re.compile(r"(?:^|: )(WARNING|ERROR|CRITICAL): (.*)$")
ANTSIBULL_PROBLEM = re.compile(r"^(WARNING|ERROR|CRITICAL):antsibull:(.*)$")
BUILD_FAILED = re.compile(r"build finished with problems, (\d+) warnings? \(with warnings treated as errors\)")
BUILD_OK = re.compile(r"build succeeded(?:, (\d+) warnings?)?")


def filter_names(path):
    """The filters a FilterModule's filters() returns, or the file's stem."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except SyntaxError:
        return [os.path.basename(path)[:-3]]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "filters":
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict):
                    keys = [k.value for k in ret.value.keys if isinstance(k, ast.Constant)]
                    if keys:
                        return keys
    return [os.path.basename(path)[:-3]]


def expected_pages(root):
    """(name, type, role entry points or None) for every plugin and documented role."""
    def stems(sub):
        d = os.path.join(root, "plugins", sub)
        if not os.path.isdir(d):
            return []
        return sorted(f for f in os.listdir(d) if f.endswith(".py") and f != "__init__.py")

    pages = [(f[:-3], "module", None) for f in stems("modules")]
    for f in stems("filter"):
        pages += [(name, "filter", None) for name in filter_names(os.path.join(root, "plugins", "filter", f))]
    pages += [(f[:-3], "lookup", None) for f in stems("lookup")]
    roles = os.path.join(root, "roles")
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        spec = os.path.join(roles, role, "meta", "argument_specs.yml")
        if os.path.isfile(spec):
            with open(spec, encoding="utf-8") as f:
                entry_points = sorted((yaml.safe_load(f) or {}).get("argument_specs") or {})
            pages.append((role, "role", entry_points))
    return pages


def rst_errors(rst):
    """The errors antsibull-docs listed on an error page (its code blocks), one line."""
    if not os.path.isfile(rst):
        return ""
    text = open(rst, encoding="utf-8").read()
    blocks = re.findall(r"\.\. code-block:: text\n\n((?:        .*\n|\n)+)", text)
    return "; ".join(" ".join(line.strip() for line in b.splitlines() if line.strip()) for b in blocks)


def check_page(docs, name, ptype, entry_points):
    rel = "collections/acgs/platform/%s_%s.html" % (name, ptype)
    what = "%s.%s %s" % (COLLECTION, name, ptype)
    html_path = os.path.join(docs, "build", "html", rel)
    if not os.path.isfile(html_path):
        return ["missing page: %s (%s)" % (what, rel)]
    html = open(html_path, encoding="utf-8").read()
    if "was malformed" in html:
        rst = os.path.join(docs, "rst", rel[:-len(".html")] + ".rst")
        return ["error page: %s (%s): %s" % (what, rel, rst_errors(rst) or "antsibull-docs could not parse its docs")]
    found = []
    if not re.search(r"<h1>%s – " % re.escape(what), html):
        found.append("page without its title and short description: %s (%s)" % (what, rel))
    if ">Synopsis<" not in html:
        found.append("page without a synopsis: %s (%s)" % (what, rel))
    for ep in entry_points or ():
        if not re.search(r'Entry point <code[^>]*><span class="pre">%s</span>' % re.escape(ep), html):
            found.append("role page without entry point %s: %s (%s)" % (ep, what, rel))
    return found


def builtin_root():
    """ansible-core's package: where ansible.builtin's plugins are (.venv's python3 has it)."""
    try:
        import ansible  # pylint: disable=import-outside-toplevel
    except ImportError:
        sys.exit("check_docs.py needs ansible-core to check links to ansible.builtin: run it with .venv's python3")
    return os.path.dirname(ansible.__file__)


def plugin_exists(collections_paths, ns, coll, name, ptype):
    """Whether another collection (or ansible.builtin) has that plugin, so the link is sound."""
    if (ns, coll) == ("ansible", "builtin"):
        base = builtin_root()
        if ptype == "module":
            candidates = [os.path.join(base, "modules", name + ".py")]
        else:
            candidates = [os.path.join(base, "plugins", ptype, name + ext) for ext in (".py", ".yml", ".yaml")]
        return any(os.path.isfile(c) for c in candidates)
    for cpath in collections_paths:
        croot = os.path.join(cpath, "ansible_collections", ns, coll)
        if not os.path.isdir(croot):
            continue
        if ptype == "role":
            if os.path.isdir(os.path.join(croot, "roles", name)):
                return True
            continue
        pdir = os.path.join(croot, "plugins", "modules" if ptype == "module" else ptype)
        for dirpath, _dirs, files in os.walk(pdir):
            if any(f in files for f in (name + ".py", name + ".yml", name + ".yaml")):
                return True
        runtime = os.path.join(croot, "meta", "runtime.yml")
        if os.path.isfile(runtime):
            with open(runtime, encoding="utf-8") as f:
                routing = ((yaml.safe_load(f) or {}).get("plugin_routing") or {}).get(
                    "modules" if ptype == "module" else ptype) or {}
            entry = routing.get(name)
            if entry is not None and "tombstone" not in entry:
                return True
    return False


def check_log(docs, collections_paths):
    """Problems in build.log, and what is accepted as an offline build's lot (counted)."""
    log_path = os.path.join(docs, "build.log")
    if not os.path.isfile(log_path):
        return ["no build log: %s" % log_path], 0
    lines = open(log_path, encoding="utf-8", errors="replace").read().splitlines()
    rc_path = os.path.join(docs, "build.rc")
    rc = open(rc_path, encoding="utf-8").read().strip() if os.path.isfile(rc_path) else "?"
    found, accepted, counted = [], 0, 0
    for line in lines:
        m = ANTSIBULL_PROBLEM.match(line)
        if m:
            plugin = re.search(r"plugin_name=([^:|]+):plugin_type=([^|:]+)", line)
            where = "%s %s" % plugin.groups() if plugin else "antsibull-docs"
            found.append("antsibull-docs %s (%s): %s" % (m.group(1).lower(), where, line.split("|")[-1].strip()))
            continue
        m = SPHINX_PROBLEM.search(line)
        if not m:
            continue
        counted += 1
        msg = m.group(2)
        if msg.startswith("failed to reach any of the inventories"):
            accepted += 1  # intersphinx, offline: its lines follow
            continue
        label = re.match(r"undefined label: '([^']+)'", msg)
        if label:
            target = label.group(1)
            if target in EXTERNAL_DOCSITE_LABELS:
                accepted += 1
                continue
            plugin = PLUGIN_LABEL.match(target)
            if plugin and "%s.%s" % plugin.group(1, 2) != COLLECTION:
                if plugin_exists(collections_paths, *plugin.groups()):
                    accepted += 1
                    continue
                found.append("link to a plugin that does not exist: %s.%s.%s %s: %s"
                             % (plugin.groups() + (line,)))
                continue
            if plugin:
                found.append("link to %s.%s.%s %s, which has no page: %s" % (plugin.groups() + (line,)))
                continue
        found.append("sphinx: %s" % line)
    ok, failed = None, None
    for line in lines:
        ok = ok or BUILD_OK.search(line)
        failed = failed or BUILD_FAILED.search(line)
    if failed:
        if int(failed.group(1)) != counted:
            found.append("sphinx counted %s warnings, the log shows %d: see %s" % (failed.group(1), counted, log_path))
    elif not (ok and rc == "0"):
        tail = " | ".join(lines[-5:])
        found.append("build.sh failed (exit %s) before Sphinx finished: %s (%s)" % (rc, tail, log_path))
    return found, accepted


def check_png(path, width, height):
    if not os.path.isfile(path):
        return ["no screenshot: %s" % path]
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return ["screenshot is not a PNG: %s" % path]
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if (w, h) != (width, height):
        return ["screenshot is %dx%d, not %dx%d: %s" % (w, h, width, height, path)]
    # A blank or near-blank page compresses to a few KB; a rendered module page does not.
    if len(data) < 30000:
        return ["screenshot looks blank (%d bytes): %s" % (len(data), path)]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", required=True, help="the sphinx-init project (build/docs)")
    parser.add_argument("--collection", required=True, help="root of the collection documented")
    parser.add_argument("--collections-path", action="append", default=[],
                        help="where other collections are installed (default: the collection's own)")
    parser.add_argument("--screenshot", help="PNG that headless Chromium took of one page")
    parser.add_argument("--screenshot-size", default="1280x1600")
    args = parser.parse_args()

    collections_paths = args.collections_path or [
        os.path.normpath(os.path.join(args.collection, "..", "..", ".."))]
    pages = expected_pages(args.collection)
    found = []
    for name, ptype, entry_points in pages:
        found += check_page(args.docs, name, ptype, entry_points)
    log_problems, accepted = check_log(args.docs, collections_paths)
    found += log_problems
    if args.screenshot:
        width, height = (int(x) for x in args.screenshot_size.split("x"))
        found += check_png(args.screenshot, width, height)
    for line in found:
        print(line)
    if found:
        print("docs: %d problems" % len(found))
        sys.exit(1)
    counts = ", ".join("%s: %d" % (t, sum(1 for p in pages if p[1] == t)) for t in ("module", "filter", "lookup", "role"))
    print("docs: %d pages (%s) rendered without errors; %d Sphinx warnings are links an offline build "
          "cannot resolve (docs.ansible.com, other collections' existing plugins)" % (len(pages), counts, accepted))


if __name__ == "__main__":
    main()
