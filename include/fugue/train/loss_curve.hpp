// fugue/train/loss_curve.hpp — the training curve of a run, from its metrics log.
//
// Contract
//  * read_metrics_csv(path) -> MetricsLog: the CSV train::run appends (a header row of column
//    names, then one row of numbers per step); parse_metrics_csv(text | stream, source) reads
//    the same from memory (what the fuzz target drives). A missing file, an empty one, a row with another
//    number of cells or a cell that is not a number is a fugue::error naming the file, line and
//    column. column(name) gives one column (a fugue::error naming the columns there are when
//    it is absent).
//  * write_loss_curve_png(csv, png, column = "loss") -> LossCurve: column against "step", the
//    raw values in light blue and their running mean over a window of max(1, rows / 50) steps in
//    dark blue, on a log10 y axis when every value is positive, the spans' ends labelled
//    (io/plot.hpp); the PNG is written
//    atomically. When the steps start again part-way (a fresh run appended to an old log), only
//    the rows from the last start on are drawn. LossCurve says what the axes span, for the
//    caption beside the picture.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/io/plot.hpp"
#include "fugue/io/png.hpp"

namespace fugue::train {

struct MetricsLog {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;

  std::vector<double> column(const std::string& name) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) {
        std::vector<double> v;
        v.reserve(rows.size());
        for (const auto& r : rows) v.push_back(r[c]);
        return v;
      }
    std::string have;
    for (const auto& c : columns) have += (have.empty() ? "" : ", ") + c;
    FUGUE_FAIL("metrics log: no column '", name, "' (it has ", have, ")");
  }
};

namespace detail {
inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  for (char ch : line) {
    if (ch == ',')
      cells.emplace_back();
    else if (ch != '\r')
      cells.back() += ch;
  }
  return cells;
}
}  // namespace detail

// The CSV read from a stream; `source` names it in errors (the file's path, or "<memory>").
inline MetricsLog parse_metrics_csv(std::istream& in, const std::string& source) {
  MetricsLog log;
  std::string line;
  FUGUE_CHECK(std::getline(in, line) && !line.empty(), "metrics log ", source, ": no header row");
  log.columns = detail::split_csv_line(line);
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const auto cells = detail::split_csv_line(line);
    FUGUE_CHECK(cells.size() == log.columns.size(), "metrics log ", source, ": line ", number, " has ", cells.size(),
                " cells, the header ", log.columns.size());
    std::vector<double> row(cells.size());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string& s = cells[c];
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), row[c]);
      FUGUE_CHECK(ec == std::errc() && end == s.data() + s.size(), "metrics log ", source, ": line ", number,
                  ", column '", log.columns[c], "': '", s, "' is not a number");
    }
    log.rows.push_back(std::move(row));
  }
  return log;
}

inline MetricsLog parse_metrics_csv(std::string_view text, const std::string& source = "<memory>") {
  std::istringstream in{std::string(text)};
  return parse_metrics_csv(in, source);
}

inline MetricsLog read_metrics_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  FUGUE_CHECK(in.good(), "metrics log ", path.string(), ": cannot open it");
  return parse_metrics_csv(in, path.string());
}

struct LossCurve {
  io::PlotFrame frame;
  std::size_t steps = 0, window = 1;
};

inline LossCurve write_loss_curve_png(const std::filesystem::path& csv, const std::filesystem::path& png,
                                      const std::string& column = "loss") {
  const MetricsLog log = read_metrics_csv(csv);
  FUGUE_CHECK(!log.rows.empty(), "metrics log ", csv.string(), ": no steps yet");
  std::vector<double> x = log.column("step"), y = log.column(column);
  // A log that a fresh run appended to (its steps start again) is plotted from the last start on.
  std::size_t first = 0;
  for (std::size_t i = 1; i < x.size(); ++i)
    if (!(x[i] > x[i - 1])) first = i;
  x.erase(x.begin(), x.begin() + std::ptrdiff_t(first));
  y.erase(y.begin(), y.begin() + std::ptrdiff_t(first));
  LossCurve out;
  out.steps = y.size();
  out.window = std::max<std::size_t>(1, y.size() / 50);
  std::vector<double> mean(y.size());
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {  // running mean over the last `window` finite values
    if (std::isfinite(y[i])) sum += y[i], ++count;
    if (i >= out.window && std::isfinite(y[i - out.window])) sum -= y[i - out.window], --count;
    mean[i] = count ? sum / double(count) : std::numeric_limits<double>::quiet_NaN();
  }
  bool positive = true;
  for (double v : y) positive = positive && (!std::isfinite(v) || v > 0);
  io::PlotOptions o;
  o.log_y = positive;
  o.labels = true;
  const io::PlotImage p = io::line_plot({{x, y, {174, 199, 232}}, {x, mean, {31, 80, 160}}}, o);
  io::write_png(png.string(), p.image);
  out.frame = p.frame;
  return out;
}

}  // namespace fugue::train
