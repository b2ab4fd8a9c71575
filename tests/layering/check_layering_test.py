#!/usr/bin/python3
"""Tests of check_layering.py on small synthetic trees in a temporary directory."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layering.py")

RULES = """\
scan      service connectors
project   service connectors tests
generated *.pb.h

layer domain
  paths   service/okr/
  uses    -
  why     Nothing of ours.

layer core
  paths   service/core/
  uses    domain

layer sync_interface
  paths   service/sync/tracker_sync.h
  uses    domain

layer sync
  paths   service/sync/
  uses    domain core sync_interface

layer connector
  paths   connectors/*/
  uses    domain
          sync_interface
  why     Connectors implement the sync interface.
"""


class CheckLayeringTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.write("tests/layering/layers.txt", RULES)
        self.write("service/okr/model.h", '#include "absl/status/status.h"\n')
        self.write("service/core/okr_core.h", '#include "service/okr/model.h"\n')
        self.write("service/sync/tracker_sync.h", '#include "service/okr/model.h"\n')
        self.write("service/sync/reconciler.cc",
                   '#include "service/core/okr_core.h"\n#include "service/sync/tracker_sync.h"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def run_check(self, *extra):
        p = subprocess.run([sys.executable, SCRIPT, "--root", self.root, *extra],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr

    def test_allowed_includes_pass(self):
        self.write("connectors/jira/mapper.cc", textwrap.dedent("""\
            #include "connectors/jira/mapper.h"
            #include <string>
            #include "absl/strings/str_cat.h"
            #include "okr/v1/okr_service.pb.h"
            #include "service/okr/model.h"
            #include "service/sync/tracker_sync.h"
            """))
        self.write("connectors/jira/mapper.h", "")
        rc, out = self.run_check()
        self.assertEqual(rc, 0, out)
        self.assertIn("OK: no layering violation", out)

    def test_forbidden_include_fails_with_file_line_include_and_rule(self):
        self.write("connectors/jira/mapper.cc",
                   '#include "service/okr/model.h"\n#include "service/core/okr_core.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn('connectors/jira/mapper.cc:2: #include "service/core/okr_core.h"', out)
        self.assertIn("rule: layer connector (connectors/jira/) may not include layer core", out)
        self.assertIn("connector may include: its own layer, domain, sync_interface", out)
        self.assertIn("why: Connectors implement the sync interface.", out)
        self.assertNotIn("service/okr/model.h\n", out.split("FAILED")[1])

    def test_sync_implementation_header_is_not_the_interface(self):
        self.write("service/sync/reconciler.h", '#include "service/core/okr_core.h"\n')
        self.write("connectors/gitlab/sync.cc", '#include "service/sync/reconciler.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("connectors/gitlab/sync.cc:1", out)
        self.assertIn("may not include layer sync", out)

    def test_each_star_folder_is_its_own_layer(self):
        self.write("connectors/gitlab/mapper.h", "")
        self.write("connectors/jira/mapper.cc", '#include "connectors/gitlab/mapper.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("connectors/jira/ may not include connectors/gitlab/", out)

    def test_domain_may_include_nothing_of_ours(self):
        self.write("service/okr/rollup.h",
                   '#include "service/okr/model.h"\n#include "service/sync/tracker_sync.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("service/okr/rollup.h:2", out)
        self.assertIn("domain may include: its own layer, nothing of ours", out)

    def test_commented_out_and_generated_includes_are_ignored(self):
        self.write("service/okr/names.cc", textwrap.dedent("""\
            // #include "service/core/okr_core.h"
            /* #include "service/core/okr_core.h"
            #include "service/core/okr_core.h" */
            #include "service/core/okr_service.pb.h"
            """))
        rc, out = self.run_check()
        self.assertEqual(rc, 0, out)

    def test_angle_bracket_and_sibling_includes_are_checked(self):
        self.write("service/okr/a.cc", "#include <service/core/okr_core.h>\n")
        self.write("service/sync/b.h", "")
        self.write("service/sync/tracker_sync.h", '#include "b.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("service/okr/a.cc:1: #include <service/core/okr_core.h>", out)
        self.assertIn('service/sync/tracker_sync.h:1: #include "b.h"', out)

    def test_relative_include_into_a_subfolder_is_checked(self):
        self.write("service/core/sqlite/store.h", "")
        self.write("service/core/uses_backend.cc", '#include "sqlite/store.h"\n')
        self.write("tests/layering/layers.txt",
                   RULES + "layer backend\n  paths service/core/sqlite/\n  uses domain\n")
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn('service/core/uses_backend.cc:1: #include "sqlite/store.h"', out)
        self.assertIn("may not include layer backend", out)

    def test_file_and_header_outside_every_layer_fail(self):
        self.write("service/newthing/x.cc", "")
        self.write("service/okr/y.cc", '#include "tests/testing/fake_clock.h"\n')
        rc, out = self.run_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("service/newthing/x.cc is in no layer", out)
        self.assertIn("tests/testing/fake_clock.h is in no layer", out)

    def test_baseline_tolerates_known_and_reports_stale(self):
        self.write("connectors/jira/h.cc", '#include "service/core/okr_core.h"\n')
        self.write("baseline.txt", "# known\nconnectors/jira/h.cc -> service/core/okr_core.h\n"
                                   "connectors/jira/gone.cc -> service/core/okr_core.h\n")
        rc, out = self.run_check("--baseline", os.path.join(self.root, "baseline.txt"))
        self.assertEqual(rc, 0, out)
        self.assertIn("KNOWN connectors/jira/h.cc:1", out)
        self.assertIn("STALE connectors/jira/gone.cc -> service/core/okr_core.h", out)
        self.write("connectors/jira/h.cc", '#include "service/sync/reconciler.h"\n')
        self.write("service/sync/reconciler.h", "")
        rc, out = self.run_check("--baseline", os.path.join(self.root, "baseline.txt"))
        self.assertEqual(rc, 1, out)

    def test_bad_rules_exit_2(self):
        self.write("tests/layering/layers.txt", RULES + "layer x\n  paths a/\n  uses nosuch\n")
        rc, out = self.run_check()
        self.assertEqual(rc, 2, out)
        self.assertIn("uses unknown layer nosuch", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
