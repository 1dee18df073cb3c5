#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/io/safetensors.hpp"

namespace fs = std::filesystem;
using fugue::Shape;
using fugue::Tensor;
using namespace fugue::io;

namespace {

// A scratch directory per test case, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("fugue_test_io_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& s) const { return path / s; }
};

// Builds a file from header text and data bytes (the length field written as given).
std::vector<std::uint8_t> make_file(const std::string& header, const std::vector<std::uint8_t>& data = {},
                                    std::int64_t header_len = -1) {
  std::uint64_t n = header_len < 0 ? header.size() : std::uint64_t(header_len);
  std::vector<std::uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(std::uint8_t(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    auto f = SafetensorsFile::from_memory(std::span<const std::uint8_t>(bytes), "test.safetensors");
    for (const auto& t : f.tensors()) (void)f.raw(t.name);
  } catch (const fugue::error& e) {
    return e.what();
  }
  return "no error";
}

template <class T>
std::vector<std::uint8_t> le_bytes(std::initializer_list<T> values) {
  std::vector<std::uint8_t> out;
  for (T v : values) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
  }
  return out;
}

template <class T>
bool bits_equal(const Tensor<T>& a, const Tensor<T>& b) {
  if (!(a.shape() == b.shape())) return false;
  auto x = a.to_vector(), y = b.to_vector();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

// A module in the fugue/nn/module.hpp convention, without depending on nn.
template <class T>
struct TinyModule {
  fugue::ad::Parameter<T> weight{Tensor<T>::uniform({3, 4}, fugue::Philox{1, 0}, -1, 1)};
  fugue::ad::Parameter<T> bias{Tensor<T>::uniform({3}, fugue::Philox{1, 1}, -1, 1)};
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix) {
    f(prefix.empty() ? std::string("lin.weight") : std::string(prefix) + ".lin.weight", weight);
    f(prefix.empty() ? std::string("lin.bias") : std::string(prefix) + ".lin.bias", bias);
  }
};

}  // namespace

TEST_CASE("safetensors: float and double tensors round-trip bit-exactly, with metadata", "[io][safetensors]") {
  TempDir dir;
  const float nan_payload = std::bit_cast<float>(0x7fc12345u);
  auto a = Tensor<float>::from({1.5f, -0.0f, std::numeric_limits<float>::infinity(), nan_payload,
                                std::numeric_limits<float>::denorm_min(), 3e38f},
                               {2, 3});
  auto b = Tensor<double>::normal({4, 1, 5}, fugue::Philox{7, 0});
  auto scalar = Tensor<float>::from({42.0f}, Shape{});
  auto empty = Tensor<float>::zeros({0, 3});
  SafetensorsWriter w;
  w.add("a", a);
  w.add("layer.b", b);
  w.add("scalar", scalar);
  w.add("empty", empty);
  w.add("a_t", a.t());  // a non-contiguous view is written row-major
  w.set_metadata("format", "pt");
  w.set_metadata("note", "quotes \" and \\ and \n newline, \xc3\xa9");
  w.save(dir / "x.safetensors");

  auto f = SafetensorsFile::open(dir / "x.safetensors");
  CHECK(f.names() == std::vector<std::string>{"a", "layer.b", "scalar", "empty", "a_t"});
  CHECK(f.dtype("a") == Dtype::F32);
  CHECK(f.dtype("layer.b") == Dtype::F64);
  CHECK(f.shape("layer.b") == Shape{4, 1, 5});
  CHECK(f.shape("scalar") == Shape{});
  CHECK(f.metadata("format") == "pt");
  CHECK(f.metadata("note") == "quotes \" and \\ and \n newline, \xc3\xa9");
  CHECK_FALSE(f.metadata("absent").has_value());
  CHECK((8 + f.header_size()) % 8 == 0);  // data section 8-byte aligned
  CHECK(bits_equal(f.load<float>("a"), a));
  CHECK(bits_equal(f.load<double>("layer.b"), b));
  CHECK(f.load<float>("scalar").item() == 42.0f);
  CHECK(f.load<float>("empty").shape() == Shape{0, 3});
  CHECK(bits_equal(f.load<float>("a_t"), a.t().clone()));
  auto all = f.load_all<double>();
  REQUIRE(all.size() == 5);
  CHECK(all[1].first == "layer.b");

  // The same bytes in memory.
  auto bytes = w.bytes();
  std::ifstream in(dir / "x.safetensors", std::ios::binary);
  std::vector<char> disk((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(disk.size() == bytes.size());
  CHECK(std::memcmp(disk.data(), bytes.data(), bytes.size()) == 0);
  auto m = SafetensorsFile::view_memory(std::span<const std::byte>(bytes));
  CHECK(bits_equal(m.load<double>("layer.b"), b));
}

TEST_CASE("safetensors: tensors larger than the 1 MiB write chunk", "[io][safetensors]") {
  TempDir dir;
  auto big = Tensor<float>::uniform({3, 200001}, fugue::Philox{3, 0});
  save_safetensors(dir / "big.safetensors", std::vector<std::pair<std::string, Tensor<float>>>{{"big", big}});
  auto f = SafetensorsFile::open(dir / "big.safetensors");
  CHECK(bits_equal(f.load<float>("big"), big));
}

TEST_CASE("safetensors: F16, BF16, integer and BOOL dtypes convert where exact", "[io][safetensors]") {
  // F16: 1.0, -2.0, 65504 (max), smallest subnormal 2^-24, inf; BF16: 1.0, -3.0.
  std::vector<std::uint8_t> data = le_bytes<std::uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00});
  auto bf = le_bytes<std::uint16_t>({0x3f80, 0xc040});
  auto i32 = le_bytes<std::int32_t>({-7, 16777217});
  auto i64 = le_bytes<std::int64_t>({5, -(std::int64_t(1) << 40)});
  auto f64 = le_bytes<double>({0.1});
  std::vector<std::uint8_t> boolean{1, 0, 1}, f8{0x38};
  const std::size_t o1 = data.size(), o2 = o1 + bf.size(), o3 = o2 + i32.size(), o4 = o3 + i64.size(),
                    o5 = o4 + f64.size(), o6 = o5 + 3, o7 = o6 + 1;
  for (auto* v : {&bf, &i32, &i64, &f64, &boolean, &f8}) data.insert(data.end(), v->begin(), v->end());
  auto off = [](std::size_t a, std::size_t b) { return "[" + std::to_string(a) + "," + std::to_string(b) + "]"; };
  std::string h = R"({"h":{"dtype":"F16","shape":[5],"data_offsets":)" + off(0, o1) +
                  R"(},"bf":{"dtype":"BF16","shape":[2],"data_offsets":)" + off(o1, o2) +
                  R"(},"i":{"dtype":"I32","shape":[2],"data_offsets":)" + off(o2, o3) +
                  R"(},"l":{"dtype":"I64","shape":[2,1],"data_offsets":)" + off(o3, o4) +
                  R"(},"d":{"dtype":"F64","shape":[],"data_offsets":)" + off(o4, o5) +
                  R"(},"b":{"dtype":"BOOL","shape":[3],"data_offsets":)" + off(o5, o6) +
                  R"(},"f8":{"dtype":"F8_E4M3","shape":[1],"data_offsets":)" + off(o6, o7) + "}}";
  auto bytes = make_file(h, data);
  auto f = SafetensorsFile::from_memory(std::span<const std::uint8_t>(bytes));
  CHECK(f.load<float>("h").to_vector() ==
        std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), std::numeric_limits<float>::infinity()});
  CHECK(f.load<double>("bf").to_vector() == std::vector<double>{1.0, -3.0});
  CHECK(f.load_integers("i") == std::vector<std::int64_t>{-7, 16777217});
  CHECK(f.load<double>("i").to_vector() == std::vector<double>{-7.0, 16777217.0});
  CHECK_THROWS_WITH(f.load<float>("i"), Catch::Contains("tensor 'i'") && Catch::Contains("element 1") &&
                                            Catch::Contains("not exactly representable"));
  CHECK(f.load<float>("i", Convert::rounding).to_vector()[1] == 16777216.0f);
  CHECK(f.load<double>("l").shape() == Shape{2, 1});
  CHECK(f.load_integers("l")[1] == -(std::int64_t(1) << 40));
  CHECK(f.load<double>("d").item() == 0.1);
  CHECK_THROWS_WITH(f.load<float>("d"), Catch::Contains("tensor 'd'") && Catch::Contains("dtype mismatch"));
  CHECK(f.load<float>("d", Convert::rounding).item() == 0.1f);
  CHECK_THROWS_WITH(f.load<float>("h", Convert::same_dtype), Catch::Contains("dtype mismatch"));
  CHECK(f.load<float>("b").to_vector() == std::vector<float>{1, 0, 1});
  CHECK_THROWS_WITH(f.load<float>("f8"), Catch::Contains("F8_E4M3 is not supported"));
  CHECK(f.raw("f8").size() == 1);
  CHECK_THROWS_WITH(f.load_integers("h"), Catch::Contains("not an integer type"));
  CHECK_THROWS_WITH(f.load<float>("nope"), Catch::Contains("missing tensor 'nope'"));
}

TEST_CASE("safetensors: every malformed file is a fugue::error naming the problem", "[io][safetensors]") {
  const std::string ok_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<std::uint8_t> eight(8, 0);
  auto header = [](const std::string& body) { return "{" + body + "}"; };
  struct Case {
    const char* what;
    std::vector<std::uint8_t> bytes;
    const char* expect;
  };
  std::vector<std::uint8_t> short5{1, 2, 3, 4, 5};
  auto valid = make_file(header(ok_entry), eight);
  std::vector<std::uint8_t> truncated(valid.begin(), valid.end() - 3);
  const std::vector<Case> cases = {
      {"empty", {}, "truncated file: 0 bytes"},
      {"5 bytes", short5, "truncated file: 5 bytes"},
      {"absurd header", make_file("{}", {}, std::int64_t(1) << 40), "absurd header size 1099511627776"},
      {"header beyond file", make_file("{}", {}, 1000), "header length 1000 bytes is beyond the end of the file"},
      {"truncated data", truncated, "tensor 'w': data_offsets [0, 8) beyond the data section of 5 bytes"},
      {"not an object", make_file("[1]"), "must start with '{'"},
      {"bad json", make_file("{\"w\":"), "malformed JSON at byte 5"},
      {"bad json 2", make_file("{\"w\" 1}"), "malformed JSON"},
      {"entry not object", make_file(header(R"("w":3)")), "tensor 'w': header entry is an integer"},
      {"no dtype", make_file(header(R"("w":{"shape":[2],"data_offsets":[0,8]})"), eight),
       "tensor 'w': missing or non-string \"dtype\""},
      {"unknown dtype", make_file(header(R"("w":{"dtype":"F128","shape":[2],"data_offsets":[0,8]})"), eight),
       "tensor 'w': unknown dtype \"F128\""},
      {"negative shape", make_file(header(R"("w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), eight),
       "tensor 'w': shape entry 0 is not a non-negative integer"},
      {"float shape", make_file(header(R"("w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), eight),
       "shape entry 0"},
      {"overflowing shape",
       make_file(header(R"("w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"), eight),
       "shape [4294967296, 4294967296] overflows"},
      {"size mismatch", make_file(header(R"("w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), eight),
       "tensor 'w': data_offsets [0, 8) hold 8 bytes, but F32 shape [3] needs 3 x 4"},
      {"reversed offsets", make_file(header(R"("w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), eight),
       "end before they begin"},
      {"offsets arity", make_file(header(R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0]})"), eight),
       "array of two integers"},
      {"out of range", make_file(header(R"("w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]})"), eight),
       "tensor 'w': data_offsets [4, 12) beyond the data section of 8 bytes"},
      {"overlap", make_file(header(ok_entry + R"(,"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})"), eight),
       "tensor 'v': data_offsets [4, 8) overlap those of 'w' [0, 8)"},
      {"hole", make_file(header(R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})"), eight),
       "tensor 'w': a hole of 4 bytes"},
      {"trailing", make_file(header(R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), eight),
       "4 bytes after the last tensor"},
      {"duplicate", make_file(header(ok_entry + "," + ok_entry), eight), "duplicate key \"w\""},
      {"metadata not strings", make_file(header(R"("__metadata__":{"a":1})")),
       "__metadata__ value of 'a' is an integer"},
      {"metadata not object", make_file(header(R"("__metadata__":"x")")), "__metadata__ is a string"},
      {"deep json", make_file("{\"w\":" + std::string(500, '[') + std::string(500, ']') + "}"), "nesting deeper than"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string e = error_of(c.bytes);
    CHECK_THAT(e, Catch::Contains(c.expect));
    CHECK_THAT(e, Catch::StartsWith("fugue: "));
  }
  // The header-size limit is configurable.
  SafetensorsFile::Limits small{16};
  auto big_header = make_file(header(ok_entry), eight);
  CHECK_THROWS_WITH(SafetensorsFile::from_memory(std::span<const std::uint8_t>(big_header), "m", small),
                    Catch::Contains("absurd header size"));
  // Files too: a missing file, a directory.
  TempDir dir;
  CHECK_THROWS_WITH(SafetensorsFile::open(dir / "missing.safetensors"), Catch::Contains("missing.safetensors"));
  CHECK_THROWS_WITH(SafetensorsFile::open(dir.path), Catch::Contains("not a regular file"));
}

TEST_CASE("safetensors: writer rejects duplicate and reserved names", "[io][safetensors]") {
  SafetensorsWriter w;
  w.add("a", Tensor<float>::zeros({2}));
  CHECK_THROWS_WITH(w.add("a", Tensor<float>::zeros({2})), Catch::Contains("duplicate tensor name 'a'"));
  CHECK_THROWS_WITH(w.add("__metadata__", Tensor<float>::zeros({2})), Catch::Contains("reserved"));
  std::vector<std::byte> three(3);
  CHECK_THROWS_WITH(w.add_raw("r", Dtype::F32, {1}, three), Catch::Contains("3 bytes given"));
  std::vector<std::int64_t> ints{1, -2, 3};
  w.add_integers("ints", ints, {3});
  auto bytes = w.bytes();
  auto f = SafetensorsFile::view_memory(std::span<const std::byte>(bytes));
  CHECK(f.load_integers("ints") == ints);
}

TEST_CASE("safetensors: seed corpus files from an independent (Python) writer", "[io][safetensors]") {
  const fs::path dir = FUGUE_SAFETENSORS_CORPUS;
  REQUIRE(fs::exists(dir / "valid_mixed.safetensors"));
  auto f = SafetensorsFile::open(dir / "valid_mixed.safetensors");
  CHECK(f.metadata("format") == "pt");
  CHECK(f.load<float>("weight").to_vector() == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK(f.shape("weight") == Shape{2, 3});
  CHECK(f.load<double>("bias").to_vector() == std::vector<double>{-0.5, 0.25});
  CHECK(f.load_integers("steps") == std::vector<std::int64_t>{7});
  // Every invalid_* file fails with a fugue::error and every valid_* one loads.
  int valid = 0, invalid = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    INFO(name);
    if (name.rfind("invalid_", 0) == 0) {
      CHECK_THROWS_AS(([&] {
                        auto g = SafetensorsFile::open(e.path());
                        for (const auto& t : g.tensors()) (void)g.raw(t.name);
                      }()),
                      fugue::error);
      ++invalid;
    } else if (name.rfind("valid_", 0) == 0) {
      auto g = SafetensorsFile::open(e.path());
      for (const auto& t : g.tensors()) (void)g.raw(t.name);
      ++valid;
    }
  }
  CHECK(valid >= 3);
  CHECK(invalid >= 5);
}

TEST_CASE("safetensors: save_parameters / load_parameters on a module", "[io][safetensors]") {
  TempDir dir;
  TinyModule<float> src;
  save_parameters(src, dir / "m.safetensors", {{"model", "tiny"}});
  auto f = SafetensorsFile::open(dir / "m.safetensors");
  CHECK(f.names() == std::vector<std::string>{"lin.weight", "lin.bias"});
  CHECK(f.metadata("model") == "tiny");

  TinyModule<float> dst;
  dst.weight.value.fill(0);
  dst.bias.value.fill(0);
  const float* storage = dst.weight.value.data();
  load_parameters(dst, dir / "m.safetensors");
  CHECK(bits_equal(dst.weight.value, src.weight.value));
  CHECK(bits_equal(dst.bias.value, src.bias.value));
  CHECK(dst.weight.value.data() == storage);  // copied into the existing storage

  SECTION("missing tensor") {
    SafetensorsWriter w;
    w.add("lin.weight", src.weight.value);
    w.save(dir / "missing.safetensors");
    CHECK_THROWS_WITH(load_parameters(dst, dir / "missing.safetensors"),
                      Catch::Contains("missing tensor 'lin.bias'") && Catch::Contains("1 of 2 parameters absent"));
  }
  SECTION("unexpected extra tensor (strict) and non-strict") {
    SafetensorsWriter w;
    add_parameters(w, src);
    w.add("lin.extra", Tensor<float>::zeros({1}));
    w.save(dir / "extra.safetensors");
    CHECK_THROWS_WITH(load_parameters(dst, dir / "extra.safetensors"),
                      Catch::Contains("unexpected tensor 'lin.extra'"));
    CHECK_NOTHROW(load_parameters(dst, dir / "extra.safetensors", /*strict=*/false));
  }
  SECTION("shape mismatch, and the load is all or nothing") {
    SafetensorsWriter w;
    auto changed = Tensor<float>::full({3, 4}, 9.0f);
    w.add("lin.weight", changed);
    w.add("lin.bias", Tensor<float>::zeros({4}));
    w.save(dir / "shape.safetensors");
    const auto before = dst.weight.value.clone();
    CHECK_THROWS_WITH(load_parameters(dst, dir / "shape.safetensors"),
                      Catch::Contains("tensor 'lin.bias': shape mismatch: the file has [4], the parameter is [3]"));
    CHECK(bits_equal(dst.weight.value, before));  // lin.weight was not overwritten
  }
  SECTION("dtype mismatch") {
    TinyModule<double> d64;
    save_parameters(d64, dir / "f64.safetensors");
    CHECK_THROWS_WITH(load_parameters(dst, dir / "f64.safetensors"),
                      Catch::Contains("tensor 'lin.weight': dtype mismatch: the file has F64, the parameter is F32"));
  }
  SECTION("a combined checkpoint under prefixes") {
    SafetensorsWriter w;
    add_parameters(w, src, "model");
    w.add("optim.step_tensor", Tensor<float>::zeros({1}));
    w.save(dir / "ckpt.safetensors");
    LoadOptions o;
    o.prefix = "model";
    TinyModule<float> fresh;
    load_parameters(fresh, SafetensorsFile::open(dir / "ckpt.safetensors"), o);  // strict, but only under model.
    CHECK(bits_equal(fresh.bias.value, src.bias.value));
  }
}

TEST_CASE("safetensors: an interrupted save leaves the previous checkpoint intact", "[io][safetensors]") {
  TempDir dir;
  TinyModule<float> m;
  const fs::path ckpt = dir / "model.safetensors";
  save_parameters(m, ckpt);
  const auto good = m.weight.value.clone();

  // A tensor whose write fails midway: the writer's producer throws after the header.
  SafetensorsWriter w;
  add_parameters(w, m);
  auto reshaped = Tensor<float>::zeros({2, 2});
  w.add("late", reshaped);
  reshaped = Tensor<float>::zeros({1});  // the writer holds its own handle: no effect
  m.weight.value.fill(5.0f);
  {
    AtomicFile f(ckpt);
    f.write(std::string_view("partial garbage"));
    // dropped without commit (as an exception would): the destructor removes the temporary
  }
  CHECK_THROWS_AS(write_file_atomic(ckpt,
                                    [&](AtomicFile& f) {
                                      w.write([&](const void* p, std::size_t n) {
                                        if (f.bytes_written() > 100) throw fugue::error("simulated disk failure");
                                        f.write(p, n);
                                      });
                                    }),
                  fugue::error);
  TinyModule<float> back;
  load_parameters(back, ckpt);
  CHECK(bits_equal(back.weight.value, good));
  // No temporaries are left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("safetensors: an open file keeps its content when the path is replaced", "[io][safetensors]") {
  TempDir dir;
  const fs::path p = dir / "c.safetensors";
  save_safetensors(p, std::vector<std::pair<std::string, Tensor<float>>>{{"x", Tensor<float>::full({4}, 1.0f)}});
  auto old = SafetensorsFile::open(p);
  save_safetensors(p, std::vector<std::pair<std::string, Tensor<float>>>{{"x", Tensor<float>::full({4}, 2.0f)}});
  CHECK(old.load<float>("x").to_vector() == std::vector<float>(4, 1.0f));
  CHECK(SafetensorsFile::open(p).load<float>("x").to_vector() == std::vector<float>(4, 2.0f));
}
