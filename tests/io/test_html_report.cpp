// The run page (io/html_report.hpp): escaping and paths, and the page opened in headless
// Chromium (Debian's package), whose DOM dump must show every picture and sound loaded.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "fugue/io/html_report.hpp"
#include "fugue/io/png.hpp"
#include "fugue/io/wav.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fugue::io;

namespace {

struct Scratch : fugue_test::ScratchDir {
  Scratch() : ScratchDir("html") {}
};

// The page's DOM after its script ran, as headless Chromium sees it.
std::string dump_dom(const fs::path& page) {
#ifndef FUGUE_CHROMIUM
  (void)page;
  FAIL("chromium was not found at configure time (scripts/deps.sh installs Debian's chromium)");
  return {};
#else
  const std::string cmd = std::string(FUGUE_CHROMIUM) +
                          " --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 --dump-dom 'file://" +
                          page.string() + "' 2>/dev/null";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  CHECK(pclose(p) == 0);
  return out;
#endif
}

std::vector<std::string> attribute_values(const std::string& dom, const std::string& attr) {
  std::vector<std::string> v;
  const std::regex re(attr + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), re); it != std::sregex_iterator(); ++it)
    v.push_back((*it)[1].str());
  return v;
}

}  // namespace

TEST_CASE("html report: text is escaped, paths are percent-encoded and must be relative", "[io][html]") {
  CHECK(html_escape("<a href=\"x\">R&B's</a>") == "&lt;a href=&quot;x&quot;&gt;R&amp;B&#39;s&lt;/a&gt;");
  CHECK(url_path("samples/prior 1#é.png") == "samples/prior%201%23%C3%A9.png");
  HtmlReport r("<script>alert(1)</script>");
  r.paragraph("loss < 1 & falling");
  r.table({"step", "loss"}, {{"1", "2.5"}, {"2", "1.25"}});
  const std::string html = r.html();
  CHECK(html.find("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>") != std::string::npos);
  CHECK(html.find("<p>loss &lt; 1 &amp; falling</p>") != std::string::npos);
  CHECK(html.find("<td>1.25</td>") != std::string::npos);
  CHECK_THROWS_WITH(r.image("/etc/passwd", "x"), Catch::Contains("must be a path relative"));
  CHECK_THROWS_WITH(r.table({"a", "b"}, {{"1"}}), Catch::Contains("a row has 1 cells, the header 2"));
}

TEST_CASE("html report: headless Chromium loads every picture and sound of a run page", "[io][html][browser]") {
  Scratch s;
  fs::create_directories(s.dir / "pictures");
  std::vector<std::uint8_t> rgb(37 * 11 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = std::uint8_t(i * 7);
  write_png_rgb((s.dir / "pictures" / "roll 1.png").string(), 37, 11, rgb);
  std::vector<float> tone(8000);
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * float(std::sin(0.05 * double(i)));
  const std::span<const float> ch[1] = {std::span<const float>(tone)};
  write_wav((s.dir / "tone.wav").string(), std::span<const std::span<const float>>(ch, 1), 16000, WavFormat::pcm16);

  HtmlReport good("a run");
  good.image("pictures/roll 1.png", "a piano roll");
  good.audio("tone.wav", "a tone");
  good.image_with_audio("pictures/roll 1.png", "tone.wav", "the roll and its sound");
  const std::string dom = dump_dom(good.write(s.dir));
  INFO(dom);
  CHECK(dom.find("data-checked=\"1\"") != std::string::npos);
  CHECK(attribute_values(dom, "data-natural-width") == std::vector<std::string>{"37", "37"});
  const auto ready = attribute_values(dom, "data-ready-state");
  REQUIRE(ready.size() == 2);
  for (const auto& r : ready) CHECK(std::stoi(r) >= 1);  // HAVE_METADATA or better: the WAV decodes

  // The check can fail: a missing picture reads width 0, a broken sound ready state 0.
  fs::create_directories(s.dir / "bad");
  {
    std::FILE* f = std::fopen((s.dir / "bad" / "noise.wav").c_str(), "wb");
    std::fputs("RIFF....not a wave", f);
    std::fclose(f);
  }
  HtmlReport bad("a broken run");
  bad.image("absent.png", "missing");
  bad.audio("noise.wav", "not audio");
  const std::string bad_dom = dump_dom(bad.write(s.dir / "bad"));
  CHECK(attribute_values(bad_dom, "data-natural-width") == std::vector<std::string>{"0"});
  CHECK(attribute_values(bad_dom, "data-ready-state") == std::vector<std::string>{"0"});
}
