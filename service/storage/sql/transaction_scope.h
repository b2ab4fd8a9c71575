// TransactionScope: refuses nested transactions on one store. Each store's
// RunInTransaction / RunReadOnly / Ping opens a scope naming the store; a scope opened
// while the same thread already runs a transaction of that store is nested(), and the
// store fails the call with NestedTransactionError() instead of waiting on itself (its
// writer lock, its connection pool or its own row locks) until a timeout.
//
//   TransactionScope scope(this);
//   if (scope.nested()) return NestedTransactionError();
#ifndef OKR_SERVICE_STORAGE_SQL_TRANSACTION_SCOPE_H_
#define OKR_SERVICE_STORAGE_SQL_TRANSACTION_SCOPE_H_

#include "absl/status/status.h"

namespace okr::storage::sql {

// The stores the current thread runs a transaction on, innermost first.
class TransactionScope {
 public:
  explicit TransactionScope(const void* store) : store_(store), outer_(innermost_) {
    for (const TransactionScope* s = outer_; s != nullptr; s = s->outer_) {
      if (s->store_ == store) nested_ = true;
    }
    innermost_ = this;
  }
  ~TransactionScope() { innermost_ = outer_; }
  TransactionScope(const TransactionScope&) = delete;
  TransactionScope& operator=(const TransactionScope&) = delete;
  bool nested() const { return nested_; }

 private:
  static inline thread_local const TransactionScope* innermost_ = nullptr;
  const void* const store_;
  const TransactionScope* const outer_;
  bool nested_ = false;
};

// FAILED_PRECONDITION for a nested transaction.
inline absl::Status NestedTransactionError() {
  return absl::FailedPreconditionError(
      "transactions do not nest: the callback of a transaction started another one on the "
      "same store");
}

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_TRANSACTION_SCOPE_H_
