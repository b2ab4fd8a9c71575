"""Shared helpers of the chart checks: YAML loading and Helm's values coalescing.

Used by check_chart.sh through the small command line below and by the other
tests/helm/*.py scripts as a module. Needs PyYAML (Debian: python3-yaml).

    python3 chart_lib.py parse FILE...            parse each file, print its top-level type
    python3 chart_lib.py merge OUT.json BASE [OVERRIDE...]
                                                  write BASE coalesced with the overrides
"""

import copy
import json
import sys

import yaml


def load_yaml(path):
    """Parses one YAML document; an empty file is an empty mapping."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return {} if data is None else data


def coalesce(base, override):
    """Merges override over base as Helm merges user values over chart defaults.

    Maps merge key by key, any other value replaces, and null deletes the default.
    Returns a new object; the arguments are not changed.
    """
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = coalesce(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def merged_values(values_path, override_paths):
    values = load_yaml(values_path)
    for path in override_paths:
        override = load_yaml(path)
        if not isinstance(override, dict):
            raise ValueError("%s: top level is not a mapping" % path)
        values = coalesce(values, override)
    return values


def main(argv):
    if len(argv) >= 3 and argv[1] == "parse":
        for path in argv[2:]:
            data = load_yaml(path)
            if not isinstance(data, dict):
                print("%s: top level is %s, not a mapping" % (path, type(data).__name__))
                return 1
            print("%s: mapping with %d keys" % (path, len(data)))
        return 0
    if len(argv) >= 4 and argv[1] == "merge":
        values = merged_values(argv[3], argv[4:])
        with open(argv[2], "w", encoding="utf-8") as f:
            json.dump(values, f, indent=2, sort_keys=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
