// fugue/io/html_report.hpp — a run's index.html: its pictures, its sound, its numbers.
//
// Contract
//  * HtmlReport(title) collects, in order: heading(text), paragraph(text), image(path, caption),
//    audio(path, caption), image_with_audio(image, audio, caption), link(path, text) and
//    table(header, rows). Paths are relative to the
//    directory the page is written to (the run's output directory); they are percent-encoded in
//    the page, and every text is HTML-escaped, so any file name or caption is safe.
//  * html() is the whole page (UTF-8, no external resources); write(dir) writes dir/index.html
//    atomically (io/atomic_file.hpp) and returns its path.
//  * The page checks itself: once it has loaded (and every audio element has read its metadata,
//    failed, or 5 s have passed), its script writes each image's naturalWidth into data-natural-width, each audio
//    element's readyState into data-ready-state and data-checked="1" on <body>. A headless
//    browser's DOM dump then says whether every picture and sound really loads
//    (tests/io/test_html_report.cpp).
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/io/atomic_file.hpp"

namespace fugue::io {

// Text for HTML content and attribute values.
inline std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A relative path as a URL: unreserved characters and '/' kept, every other byte %XX.
inline std::string url_path(std::string_view path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~' || c == '/';
    if (keep) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class HtmlReport {
 public:
  explicit HtmlReport(std::string title) : title_(std::move(title)) {}

  void heading(std::string_view text) { body_ += "<h2>" + html_escape(text) + "</h2>\n"; }
  void paragraph(std::string_view text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }
  void image(std::string_view path, std::string_view caption) {
    check_relative(path);
    body_ += "<figure><img src=\"" + url_path(path) + "\" alt=\"" + html_escape(caption) + "\"><figcaption>" +
             html_escape(caption) + "</figcaption></figure>\n";
  }
  void audio(std::string_view path, std::string_view caption) {
    check_relative(path);
    body_ += "<figure><audio controls preload=\"auto\" src=\"" + url_path(path) + "\"></audio><figcaption>" +
             html_escape(caption) + "</figcaption></figure>\n";
  }
  // A picture with its sound under it (a spectrogram and its audio, a piano roll and its rendering).
  void image_with_audio(std::string_view image_path, std::string_view audio_path, std::string_view caption) {
    check_relative(image_path);
    check_relative(audio_path);
    body_ += "<figure><img src=\"" + url_path(image_path) + "\" alt=\"" + html_escape(caption) + "\"><br><audio " +
             "controls preload=\"auto\" src=\"" + url_path(audio_path) + "\"></audio><figcaption>" +
             html_escape(caption) + "</figcaption></figure>\n";
  }
  void link(std::string_view path, std::string_view text) {
    check_relative(path);
    body_ += "<p><a href=\"" + url_path(path) + "\">" + html_escape(text) + "</a></p>\n";
  }
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::string t = "<table>\n<tr>";
    for (const auto& h : header) t += "<th>" + html_escape(h) + "</th>";
    t += "</tr>\n";
    for (const auto& r : rows) {
      FUGUE_CHECK(r.size() == header.size(), "HtmlReport::table: a row has ", r.size(), " cells, the header ",
                  header.size());
      t += "<tr>";
      for (const auto& c : r) t += "<td>" + html_escape(c) + "</td>";
      t += "</tr>\n";
    }
    body_ += t + "</table>\n";
  }

  std::string html() const {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(title_) +
           "</title>\n<style>\nbody{font-family:sans-serif;max-width:72em;margin:1em auto;padding:0 1em}\n"
           "figure{display:inline-block;margin:0.5em;vertical-align:top}\nimg{max-width:100%;"
           "image-rendering:pixelated;border:1px solid #ccc}\nfigcaption{font-size:0.9em;color:#444}\n"
           "table{border-collapse:collapse}\ntd,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:right}\n"
           "</style>\n</head>\n<body>\n<h1>" +
           html_escape(title_) + "</h1>\n" + body_ + kSelfCheck + "</body>\n</html>\n";
  }

  std::filesystem::path write(const std::filesystem::path& dir) const {
    const auto path = dir / "index.html";
    write_file_atomic(path, html());
    return path;
  }

 private:
  static void check_relative(std::string_view path) {
    FUGUE_CHECK(!path.empty() && std::filesystem::path(path).is_relative(), "HtmlReport: '", path,
                "' must be a path relative to the page's directory");
  }

  // Records, after loading, what a browser made of each image and audio element (see the contract).
  static constexpr const char* kSelfCheck =
      "<script>\nwindow.addEventListener('load', function () {\n"
      "  var images = Array.prototype.slice.call(document.images);\n"
      "  images.forEach(function (i) { i.setAttribute('data-natural-width', String(i.naturalWidth)); });\n"
      "  var audios = Array.prototype.slice.call(document.querySelectorAll('audio'));\n"
      "  Promise.all(audios.map(function (a) {\n"
      "    if (a.readyState >= 1 || a.error) return Promise.resolve();\n"
      "    return new Promise(function (done) {\n"
      "      a.addEventListener('loadedmetadata', done); a.addEventListener('error', done);\n"
      "      setTimeout(done, 5000);\n"
      "    });\n"
      "  })).then(function () {\n"
      "    audios.forEach(function (a) { a.setAttribute('data-ready-state', String(a.readyState)); });\n"
      "    document.body.setAttribute('data-checked', '1');\n"
      "  });\n"
      "});\n</script>\n";

  std::string title_;
  std::string body_;
};

}  // namespace fugue::io
