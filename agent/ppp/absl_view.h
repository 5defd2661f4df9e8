// Debian's Abseil keeps its own absl::string_view
// (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which a std::string_view does not
// convert to: StrCat, CHexEscape and SimpleAtoi get their text through this.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace l2tp::ppp {

inline absl::string_view Av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

}  // namespace l2tp::ppp
