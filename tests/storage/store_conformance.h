// StoreConformanceTest: the behaviour every OkrStore backend must show (the contract of
// service/storage/okr_store.h), as one value-parameterized GoogleTest suite that runs
// unchanged against SQLite, PostgreSQL, ...
//
// A backend's test binary instantiates it with a factory returning a fresh, empty store
// (called once per test case, in SetUp):
//
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, StoreConformanceTest,
//       ::testing::Values(StoreFactory{"SqliteFull", [] { return OpenFreshStore(); }}),
//       StoreFactoryName);
//
// and links "$<LINK_LIBRARY:WHOLE_ARCHIVE,okr_storage_conformance>" (see
// tests/storage/CMakeLists.txt): the TEST_P cases live in this library and would
// otherwise be dropped by the linker.
#ifndef OKR_TESTS_STORAGE_STORE_CONFORMANCE_H_
#define OKR_TESTS_STORAGE_STORE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "service/storage/okr_store.h"

namespace okr::storage::conformance {

struct StoreFactory {
  // Test name suffix: letters, digits and underscores only.
  std::string name;
  // A new, empty store, independent of every store returned before.
  std::function<absl::StatusOr<std::unique_ptr<OkrStore>>()> open;
};

// Use as the name generator of INSTANTIATE_TEST_SUITE_P.
std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  OkrStore& store() { return *store_; }

 private:
  std::unique_ptr<OkrStore> store_;
};

}  // namespace okr::storage::conformance

#endif  // OKR_TESTS_STORAGE_STORE_CONFORMANCE_H_
