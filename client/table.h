// Plain-text tables like kubectl's: upper-case headers, columns aligned with
// two-space gaps, no borders, no trailing spaces.
#pragma once

#include <string>
#include <vector>

namespace l2tp::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Rows shorter than the header are padded with empty cells; longer ones
  // are truncated so every row lines up.
  void AddRow(std::vector<std::string> cells);
  size_t row_count() const { return rows_.size(); }

  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width in columns: UTF-8 continuation bytes do not count.
size_t DisplayWidth(const std::string& text);

}  // namespace l2tp::cli
