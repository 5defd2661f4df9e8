#include "agent/state/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "agent/state/crc32c.h"
#include "agent/state/state_check.h"
#include "common/log.h"

namespace l2tp {

namespace storev1 = ::l2tpagent::store::v1;
namespace {

constexpr char kMagic[8] = {'L', '2', 'T', 'P', 'S', 'T', '0', '1'};
constexpr size_t kHeader = 8 + 8 + 4;  // magic, payload length (LE), CRC-32C (LE)

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

void PutLe(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(path);
    return Errno("open " + path);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return Errno("read " + path);
    }
    if (n == 0) break;
    data.append(buf, n);
  }
  close(fd);
  return data;
}

absl::Status WriteFileSynced(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + path);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return Errno("write " + path);
    }
    off += n;
  }
  if (fsync(fd) != 0) {
    close(fd);
    return Errno("fsync " + path);
  }
  if (close(fd) != 0) return Errno("close " + path);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  int rc = fsync(fd);
  close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync " + dir);
}

absl::Status MakeDirs(const std::string& dir) {
  std::string partial;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      partial = dir.substr(0, i);
      if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir " + partial);
    }
  }
  return absl::OkStatus();
}

// A temp file is only ever complete between its fsync and the rename that
// follows; one found at start is the partial write of a commit that never
// happened (ENOSPC, kill -9). Nothing reads it; remove it so it is not
// mistaken for state and does not hold disk space.
void RemoveLeftoverTemp(const std::string& tmp, Store::LoadReport* report) {
  if (unlink(tmp.c_str()) == 0) {
    report->removed_temp = tmp;
    L2TP_LOG(kWarning) << "state: removed " << tmp << ", left by a commit that did not finish";
  } else if (errno != ENOENT) {
    L2TP_LOG(kWarning) << "state: cannot remove the leftover " << tmp << ": " << std::strerror(errno);
  }
}

// Reads one state file and checks its frame and its content. NotFound: the
// file does not exist; DataLoss: it is bad (the message says why); anything
// else: it could not be read.
absl::StatusOr<storev1::State> LoadStateFile(const std::string& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  auto state = Store::Decode(*bytes);
  if (!state.ok()) return state.status();
  if (auto problems = CheckStoredState(*state); !problems.empty()) {
    return absl::DataLossError(absl::StrCat("invalid content, ", SummarizeViolations(problems)));
  }
  return state;
}

bool IsBadOrMissing(const absl::Status& st) { return absl::IsNotFound(st) || absl::IsDataLoss(st); }

// Why the agent refuses to start: `problem` (the current file) and why the
// previous state cannot stand in for it.
absl::Status NoGoodState(const std::string& problem, const std::string& prev,
                         const absl::Status& prev_status) {
  if (absl::IsNotFound(prev_status)) {
    return absl::DataLossError(
        absl::StrCat(problem, "; no previous good state to fall back on (", prev,
                     " does not exist). Move the file away to start with an empty state."));
  }
  return absl::DataLossError(absl::StrCat(problem, "; and the previous state cannot be used either (", prev,
                                          ": ", prev_status.message(), ")"));
}

}  // namespace

std::string Store::Encode(const storev1::State& state) {
  std::string payload;
  state.SerializeToString(&payload);
  std::string out(kMagic, sizeof kMagic);
  PutLe(payload.size(), 8, &out);
  PutLe(Crc32c(payload.data(), payload.size()), 4, &out);
  out += payload;
  return out;
}

absl::StatusOr<storev1::State> Store::Decode(const std::string& bytes) {
  if (bytes.size() < kHeader) {
    return absl::DataLossError(
        absl::StrCat("truncated: ", bytes.size(), " bytes, shorter than the ", kHeader, "-byte header"));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return absl::DataLossError("not an l2tp-agent state file (bad magic)");
  }
  uint64_t length = GetLe(bytes, 8, 8);
  if (length != bytes.size() - kHeader) {
    return absl::DataLossError(absl::StrCat("truncated or padded: header says ", length,
                                            " payload bytes, file has ", bytes.size() - kHeader));
  }
  uint32_t crc = static_cast<uint32_t>(GetLe(bytes, 16, 4));
  if (Crc32c(bytes.data() + kHeader, length) != crc) {
    return absl::DataLossError("checksum mismatch: the file is corrupted");
  }
  storev1::State state;
  if (!state.ParseFromArray(bytes.data() + kHeader, static_cast<int>(length))) {
    return absl::DataLossError("payload does not parse");
  }
  return state;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir, LoadReport* report) {
  *report = LoadReport{};
  if (auto st = MakeDirs(dir); !st.ok()) return st;
  std::unique_ptr<Store> store(new Store(dir));
  const std::string current = store->path();
  const std::string prev = current + ".prev";
  RemoveLeftoverTemp(current + ".tmp", report);

  auto state = LoadStateFile(current);
  if (state.ok()) {
    store->state_ = *std::move(state);
    return store;
  }
  if (!IsBadOrMissing(state.status())) return state.status();  // unreadable: do not guess
  auto prev_state = LoadStateFile(prev);
  if (absl::IsNotFound(state.status()) && absl::IsNotFound(prev_state.status())) {
    report->fresh = true;  // first start
    return store;
  }
  report->problem = absl::StrCat(current, ": ",
                                 absl::IsNotFound(state.status()) ? "missing" : state.status().message());
  if (!prev_state.ok()) return NoGoodState(report->problem, prev, prev_state.status());

  // Keep the bad file for inspection, and make the good one current again.
  if (!absl::IsNotFound(state.status())) {
    std::string aside = absl::StrCat(current, ".corrupt-", time(nullptr));
    if (rename(current.c_str(), aside.c_str()) == 0) {
      report->problem += absl::StrCat(" (kept as ", aside, ")");
    }
  }
  store->state_ = *std::move(prev_state);
  report->recovered = true;
  if (auto st = WriteFileSynced(current + ".tmp", Encode(store->state_)); !st.ok()) return st;
  if (rename((current + ".tmp").c_str(), current.c_str()) != 0) return Errno("rename " + current);
  if (auto st = SyncDir(dir); !st.ok()) return st;
  return store;
}

absl::Status Store::Commit(const storev1::State& next) {
  const std::string current = path();
  const std::string tmp = current + ".tmp";
  const std::string prev = current + ".prev";
  if (auto st = WriteFileSynced(tmp, Encode(next)); !st.ok()) return st;
  // Keep the last good state as .prev; the current file never goes missing.
  if (unlink(prev.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + prev);
  if (link(current.c_str(), prev.c_str()) != 0 && errno != ENOENT) return Errno("link " + prev);
  if (rename(tmp.c_str(), current.c_str()) != 0) return Errno("rename " + tmp);
  if (auto st = SyncDir(dir_); !st.ok()) return st;
  state_ = next;
  return absl::OkStatus();
}

}  // namespace l2tp
