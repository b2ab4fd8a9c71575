/* rebind_resolver: an LD_PRELOAD shim that plays a DNS-rebinding attacker for exactly one
 * name, so tests can check that a host name re-resolving to an inside address is refused
 * at connection time (not only when the subscription is created).
 *
 *   LD_PRELOAD=librebind_resolver.so okr-server ...
 *
 * getaddrinfo("rebind.okr.test", ...): the first call in the process answers 203.0.113.7
 * (a documentation address: public, never connected to), every later call 127.0.0.1.
 * Every other name goes to the real getaddrinfo (dlsym RTLD_NEXT); answers are built by the
 * real getaddrinfo from a numeric host, so freeaddrinfo frees them as usual. Thread-safe.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef int (*getaddrinfo_fn)(const char*, const char*, const struct addrinfo*,
                              struct addrinfo**);

static const char kRebindName[] = "rebind.okr.test";
static const char kRebindNameDot[] = "rebind.okr.test.";
static atomic_int calls;

static getaddrinfo_fn real_getaddrinfo(void) {
  static _Atomic(getaddrinfo_fn) real;
  getaddrinfo_fn fn = atomic_load(&real);
  if (fn == NULL) {
    fn = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    atomic_store(&real, fn);
  }
  return fn;
}

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  getaddrinfo_fn real = real_getaddrinfo();
  if (real == NULL) return EAI_SYSTEM;
  if (node == NULL || (strcasecmp(node, kRebindName) != 0 &&
                       strcasecmp(node, kRebindNameDot) != 0)) {
    return real(node, service, hints, res);
  }
  const char* answer = atomic_fetch_add(&calls, 1) == 0 ? "203.0.113.7" : "127.0.0.1";
  struct addrinfo numeric;
  memset(&numeric, 0, sizeof(numeric));
  if (hints != NULL) numeric = *hints;
  numeric.ai_flags |= AI_NUMERICHOST;
  numeric.ai_flags &= ~AI_CANONNAME;
  return real(answer, service, &numeric, res);
}
