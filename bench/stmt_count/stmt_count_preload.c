/* stmt_count_preload: an LD_PRELOAD shim that counts the SQL statements a process runs
 * through SQLite, for bench/statement_counts.py (statements per use case through the real
 * okr-server binary).
 *
 *   STMT_COUNT_FILE=/tmp/counts.txt [STMT_COUNT_SQL_FILE=/tmp/sql.txt] \
 *     LD_PRELOAD=build/bench/libokr_bench_stmt_count.so okr-server ...
 *   kill -USR2 <pid>   # appends one line of counts to STMT_COUNT_FILE
 *
 * How: a constructor registers sqlite3_auto_extension(), whose entry point installs
 * sqlite3_trace_v2(SQLITE_TRACE_STMT) on every connection the process opens afterwards.
 * The shim links libsqlite3.so.0 itself, so with a server that links the same shared
 * library both resolve to one copy (one auto-extension list). Each statement that starts
 * running (sqlite3_step of a fresh or reset statement, every statement of sqlite3_exec)
 * counts once; the trigger sub-program callbacks (text "-- TRIGGER ...") do not count.
 * Counts are kept per first keyword (SELECT INSERT UPDATE DELETE BEGIN COMMIT ROLLBACK,
 * the rest as "other": PRAGMA, SAVEPOINT, RELEASE, WITH, CREATE, ...), in total and per
 * thread (up to kMaxThreads threads, with the name the thread had at its first statement).
 *
 * SIGUSR2 appends one line to STMT_COUNT_FILE (nothing if it is unset):
 *   stmt_count seq=1 pid=42 total=17 SELECT=9 INSERT=2 ... other=0 | tid=43 name=grpcpp_sync_ser
 *   total=12 SELECT=6 ... | tid=44 ...
 * (one line; `seq` counts the signals; threads listed in the order they first ran SQL).
 * With STMT_COUNT_SQL_FILE set, the same signal first appends, to that file, the count of
 * every distinct statement text per thread ("sql seq=1 tid=43 n=6 SELECT ... WHERE id = ?1")
 * and then "end seq=1", so a reader that has seen line seq=N in STMT_COUNT_FILE finds the
 * complete block N there. Texts are the unexpanded SQL (?N placeholders), whitespace
 * collapsed; a long one keeps its head and its tail joined by " ... ". The handler uses
 * only atomics, open/write/close (async-signal-safe).
 *
 * Limits: a thread id reused by a later thread adds to the earlier thread's row; more than
 * kMaxThreads threads or kMaxTexts distinct (thread, text) pairs are counted in the totals
 * and reported as `lost_threads=` / `lost_texts=`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
  kSelect,
  kInsert,
  kUpdate,
  kDelete,
  kBegin,
  kCommit,
  kRollback,
  kOther,
  kKinds,
};
static const char* const kKindNames[kKinds] = {"SELECT", "INSERT", "UPDATE",   "DELETE",
                                               "BEGIN",  "COMMIT", "ROLLBACK", "other"};

#define kMaxThreads 512
#define kMaxTexts 8192
#define kTextBytes 240

struct ThreadRow {
  atomic_long tid; /* 0: free */
  atomic_int named;
  char name[17];
  atomic_ulong counts[kKinds];
};

struct TextRow {
  atomic_ullong key; /* 0: free */
  atomic_int ready;  /* text and thread written */
  int thread;        /* index into threads_, -1: no row */
  char text[kTextBytes];
  atomic_ulong count;
};

static struct ThreadRow threads_[kMaxThreads];
static atomic_int thread_order_[kMaxThreads]; /* row index + 1 in first-use order; 0: none */
static atomic_int thread_rows_;
static struct TextRow texts_[kMaxTexts];
static atomic_ulong totals_[kKinds];
static atomic_ulong lost_threads_;
static atomic_ulong lost_texts_;
static atomic_ulong seq_;
static const char* count_file_;
static const char* sql_file_;
static __thread int my_row_ = -2; /* -2: not looked up yet; -1: table full */

static int Upper(int c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; }

static int StartsWithWord(const char* s, const char* word) {
  size_t i = 0;
  for (; word[i] != '\0'; ++i) {
    if (Upper((unsigned char)s[i]) != word[i]) return 0;
  }
  const char c = s[i];
  return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
}

static int Classify(const char* sql) {
  while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(') ++sql;
  if (StartsWithWord(sql, "SELECT")) return kSelect;
  if (StartsWithWord(sql, "INSERT")) return kInsert;
  if (StartsWithWord(sql, "UPDATE")) return kUpdate;
  if (StartsWithWord(sql, "DELETE")) return kDelete;
  if (StartsWithWord(sql, "BEGIN")) return kBegin;
  if (StartsWithWord(sql, "COMMIT") || StartsWithWord(sql, "END")) return kCommit;
  if (StartsWithWord(sql, "ROLLBACK")) return kRollback;
  return kOther;
}

static int MyThreadRow(void) {
  if (my_row_ != -2) return my_row_;
  const long tid = syscall(SYS_gettid);
  int row = -1;
  for (unsigned i = 0; i < kMaxThreads; ++i) {
    const unsigned at = ((unsigned long)tid * 2654435761u + i) % kMaxThreads;
    long expected = 0;
    if (atomic_compare_exchange_strong(&threads_[at].tid, &expected, tid)) {
      char name[17] = {0};
      prctl(PR_GET_NAME, name, 0, 0, 0);
      for (int k = 0; k < 16 && name[k] != '\0'; ++k) {
        const char c = name[k];
        threads_[at].name[k] = (c == ' ' || c == '|' || c == '=' || c < 33 || c > 126) ? '_' : c;
      }
      atomic_store(&threads_[at].named, 1);
      const int order = atomic_fetch_add(&thread_rows_, 1);
      atomic_store(&thread_order_[order], (int)at + 1);
      row = (int)at;
      break;
    }
    if (expected == tid) { /* a reused thread id: same row */
      row = (int)at;
      break;
    }
  }
  if (row < 0) atomic_fetch_add(&lost_threads_, 1);
  my_row_ = row;
  return row;
}

static uint64_t Fnv1a(const char* s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s != '\0'; ++s) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

/* Whitespace runs collapsed to one space; a text longer than the row keeps its head and its
 * tail (where the WHERE clause is), joined by " ... ". */
static void CopyText(char* out, const char* sql) {
  enum { kTail = 90 };
  char buf[4096];
  size_t n = 0;
  int space = 0;
  for (const char* p = sql; *p != '\0' && n + 1 < sizeof(buf); ++p) {
    const char c = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
    if (c == ' ' && (space || n == 0)) continue;
    space = c == ' ';
    buf[n++] = c;
  }
  buf[n] = '\0';
  if (n < kTextBytes) {
    memcpy(out, buf, n + 1);
    return;
  }
  const size_t head = kTextBytes - 1 - kTail - 5;
  memcpy(out, buf, head);
  memcpy(out + head, " ... ", 5);
  memcpy(out + head + 5, buf + n - kTail, kTail);
  out[kTextBytes - 1] = '\0';
}

static void CountText(const char* sql, int row) {
  uint64_t key = Fnv1a(sql) ^ ((uint64_t)(row + 2) * 0x9E3779B97F4A7C15ull);
  if (key == 0) key = 1;
  for (unsigned i = 0; i < kMaxTexts; ++i) {
    struct TextRow* t = &texts_[(key + i) % kMaxTexts];
    unsigned long long expected = 0;
    if (atomic_compare_exchange_strong(&t->key, &expected, key)) {
      t->thread = row;
      CopyText(t->text, sql);
      atomic_store(&t->ready, 1);
      atomic_fetch_add(&t->count, 1);
      return;
    }
    if (expected == key) {
      atomic_fetch_add(&t->count, 1);
      return;
    }
  }
  atomic_fetch_add(&lost_texts_, 1);
}

static int TraceStatement(unsigned type, void* context, void* p, void* x) {
  (void)context;
  (void)p;
  if (type != SQLITE_TRACE_STMT || x == NULL) return 0;
  const char* sql = (const char*)x;
  if (sql[0] == '-' && sql[1] == '-') return 0; /* a trigger sub-program */
  const int kind = Classify(sql);
  atomic_fetch_add(&totals_[kind], 1);
  const int row = MyThreadRow();
  if (row >= 0) atomic_fetch_add(&threads_[row].counts[kind], 1);
  if (sql_file_ != NULL) CountText(sql, row);
  return 0;
}

static int InstallTrace(sqlite3* db, const char** error, const struct sqlite3_api_routines* api) {
  (void)error;
  (void)api;
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, TraceStatement, NULL);
  return SQLITE_OK;
}

/* --- Output from the signal handler: a fixed buffer, write(2) only. --- */

struct Out {
  int fd;
  size_t len;
  char buf[16384];
};

static void Flush(struct Out* o) {
  size_t done = 0;
  while (done < o->len) {
    const ssize_t n = write(o->fd, o->buf + done, o->len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  o->len = 0;
}

static void Put(struct Out* o, const char* s) {
  for (; *s != '\0'; ++s) {
    if (o->len == sizeof(o->buf)) Flush(o);
    o->buf[o->len++] = *s;
  }
}

static void PutNumber(struct Out* o, unsigned long long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char s[24];
  for (int i = 0; i < n; ++i) s[i] = digits[n - 1 - i];
  s[n] = '\0';
  Put(o, s);
}

static void PutCounts(struct Out* o, atomic_ulong* counts) {
  unsigned long long sum = 0;
  unsigned long long v[kKinds];
  for (int k = 0; k < kKinds; ++k) sum += v[k] = atomic_load(&counts[k]);
  Put(o, " total=");
  PutNumber(o, sum);
  for (int k = 0; k < kKinds; ++k) {
    Put(o, " ");
    Put(o, kKindNames[k]);
    Put(o, "=");
    PutNumber(o, v[k]);
  }
}

static int OpenAppend(const char* path) {
  int fd;
  do {
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

static struct Out out_; /* SIGUSR2 is blocked while its handler runs: one user at a time */

static void OnSignal(int signo) {
  (void)signo;
  const int saved_errno = errno;
  if (count_file_ == NULL) {
    errno = saved_errno;
    return;
  }
  const unsigned long long seq = atomic_fetch_add(&seq_, 1) + 1;
  struct Out* o = &out_;
  if (sql_file_ != NULL && (o->fd = OpenAppend(sql_file_)) >= 0) {
    o->len = 0;
    for (unsigned i = 0; i < kMaxTexts; ++i) {
      struct TextRow* t = &texts_[i];
      if (atomic_load(&t->key) == 0 || !atomic_load(&t->ready)) continue;
      Put(o, "sql seq=");
      PutNumber(o, seq);
      Put(o, " tid=");
      PutNumber(o, t->thread >= 0 ? (unsigned long long)atomic_load(&threads_[t->thread].tid) : 0);
      Put(o, " n=");
      PutNumber(o, atomic_load(&t->count));
      Put(o, " ");
      Put(o, t->text);
      Put(o, "\n");
    }
    Put(o, "end seq=");
    PutNumber(o, seq);
    Put(o, "\n");
    Flush(o);
    close(o->fd);
  }
  if ((o->fd = OpenAppend(count_file_)) < 0) {
    errno = saved_errno;
    return;
  }
  o->len = 0;
  Put(o, "stmt_count seq=");
  PutNumber(o, seq);
  Put(o, " pid=");
  PutNumber(o, (unsigned long long)getpid());
  PutCounts(o, totals_);
  Put(o, " lost_threads=");
  PutNumber(o, atomic_load(&lost_threads_));
  Put(o, " lost_texts=");
  PutNumber(o, atomic_load(&lost_texts_));
  const int rows = atomic_load(&thread_rows_);
  for (int r = 0; r < rows && r < kMaxThreads; ++r) {
    const int at = atomic_load(&thread_order_[r]) - 1;
    if (at < 0) continue;
    struct ThreadRow* t = &threads_[at];
    Put(o, " | tid=");
    PutNumber(o, (unsigned long long)atomic_load(&t->tid));
    Put(o, " name=");
    Put(o, atomic_load(&t->named) && t->name[0] != '\0' ? t->name : "?");
    PutCounts(o, t->counts);
  }
  Put(o, "\n");
  Flush(o); /* one write(2) of one line unless it exceeds the buffer */
  close(o->fd);
  errno = saved_errno;
}

__attribute__((constructor)) static void StmtCountInit(void) {
  count_file_ = getenv("STMT_COUNT_FILE");
  if (count_file_ != NULL && count_file_[0] == '\0') count_file_ = NULL;
  sql_file_ = getenv("STMT_COUNT_SQL_FILE");
  if (sql_file_ != NULL && sql_file_[0] == '\0') sql_file_ = NULL;
  sqlite3_auto_extension((void (*)(void))InstallTrace);
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR2, &action, NULL);
}
