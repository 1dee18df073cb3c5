// The training curve (train/loss_curve.hpp): the metrics log read back, refused with line and
// column when damaged, and drawn from the last run's steps on a log axis.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "fugue/train/loss_curve.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fugue::train;

namespace {
struct Scratch : fugue_test::ScratchDir {
  Scratch() : ScratchDir("loss_curve") {}
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return dir / name;
  }
};
}  // namespace

TEST_CASE("loss curve: the metrics log is read back, and damage is named", "[train][loss_curve]") {
  Scratch s;
  const auto ok = s.write("ok.csv", "step,seconds,loss\n1,0.5,2.5\n2,1.0,1.25\n");
  const MetricsLog log = read_metrics_csv(ok);
  CHECK(log.columns == std::vector<std::string>{"step", "seconds", "loss"});
  CHECK(log.column("loss") == std::vector<double>{2.5, 1.25});
  CHECK_THROWS_WITH(log.column("kl"), Catch::Contains("no column 'kl' (it has step, seconds, loss)"));
  CHECK_THROWS_WITH(read_metrics_csv(s.write("short.csv", "step,loss\n1,2\n2\n")),
                    Catch::Contains("line 3 has 1 cells, the header 2"));
  CHECK_THROWS_WITH(read_metrics_csv(s.write("text.csv", "step,loss\n1,2\n2,abc\n")),
                    Catch::Contains("line 3, column 'loss': 'abc' is not a number"));
  CHECK_THROWS_WITH(read_metrics_csv(s.dir / "absent.csv"), Catch::Contains("cannot open it"));
}

TEST_CASE("loss curve: drawn from the last run on, log axis for a positive loss", "[train][loss_curve]") {
  Scratch s;
  std::string text = "step,loss\n";
  for (int i = 1; i <= 40; ++i) text += std::to_string(i) + "," + std::to_string(500.0) + "\n";  // an old run
  for (int i = 1; i <= 200; ++i) text += std::to_string(i) + "," + std::to_string(100 * std::pow(0.98, i)) + "\n";
  const auto csv = s.write("metrics.csv", text);
  const auto png = s.dir / "loss.png";
  const LossCurve c = write_loss_curve_png(csv, png);
  CHECK(fs::file_size(png) > 100);
  CHECK(c.steps == 200);  // the old run's 40 rows are not drawn
  CHECK(c.window == 4);
  CHECK(c.frame.log_y);
  CHECK(c.frame.x0 == 1);
  CHECK(c.frame.x1 == 200);
  CHECK(c.frame.y1 == Approx(98.0).epsilon(1e-6));  // the largest value drawn, not the old 500
  CHECK(c.frame.y0 == Approx(100 * std::pow(0.98, 200)).epsilon(1e-4));
  CHECK_THROWS_WITH(write_loss_curve_png(csv, png, "accuracy"), Catch::Contains("no column 'accuracy'"));
}
