"""Static checks of a chart's templates against its values.yaml, without helm.

    python3 check_values_refs.py CHART_DIR

Fails (exit 1, one line per problem) when
  * a template references a `.Values.a.b...` path (or `index .Values "a" "b"`) that
    values.yaml does not define, so a typo cannot silently render as empty;
  * a value in values.yaml is referenced by no template (a dead setting);
  * a leaf of values.yaml has no comment on it or on one of its parent keys;
  * an `include`/`template` names a template no file defines, or
    `include (print $.Template.BasePath "/x")` names a missing file.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chart_lib  # noqa: E402

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
VALUES_REF = re.compile(r"(?<![A-Za-z0-9_)\]])\$?\.Values((?:\." + IDENT + r")*)")
INDEX_REF = re.compile(r"\bindex\s+\$?\.Values((?:\s+\"[^\"]+\")+)")
DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
USE = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
BASEPATH_USE = re.compile(r"\.Template\.BasePath\s+\"/([^\"]+)\"")
KEY_LINE = re.compile(r"^(\s*)(" + IDENT + r")\s*:(.*)$")


def template_files(chart_dir):
    tdir = os.path.join(chart_dir, "templates")
    return [os.path.join(tdir, n) for n in sorted(os.listdir(tdir))
            if os.path.isfile(os.path.join(tdir, n))]


def find_refs(text):
    """Yields (path tuple, line number) for every values reference in a template."""
    for m in VALUES_REF.finditer(text):
        path = tuple(p for p in m.group(1).split(".") if p)
        yield path, text.count("\n", 0, m.start()) + 1
    for m in INDEX_REF.finditer(text):
        path = tuple(re.findall(r"\"([^\"]+)\"", m.group(1)))
        yield path, text.count("\n", 0, m.start()) + 1


def lookup(values, path):
    """Returns None when path exists in values, else a description of what is missing."""
    node = values
    for i, key in enumerate(path):
        if not isinstance(node, dict):
            return "%s is not a mapping" % ".".join(path[:i])
        if key not in node:
            return "%s is not defined in values.yaml" % ".".join(path[: i + 1])
        node = node[key]
    return None


def leaf_paths(values, prefix=()):
    for key, value in values.items():
        path = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def undocumented_keys(values_path):
    """Keys of values.yaml whose value has no comment on the key or on a parent key.

    A key is a leaf when the next significant line is not indented deeper (or is a
    list item, whose content the key's comment covers)."""
    with open(values_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    significant = [(i, l) for i, l in enumerate(lines)
                   if l.strip() and not l.strip().startswith("#")]
    problems = []
    stack = []  # (indent, documented)
    for n, (i, line) in enumerate(significant):
        m = KEY_LINE.match(line)
        if not m:
            continue  # list items and their content belong to the list's key
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
        documented = prev.strip().startswith("#") or any(d for _, d in stack)
        nxt = significant[n + 1][1] if n + 1 < len(significant) else ""
        nxt_indent = len(nxt) - len(nxt.lstrip())
        is_leaf = (m.group(3).strip() != "" or nxt_indent <= indent
                   or nxt.lstrip().startswith("- "))
        if is_leaf and not documented:
            problems.append("values.yaml:%d: %s has no comment" % (i + 1, m.group(2)))
        stack.append((indent, documented))
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    chart_dir = argv[1]
    values_path = os.path.join(chart_dir, "values.yaml")
    values = chart_lib.load_yaml(values_path)
    problems = []
    referenced = set()
    defined, used, basepath_used = set(), [], []
    files = template_files(chart_dir)
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        rel = os.path.relpath(path, chart_dir)
        for ref, line in find_refs(text):
            referenced.add(ref)
            missing = lookup(values, ref)
            if missing:
                problems.append("%s:%d: .Values.%s: %s" % (rel, line, ".".join(ref), missing))
        defined.update(DEFINE.findall(text))
        used.extend((rel, name) for name in USE.findall(text))
        basepath_used.extend((rel, name) for name in BASEPATH_USE.findall(text))
    for rel, name in used:
        if name not in defined:
            problems.append("%s: include/template %r is defined nowhere" % (rel, name))
    names = {os.path.basename(p) for p in files}
    for rel, name in basepath_used:
        if name not in names:
            problems.append("%s: includes templates/%s, which does not exist" % (rel, name))
    for leaf in leaf_paths(values):
        if not any(leaf[: len(ref)] == ref and ref for ref in referenced):
            problems.append("values.yaml: %s is not used by any template" % ".".join(leaf))
    problems.extend(undocumented_keys(values_path))
    for p in problems:
        print(p)
    print("%d template files, %d distinct values references, %d problems"
          % (len(files), len(referenced), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
