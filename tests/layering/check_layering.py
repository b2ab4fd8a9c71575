#!/usr/bin/python3
"""Layering check of the source tree, in the spirit of Bazel's layering_check.

Every .h/.cc under the `scan` folders of layers.txt is read for `#include "..."` (and
`#include <...>`) of project headers. Each file and each included header belongs to one
layer (layers.txt `layer`/`paths`); an include is allowed when the header is in the file's
own layer or in a layer the file's layer `uses`. Anything else is reported as
file:line, the include, and the rule it breaks.

  check_layering.py [--root DIR] [--layers FILE] [--baseline FILE] [--list]

--root      tree to check (default: the repository this script lives in)
--layers    the rules (default: <root>/tests/layering/layers.txt, else the one beside
            this script)
--baseline  known violations, one `file -> include` per line, reported but tolerated
            (while a refactor that removes them is under way); entries that no longer
            occur are reported as stale
--list      print every file's layer and exit

Exit status: 0 no violation (beyond the baseline), 1 violations, 2 bad rules/usage.
"""

import argparse
import fnmatch
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_SUFFIXES = (".h", ".cc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class RulesError(Exception):
    pass


class Layer:
    def __init__(self, name, line):
        self.name = name
        self.line = line  # where it is defined in layers.txt
        self.paths = []
        self.uses = None  # set of names, or "*"
        self.why = ""


class Rules:
    def __init__(self, path):
        self.path = path
        self.scan = []
        self.project = []
        self.generated = []
        self.layers = {}
        self._parse()

    def _parse(self):
        current = None
        with open(self.path, encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                line = raw.split("#", 1)[0].strip()
                if not line:
                    continue
                word, _, rest = line.partition(" ")
                args = rest.split()
                if word == "scan":
                    self.scan += args
                elif word == "project":
                    self.project += args
                elif word == "generated":
                    self.generated += args
                elif word == "layer":
                    if len(args) != 1:
                        raise RulesError(f"{self.path}:{number}: `layer` takes one name")
                    if args[0] in self.layers:
                        raise RulesError(f"{self.path}:{number}: layer {args[0]} defined twice")
                    current = Layer(args[0], number)
                    self.layers[current.name] = current
                    self._continuation = None
                elif word in ("paths", "uses", "why"):
                    if current is None:
                        raise RulesError(f"{self.path}:{number}: `{word}` outside a layer")
                    self._attribute(current, word, rest.strip(), number)
                    self._continuation = word
                elif raw[:1].isspace() and current is not None and self._continuation:
                    # A continuation line of the previous `paths`/`uses`/`why`.
                    self._attribute(current, self._continuation, line, number, more=True)
                else:
                    raise RulesError(f"{self.path}:{number}: unknown statement `{word}`")
        for layer in self.layers.values():
            if not layer.paths:
                raise RulesError(f"{self.path}:{layer.line}: layer {layer.name} has no paths")
            if layer.uses is None:
                raise RulesError(f"{self.path}:{layer.line}: layer {layer.name} has no `uses`")
            if layer.uses != "*":
                for used in layer.uses:
                    if used not in self.layers:
                        raise RulesError(f"{self.path}:{layer.line}: layer {layer.name} uses "
                                         f"unknown layer {used}")
        if not self.scan:
            raise RulesError(f"{self.path}: no `scan` folders")

    def _attribute(self, layer, word, text, number, more=False):
        if word == "paths":
            layer.paths += text.split()
        elif word == "why":
            layer.why = (layer.why + " " + text).strip()
        else:
            names = text.split()
            if names in (["-"], ["*"]):
                if more or layer.uses is not None:
                    raise RulesError(f"{self.path}:{number}: `-`/`*` must be alone")
                layer.uses = set() if names == ["-"] else "*"
            else:
                if layer.uses == "*":
                    raise RulesError(f"{self.path}:{number}: `*` must be alone")
                layer.uses = (layer.uses or set()) | set(names)

    # -- classification --------------------------------------------------------------

    @staticmethod
    def _match(pattern, path):
        """Specificity of `pattern` for repository-relative `path` (None: no match), and
        the instance (the folder or file the pattern matched)."""
        is_dir = pattern.endswith("/")
        pat = pattern.rstrip("/").split("/")
        parts = path.split("/")
        if is_dir:
            if len(parts) <= len(pat):
                return None
        elif len(parts) != len(pat):
            return None
        for p, q in zip(pat, parts):
            if p != "*" and p != q:
                return None
        literal = sum(1 for p in pat if p != "*")
        # Each folder a `*` matches is a layer of its own; literal paths share one.
        instance = None
        if literal != len(pat):
            instance = "/".join(parts[: len(pat)]) + ("/" if is_dir else "")
        return (0 if is_dir else 1, len(pat), literal), instance

    def layer_of(self, path):
        """(layer, instance) of a repository-relative path, or (None, None)."""
        best = None
        for layer in self.layers.values():
            for pattern in layer.paths:
                m = self._match(pattern, path)
                if m and (best is None or m[0] > best[0]):
                    best = (m[0], layer, m[1])
        return (best[1], best[2]) if best else (None, None)

    def is_project(self, include):
        return include.split("/", 1)[0] in self.project and "/" in include

    def is_generated(self, include):
        return any(fnmatch.fnmatchcase(include, g) or
                   fnmatch.fnmatchcase(os.path.basename(include), g)
                   for g in self.generated)


def strip_comments(text):
    """The text with /* */ and // comments blanked (newlines kept), strings kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            i = end
        elif c == '"':
            # A string literal (or the "..." of an include): copy it through.
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def source_files(root, scan):
    for top in scan:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    full = os.path.join(dirpath, name)
                    yield os.path.relpath(full, root).replace(os.sep, "/")


def includes(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        text = strip_comments(f.read())
    for number, line in enumerate(text.splitlines(), 1):
        m = INCLUDE_RE.match(line)
        if m:
            yield number, m.group(1), m.group(2)


def resolve(root, rel, bracket, include, rules):
    """The repository-relative path of a project header, or None when outside the check."""
    if rules.is_generated(include):
        return None
    if rules.is_project(include):
        return include
    if bracket == '"':
        # "x.h" or "sub/x.h" next to the including file, as the compiler finds it first (the
        # tree's style is full paths, but a relative include must not slip through).
        near = os.path.normpath(os.path.join(os.path.dirname(rel), include)).replace(os.sep, "/")
        if (not near.startswith("../") and os.path.isfile(os.path.join(root, near))
                and not rules.is_generated(near)):
            return near
    return None


def describe(layer, instance):
    return f"{layer.name} ({instance})" if instance else layer.name


def check(root, rules):
    """(violations, files checked): each violation a dict with file, line, text, key, message."""
    violations = []
    count = 0
    for rel in source_files(root, rules.scan):
        count += 1
        layer, instance = rules.layer_of(rel)
        if layer is None:
            violations.append(dict(
                file=rel, line=1, key=f"{rel} -> (no layer)",
                text="(file)", message=f"{rel} is in no layer: add its folder to a layer's "
                f"`paths` in {os.path.relpath(rules.path, root)}"))
            continue
        for number, bracket, include in includes(root, rel):
            target = resolve(root, rel, bracket, include, rules)
            if target is None:
                continue
            text = f'#include {bracket}{include}{">" if bracket == "<" else chr(34)}'
            dep, dep_instance = rules.layer_of(target)
            where = f"{rel}:{number}"
            if dep is None:
                violations.append(dict(
                    file=rel, line=number, key=f"{rel} -> {include}", text=text,
                    message=f"{where}: {text}\n    {target} is in no layer of "
                    f"{os.path.basename(rules.path)}"))
                continue
            if dep is layer and dep_instance == instance:
                continue
            if layer.uses == "*" or (dep.name in layer.uses and dep is not layer):
                continue
            allowed = ", ".join(sorted(layer.uses)) if layer.uses else "nothing of ours"
            if dep is layer:
                reason = (f"{instance} may not include {dep_instance}: each folder of "
                          f"layer {layer.name} is a layer of its own")
            else:
                reason = (f"layer {describe(layer, instance)} may not include layer "
                          f"{describe(dep, dep_instance)}")
            violations.append(dict(
                file=rel, line=number, key=f"{rel} -> {include}", text=text,
                message=f"{where}: {text}\n    rule: {reason}\n"
                f"    {layer.name} may include: its own layer, {allowed} "
                f"({os.path.basename(rules.path)}:{layer.line})"
                + (f"\n    why: {layer.why}" if layer.why else "")))
    return violations, count


def read_baseline(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                entries.append(" ".join(line.split()))
    return entries


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)))
    parser.add_argument("--layers")
    parser.add_argument("--baseline")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    layers = args.layers
    if not layers:
        layers = os.path.join(root, "tests", "layering", "layers.txt")
        if not os.path.isfile(layers):
            layers = os.path.join(HERE, "layers.txt")
    try:
        rules = Rules(layers)
    except (RulesError, OSError) as e:
        print(f"layering_check: bad rules: {e}", file=sys.stderr)
        return 2

    if args.list:
        for rel in source_files(root, rules.scan):
            layer, instance = rules.layer_of(rel)
            print(f"{describe(layer, instance) if layer else '(no layer)':40} {rel}")
        return 0

    violations, count = check(root, rules)
    baseline = read_baseline(args.baseline) if args.baseline else []
    known = [v for v in violations if v["key"] in baseline]
    new = [v for v in violations if v["key"] not in baseline]
    stale = sorted(set(baseline) - {v["key"] for v in violations})

    print(f"layering_check: {count} files under {', '.join(rules.scan)} of {root}, "
          f"rules {layers}")
    if known:
        print(f"\n{len(known)} known violation(s), tolerated by "
              f"{os.path.basename(args.baseline)} until the refactor removing them lands:")
        for v in known:
            print("  KNOWN " + v["message"].replace("\n", "\n  "))
    if stale:
        print(f"\n{len(stale)} baseline entr(y/ies) no longer occur; delete them from "
              f"{args.baseline}:")
        for s in stale:
            print(f"  STALE {s}")
    if new:
        print(f"\nFAILED: {len(new)} layering violation(s):")
        for v in new:
            print("  " + v["message"].replace("\n", "\n  "))
        print(f"\nFix the include (depend on an interface the layer may use), or, if the "
              f"architecture really changed, the rules in {layers}.")
        return 1
    print("\nOK: no layering violation" + (" beyond the baseline" if known else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
