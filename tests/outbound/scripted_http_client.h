// ScriptedHttpClient: an HttpClient fake that records every request it is sent and answers
// from a script of outcomes (responses or transport errors), repeating the last one.
#ifndef OKR_TESTS_CONNECTORS_HTTP_SCRIPTED_HTTP_CLIENT_H_
#define OKR_TESTS_CONNECTORS_HTTP_SCRIPTED_HTTP_CLIENT_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/outbound/http_client.h"

namespace okr::outbound::testing {

class ScriptedHttpClient final : public HttpClient {
 public:
  explicit ScriptedHttpClient(std::vector<absl::StatusOr<HttpResponse>> script)
      : script_(std::move(script)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    const size_t index = std::min(requests_.size(), script_.size() - 1);
    requests_.push_back(request);
    return script_[index];
  }

  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  const std::vector<absl::StatusOr<HttpResponse>> script_;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

inline HttpResponse Response(int status, HttpHeaders headers = {}, std::string body = "") {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

}  // namespace okr::outbound::testing

#endif  // OKR_TESTS_CONNECTORS_HTTP_SCRIPTED_HTTP_CLIENT_H_
