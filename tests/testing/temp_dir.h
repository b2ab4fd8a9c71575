// TempDir: a fresh directory under the test's temp root, removed with its contents when
// the object goes away.
#ifndef OKR_TESTS_TESTING_TEMP_DIR_H_
#define OKR_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace okr::testing {

class TempDir {
 public:
  TempDir() {
    const char* root = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(root != nullptr && *root ? root : "/tmp") + "/okr-test-XXXXXX";
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_TEMP_DIR_H_
