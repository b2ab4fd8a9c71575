// Checks the fuzz targets state about what the code under test returns: a property that
// does not hold aborts, which libFuzzer (and the standalone driver's test) reports as a
// failure with the input that caused it.
//
//   Check(decoded.ok(), "an encoded event decodes");
//   CheckCode(status, absl::StatusCode::kInvalidArgument, "ParseTeam");
#ifndef OKR_FUZZ_FUZZ_CHECKS_H_
#define OKR_FUZZ_FUZZ_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"

namespace okr::fuzz {

// Stops the run (a crash the fuzzer reports) when a stated property does not hold.
inline void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

// A status with a code the contract does not allow is a finding.
inline void CheckCode(const absl::Status& status, absl::StatusCode allowed, const char* what) {
  if (status.ok() || status.code() == allowed) return;
  std::fprintf(stderr, "fuzz check failed: %s: unexpected %s\n", what, status.ToString().c_str());
  std::abort();
}

}  // namespace okr::fuzz

#endif  // OKR_FUZZ_FUZZ_CHECKS_H_
