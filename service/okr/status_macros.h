// Status propagation helpers used across okr-service layers.
//
//   OKR_RETURN_IF_ERROR(tx.InsertTeam(team));
//   OKR_ASSIGN_OR_RETURN(Team t, tx.GetTeam(id));
#ifndef OKR_SERVICE_OKR_STATUS_MACROS_H_
#define OKR_SERVICE_OKR_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define OKR_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status okr_status_ = (expr);       \
    if (!okr_status_.ok()) return okr_status_; \
  } while (0)

#define OKR_STATUS_CONCAT_INNER_(a, b) a##b
#define OKR_STATUS_CONCAT_(a, b) OKR_STATUS_CONCAT_INNER_(a, b)

#define OKR_ASSIGN_OR_RETURN(lhs, expr) \
  OKR_ASSIGN_OR_RETURN_IMPL_(OKR_STATUS_CONCAT_(okr_statusor_, __LINE__), lhs, expr)

#define OKR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // OKR_SERVICE_OKR_STATUS_MACROS_H_
