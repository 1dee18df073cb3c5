// libFuzzer target for fugue/train/loss_curve.hpp's metrics-log reader: parse_metrics_csv on
// arbitrary bytes must either return a consistent MetricsLog (every row as wide as the header)
// or throw fugue::error; anything else (crash, other exception, sanitizer report) is a bug.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fugue/train/loss_curve.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto log =
        fugue::train::parse_metrics_csv(std::string_view(reinterpret_cast<const char*>(data), size), "<fuzz>");
    if (log.columns.empty()) std::abort();
    for (const auto& row : log.rows)
      if (row.size() != log.columns.size()) std::abort();
    (void)log.column(log.columns.front());  // present: must not throw
    try {
      (void)log.column("a column name no header holds\n");
      std::abort();  // absent: must throw
    } catch (const fugue::error&) {
    }
  } catch (const fugue::error&) {
  }
  return 0;
}
