// One line per event: "<UTC time> <LEVEL> <message>" on stderr.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace l2tp {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
bool ParseLogLevel(std::string_view text, LogLevel* out);  // debug|info|warning|error
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

// Collects a message with << and writes it as one line when destroyed.
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  template <typename T>
  LogMessage& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace l2tp

#define L2TP_LOG(level)                               \
  if (!::l2tp::LogEnabled(::l2tp::LogLevel::level)) { \
  } else ::l2tp::LogMessage(::l2tp::LogLevel::level)
