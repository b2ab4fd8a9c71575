// ThreadSanitizer support for absl::Mutex and absl::CondVar, linked into every executable
// of an OKR_SANITIZE=thread build (cmake/Sanitizers.cmake).
//
// Debian's libabsl is not built with -fsanitize=thread, so TSan never sees an absl::Mutex
// being locked or released and reports every member it guards as a data race. This file
// defines the Mutex / CondVar member functions that lock, unlock or wait in the
// executable (exported with -rdynamic, so calls from the shared libraries -- gRPC's locks,
// absl::Notification, absl::BlockingCounter -- reach them too). Each one tells TSan what
// happens (__tsan_mutex_pre_lock/post_lock/pre_unlock/post_unlock) around a call to the
// library's own implementation, found with dlsym(RTLD_NEXT).
//
// Waits (Mutex::Await*, CondVar::Wait*) release the mutex and take it again before they
// return: they are annotated as an unlock before the call and a lock after it. The
// library evaluates a waiter's absl::Condition inside these calls, possibly on another
// thread; TSan ignores memory accesses there (they run under the real lock).
//
// Only for TSan builds: without -fsanitize=thread this file is not compiled.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#if !ABSL_OPTION_USE_INLINE_NAMESPACE
#error "tsan_absl_sync.cc: the mangled names below assume Abseil's inline namespace"
#endif

namespace {

#define OKR_TSAN_STR2(x) #x
#define OKR_TSAN_STR(x) OKR_TSAN_STR2(x)

// The mangled name of absl::<inline namespace>::<suffix>, e.g. "5Mutex4LockEv"; a const
// member function's starts with _ZNK.
std::string Mangled(const char* suffix, bool is_const) {
  const std::string ns = OKR_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(is_const ? "_ZNK" : "_ZN") + "4absl" + std::to_string(ns.size()) + ns + suffix;
}

// The library's implementation of the member function with the mangled `suffix`, called
// as a free function with `this` first (the Itanium C++ ABI).
template <typename Fn>
Fn Real(const char* suffix, bool is_const = false) {
  const std::string name = Mangled(suffix, is_const);
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in the loaded libraries\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

using MutexFn = void (*)(absl::Mutex*);
using MutexTryFn = bool (*)(absl::Mutex*);
using CondFn = void (*)(absl::Mutex*, const absl::Condition&);
using CondDeadlineFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);
using CvWaitFn = void (*)(absl::CondVar*, absl::Mutex*);
using CvDeadlineFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Time);
using NotifyFn = void (*)(absl::Notification*);
using NotifiedWaitFn = void (*)(const absl::Notification*);
using NotifiedTimeoutFn = bool (*)(const absl::Notification*, absl::Duration);
using NotifiedDeadlineFn = bool (*)(const absl::Notification*, absl::Time);

// absl::Notification hands data over through its atomic flag as well as through its
// mutex: a waiter that finds the flag already set (the library's fast path, or the inline
// HasBeenNotified() in our code) never touches the mutex, and the library's release store
// is invisible to TSan. Notify() is annotated as a release of the notification and of its
// flag's address, and a wait that saw the flag set as an acquire of the notification; the
// inline HasBeenNotified() is an instrumented acquire load of the flag itself.
static_assert(sizeof(absl::Notification) == 2 * sizeof(absl::Mutex),
              "absl::Notification is expected to be its mutex, then its flag");
const void* NotifiedFlag(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}

// The TSan flags for the mode `mu` is held in by the calling thread (a wait keeps the
// mode): absl::Mutex's one word has the writer bit (kMuWriter in mutex.cc) set while it
// is held exclusively.
static_assert(sizeof(absl::Mutex) == sizeof(std::atomic<intptr_t>),
              "absl::Mutex is expected to be its state word");
unsigned HeldFlags(absl::Mutex* mu) {
  constexpr intptr_t kMuWriter = 0x0008;
  const intptr_t word =
      reinterpret_cast<std::atomic<intptr_t>*>(mu)->load(std::memory_order_relaxed);
  return (word & kMuWriter) != 0 ? 0 : __tsan_mutex_read_lock;
}

// Brackets a call that acquires `mu` (and holds it when it returns).
template <typename F>
auto Acquire(absl::Mutex* mu, unsigned flags, F call) {
  __tsan_mutex_pre_lock(mu, flags);
  auto result = call();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

// Brackets a call that releases `mu` held in mode `flags` and takes it again.
template <typename F>
auto ReleaseAndReacquire(absl::Mutex* mu, F call) {
  const unsigned flags = HeldFlags(mu);
  __tsan_mutex_pre_unlock(mu, flags);
  __tsan_mutex_post_unlock(mu, flags);
  return Acquire(mu, flags, call);
}

// The *WithTimeout functions are defined through the *WithDeadline ones, as the library
// does (mutex.cc). They must not call the library's *WithTimeout: that calls
// *WithDeadline through the PLT, which resolves to the definition here, and the mutex
// would be annotated as released twice ("unlock of an unlocked mutex").
absl::Time DeadlineFromTimeout(absl::Duration timeout) {
  return timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<MutexFn>("5Mutex4LockEv");
  Acquire(this, 0, [&] { return (real(this), 0); });
}

void Mutex::ReaderLock() {
  static const auto real = Real<MutexFn>("5Mutex10ReaderLockEv");
  Acquire(this, __tsan_mutex_read_lock, [&] { return (real(this), 0); });
}

bool Mutex::TryLock() {
  static const auto real = Real<MutexTryFn>("5Mutex7TryLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
                         0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<MutexTryFn>("5Mutex13ReaderTryLockEv");
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(this, flags);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::Unlock() {
  static const auto real = Real<MutexFn>("5Mutex6UnlockEv");
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<MutexFn>("5Mutex12ReaderUnlockEv");
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<CondFn>("5Mutex8LockWhenERKNS0_9ConditionE");
  Acquire(this, 0, [&] { return (real(this, cond), 0); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<CondFn>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Acquire(this, __tsan_mutex_read_lock, [&] { return (real(this, cond), 0); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  return LockWhenWithDeadline(cond, DeadlineFromTimeout(timeout));
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  return ReaderLockWhenWithDeadline(cond, DeadlineFromTimeout(timeout));
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real =
      Real<CondDeadlineFn>("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Acquire(this, 0, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real =
      Real<CondDeadlineFn>("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Acquire(this, __tsan_mutex_read_lock, [&] { return real(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  static const auto real = Real<CondFn>("5Mutex5AwaitERKNS0_9ConditionE");
  ReleaseAndReacquire(this, [&] { return (real(this, cond), 0); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  return AwaitWithDeadline(cond, DeadlineFromTimeout(timeout));
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real =
      Real<CondDeadlineFn>("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return ReleaseAndReacquire(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<CvWaitFn>("7CondVar4WaitEPNS0_5MutexE");
  ReleaseAndReacquire(mu, [&] { return (real(this, mu), 0); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  return WaitWithDeadline(mu, DeadlineFromTimeout(timeout));
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static const auto real = Real<CvDeadlineFn>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return ReleaseAndReacquire(mu, [&] { return real(this, mu, deadline); });
}

void Notification::Notify() {
  static const auto real = Real<NotifyFn>("12Notification6NotifyEv");
  __tsan_release(this);
  __tsan_release(const_cast<void*>(NotifiedFlag(this)));
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real = Real<NotifiedWaitFn>("12Notification19WaitForNotificationEv", true);
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  static const auto real = Real<NotifiedTimeoutFn>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", true);
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  static const auto real =
      Real<NotifiedDeadlineFn>("12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
