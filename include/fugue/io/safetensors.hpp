// fugue/io/safetensors.hpp — the safetensors format: reading, writing, module checkpoints.
//
// Format (https://github.com/huggingface/safetensors): 8-byte little-endian unsigned header
// length N; N bytes of UTF-8 JSON, an object mapping tensor names to
// {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} plus an optional
// "__metadata__" object of string -> string; then the data section, raw little-endian
// row-major element bytes, offsets relative to the start of the data section.
//
// Contract:
//  * SafetensorsFile::open(path) reads and validates only the header (bounded by
//    Limits::max_header_bytes, 100 MB as in the reference implementation) and keeps the file
//    descriptor open; tensors are read on demand with pread, so memory is bounded by what
//    you load. A file replaced (atomically) after open() keeps reading the old content.
//    from_memory(bytes) copies a buffer; view_memory(bytes) borrows one (caller keeps it alive).
//  * Validation at open time, each failure a fugue::error naming the source, the tensor and the
//    problem: file shorter than 8 bytes (truncated), absurd header length (> limit), header
//    length beyond the end of the file, malformed JSON / wrong JSON types / non-string
//    metadata, unknown dtype, negative or overflowing shape, byte size != numel * dtype size,
//    data_offsets out of range (truncated data section), overlapping data_offsets, holes or
//    trailing bytes in the data section (the reference implementation refuses those too),
//    the reserved name "__metadata__" used for a tensor.
//  * load<T>(name, Convert): F32/F64 to float/double. Convert::same_dtype demands the stored
//    dtype be exactly T's; Convert::exact (default) also widens F16/BF16/F32 and converts
//    integers/BOOL whose every value is exactly representable in T (an element that is not
//    is an error naming its index); Convert::rounding allows F64 -> float and rounding of
//    large integers. F8 types are listed and readable with raw(), but not converted.
//    load_integers(name) reads integer/BOOL dtypes as int64 (U64 > INT64_MAX is an error).
//  * SafetensorsWriter collects tensors (by handle: values are read when the file is written)
//    and metadata and writes a canonical file: header keys in insertion order, "__metadata__"
//    first, header padded with spaces to a multiple of 8 bytes so the data is 8-byte aligned.
//    save(path) is atomic (fugue/io/atomic_file.hpp): the previous file survives any failure.
//    Round trips are bit-exact (NaN payloads and signed zeros included).
//  * Modules: save_parameters(module, path) / load_parameters(module, path, strict) use the
//    module's visit_parameters names (the fugue/nn/module.hpp convention; only the
//    visit_parameters member is used, so io does not depend on nn). Loading is all or
//    nothing: every tensor is checked (missing, shape, dtype, and with strict=true
//    unexpected extra tensors) and read before any parameter is overwritten. Values are
//    copied into the existing parameter storage (views and optimizer state stay valid).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/tensor.hpp"
#include "fugue/io/atomic_file.hpp"
#include "fugue/io/json.hpp"

namespace fugue::io {

// ---------------------------------------------------------------------------------- dtypes
enum class Dtype { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2 };

inline constexpr std::string_view dtype_name(Dtype d) {
  switch (d) {
    case Dtype::BOOL: return "BOOL";
    case Dtype::U8: return "U8";
    case Dtype::I8: return "I8";
    case Dtype::I16: return "I16";
    case Dtype::U16: return "U16";
    case Dtype::I32: return "I32";
    case Dtype::U32: return "U32";
    case Dtype::I64: return "I64";
    case Dtype::U64: return "U64";
    case Dtype::F16: return "F16";
    case Dtype::BF16: return "BF16";
    case Dtype::F32: return "F32";
    case Dtype::F64: return "F64";
    case Dtype::F8_E4M3: return "F8_E4M3";
    case Dtype::F8_E5M2: return "F8_E5M2";
  }
  return "?";
}
inline constexpr std::size_t dtype_size(Dtype d) {
  switch (d) {
    case Dtype::BOOL:
    case Dtype::U8:
    case Dtype::I8:
    case Dtype::F8_E4M3:
    case Dtype::F8_E5M2: return 1;
    case Dtype::I16:
    case Dtype::U16:
    case Dtype::F16:
    case Dtype::BF16: return 2;
    case Dtype::I32:
    case Dtype::U32:
    case Dtype::F32: return 4;
    case Dtype::I64:
    case Dtype::U64:
    case Dtype::F64: return 8;
  }
  return 0;
}
inline std::optional<Dtype> dtype_from_name(std::string_view s) {
  for (Dtype d : {Dtype::BOOL, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::U16, Dtype::I32, Dtype::U32, Dtype::I64,
                  Dtype::U64, Dtype::F16, Dtype::BF16, Dtype::F32, Dtype::F64, Dtype::F8_E4M3, Dtype::F8_E5M2})
    if (dtype_name(d) == s) return d;
  return std::nullopt;
}
template <Scalar T>
inline constexpr Dtype dtype_of = sizeof(T) == 4 ? Dtype::F32 : Dtype::F64;

inline bool dtype_is_integer(Dtype d) {
  switch (d) {
    case Dtype::BOOL:
    case Dtype::U8:
    case Dtype::I8:
    case Dtype::I16:
    case Dtype::U16:
    case Dtype::I32:
    case Dtype::U32:
    case Dtype::I64:
    case Dtype::U64: return true;
    default: return false;
  }
}

// How load<T>() may convert the stored dtype (see the contract above).
enum class Convert { same_dtype, exact, rounding };

namespace detail {
inline std::uint64_t read_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
// Element bytes are little-endian in the file; swap on a big-endian host.
inline void le_to_native(std::byte* p, std::size_t count, std::size_t elem) {
  if constexpr (std::endian::native == std::endian::big) {
    if (elem > 1)
      for (std::size_t i = 0; i < count; ++i) std::reverse(p + i * elem, p + (i + 1) * elem);
  }
}
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while (!(mant & 0x400u));
      bits = sign | (std::uint32_t(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
    }
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}
inline float bf16_to_float(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t(h) << 16); }

// An overflow-checked element count of a shape (extents of 0 allowed; the product of the
// non-zero extents must stay below 2^62 so that strides can never overflow).
inline std::optional<std::int64_t> checked_numel(std::span<const std::int64_t> shape) {
  std::int64_t nonzero = 1;
  bool zero = false;
  for (std::int64_t e : shape) {
    if (e < 0) return std::nullopt;
    if (e == 0) {
      zero = true;
      continue;
    }
    if (nonzero > (std::int64_t(1) << 62) / e) return std::nullopt;
    nonzero *= e;
  }
  return zero ? 0 : nonzero;
}

inline std::string shape_str(std::span<const std::int64_t> s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Where the bytes come from: a memory buffer (owned or borrowed) or an open file.
class ByteSource {
 public:
  static ByteSource memory(std::shared_ptr<const std::vector<std::byte>> owned) {
    ByteSource s;
    s.mem_ = owned->data();
    s.size_ = owned->size();
    s.owned_ = std::move(owned);
    return s;
  }
  static ByteSource borrowed(const std::byte* p, std::size_t n) {
    ByteSource s;
    s.mem_ = p;
    s.size_ = n;
    return s;
  }
  static ByteSource file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    FUGUE_CHECK(fd >= 0, "cannot open '", path.string(), "': ", std::strerror(errno));
    auto handle = std::shared_ptr<int>(new int(fd), [](int* p) {
      ::close(*p);
      delete p;
    });
    struct stat st {};
    FUGUE_CHECK(::fstat(fd, &st) == 0, "cannot stat '", path.string(), "': ", std::strerror(errno));
    FUGUE_CHECK(S_ISREG(st.st_mode), "'", path.string(), "' is not a regular file");
    ByteSource s;
    s.fd_ = std::move(handle);
    s.size_ = std::uint64_t(st.st_size);
    return s;
  }

  std::uint64_t size() const noexcept { return size_; }

  // Copies [offset, offset + n) into dst; the caller has checked the range against size().
  void read(std::uint64_t offset, std::size_t n, void* dst, const std::string& what) const {
    if (n == 0) return;
    FUGUE_CHECK(offset <= size_ && n <= size_ - offset, what, ": read of ", n, " bytes at ", offset,
                " beyond the end (", size_, " bytes)");
    if (mem_) {
      std::memcpy(dst, mem_ + offset, n);
      return;
    }
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const ::ssize_t k = ::pread(*fd_, p, n, ::off_t(offset));
      if (k < 0 && errno == EINTR) continue;
      FUGUE_CHECK(k >= 0, what, ": read failed: ", std::strerror(errno));
      FUGUE_CHECK(k > 0, what, ": truncated file (it shrank after it was opened?)");
      p += k;
      n -= std::size_t(k);
      offset += std::uint64_t(k);
    }
  }

 private:
  std::shared_ptr<const std::vector<std::byte>> owned_;
  const std::byte* mem_ = nullptr;
  std::shared_ptr<int> fd_;
  std::uint64_t size_ = 0;
};
}  // namespace detail

// One tensor's header entry.
struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data section

  std::int64_t numel() const { return *detail::checked_numel(shape); }
  std::uint64_t nbytes() const noexcept { return end - begin; }
  std::string shape_str() const { return detail::shape_str(shape); }
  // The shape as a fugue Shape (throws when the rank exceeds fugue::max_rank).
  Shape fugue_shape() const {
    FUGUE_CHECK(shape.size() <= std::size_t(max_rank), "tensor '", name, "' has rank ", shape.size(),
                ", more than fugue's max_rank ", max_rank);
    return Shape::from_range(shape.begin(), shape.end());
  }
};

// ---------------------------------------------------------------------------------- reader
struct SafetensorsLimits {
  std::uint64_t max_header_bytes = 100'000'000;  // as huggingface/safetensors' MAX_HEADER_SIZE
};

class SafetensorsFile {
 public:
  using Limits = SafetensorsLimits;

  static SafetensorsFile open(const std::filesystem::path& path, Limits limits = {}) {
    return SafetensorsFile(detail::ByteSource::file(path), path.string(), limits);
  }
  // Copies the buffer.
  static SafetensorsFile from_memory(std::span<const std::byte> bytes, std::string source = "<memory>",
                                     Limits limits = {}) {
    auto owned = std::make_shared<const std::vector<std::byte>>(bytes.begin(), bytes.end());
    return SafetensorsFile(detail::ByteSource::memory(std::move(owned)), std::move(source), limits);
  }
  static SafetensorsFile from_memory(std::span<const std::uint8_t> bytes, std::string source = "<memory>",
                                     Limits limits = {}) {
    return from_memory(std::as_bytes(bytes), std::move(source), limits);
  }
  // Borrows the buffer: it must outlive the SafetensorsFile and every load from it.
  static SafetensorsFile view_memory(std::span<const std::byte> bytes, std::string source = "<memory>",
                                     Limits limits = {}) {
    return SafetensorsFile(detail::ByteSource::borrowed(bytes.data(), bytes.size()), std::move(source), limits);
  }
  static SafetensorsFile view_memory(std::span<const std::uint8_t> bytes, std::string source = "<memory>",
                                     Limits limits = {}) {
    return view_memory(std::as_bytes(bytes), std::move(source), limits);
  }

  const std::string& source() const noexcept { return source_; }
  std::size_t size() const noexcept { return tensors_.size(); }
  // Tensors in header order.
  const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(tensors_.size());
    for (const auto& t : tensors_) out.push_back(t.name);
    return out;
  }
  bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }
  const TensorInfo& info(std::string_view name) const {
    auto it = index_.find(name);
    FUGUE_CHECK(it != index_.end(), source_, ": missing tensor '", name, "'");
    return tensors_[it->second];
  }
  Shape shape(std::string_view name) const { return info(name).fugue_shape(); }
  Dtype dtype(std::string_view name) const { return info(name).dtype; }
  const std::map<std::string, std::string, std::less<>>& metadata() const noexcept { return metadata_; }
  // One metadata value, or nullopt.
  std::optional<std::string> metadata(std::string_view key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end()) return std::nullopt;
    return it->second;
  }
  std::uint64_t header_size() const noexcept { return header_len_; }
  std::uint64_t data_size() const noexcept { return data_size_; }

  // The stored bytes of a tensor (little-endian, as in the file).
  std::vector<std::byte> raw(std::string_view name) const {
    const TensorInfo& t = info(name);
    std::vector<std::byte> out(t.nbytes());
    src_.read(data_start() + t.begin, out.size(), out.data(), what(t));
    return out;
  }

  // A tensor as T (see Convert in the contract at the top of this file).
  template <Scalar T, Backend B = cpu::native>
  Tensor<T, B> load(std::string_view name, Convert conv = Convert::exact) const {
    const TensorInfo& t = info(name);
    const Shape shape = t.fugue_shape();
    const auto n = std::size_t(t.numel());
    constexpr Dtype want = dtype_of<T>;
    if (t.dtype == want) {
      std::vector<T> host(n);
      src_.read(data_start() + t.begin, n * sizeof(T), host.data(), what(t));
      detail::le_to_native(reinterpret_cast<std::byte*>(host.data()), n, sizeof(T));
      return Tensor<T, B>::from(host, shape);
    }
    FUGUE_CHECK(conv != Convert::same_dtype, what(t), ": dtype mismatch: the file stores ", dtype_name(t.dtype), ", ",
                dtype_name(want), " is required");
    std::vector<T> host(n);
    switch (t.dtype) {
      case Dtype::F64:
        FUGUE_CHECK(conv == Convert::rounding, what(t), ": dtype mismatch: the file stores F64, loading as ",
                    dtype_name(want), " would round (pass Convert::rounding to allow it)");
        convert_elements<double>(t, host, [](double v) { return T(v); });
        break;
      case Dtype::F32: convert_elements<float>(t, host, [](float v) { return T(v); }); break;
      case Dtype::F16:
        convert_elements<std::uint16_t>(t, host, [](std::uint16_t v) { return T(detail::half_to_float(v)); });
        break;
      case Dtype::BF16:
        convert_elements<std::uint16_t>(t, host, [](std::uint16_t v) { return T(detail::bf16_to_float(v)); });
        break;
      default: {
        FUGUE_CHECK(dtype_is_integer(t.dtype), what(t), ": dtype ", dtype_name(t.dtype),
                    " is not supported for conversion to ", dtype_name(want), " (read it with raw())");
        const auto ints = load_integers(name);
        for (std::size_t i = 0; i < n; ++i) {
          const T v = T(ints[i]);
          // Exactness: the value must convert back unchanged (and be inside int64's range).
          FUGUE_CHECK(
              conv == Convert::rounding || (v > T(-9.3e18) && v < T(9.2e18) && static_cast<std::int64_t>(v) == ints[i]),
              what(t), ": element ", i, " (", ints[i], ") of the ", dtype_name(t.dtype),
              " tensor is not exactly representable as ", dtype_name(want), " (pass Convert::rounding to allow it)");
          host[i] = v;
        }
      }
    }
    return Tensor<T, B>::from(host, shape);
  }

  // Integer or BOOL tensors as int64 values (row-major).
  std::vector<std::int64_t> load_integers(std::string_view name) const {
    const TensorInfo& t = info(name);
    FUGUE_CHECK(dtype_is_integer(t.dtype), what(t), ": dtype ", dtype_name(t.dtype),
                " is not an integer type (use load<float or double>)");
    const auto n = std::size_t(t.numel());
    std::vector<std::int64_t> out(n);
    switch (t.dtype) {
      case Dtype::BOOL: {
        std::vector<std::uint8_t> v(n);
        src_.read(data_start() + t.begin, n, v.data(), what(t));
        for (std::size_t i = 0; i < n; ++i) {
          FUGUE_CHECK(v[i] <= 1, what(t), ": element ", i, " of the BOOL tensor is ", int(v[i]), ", not 0 or 1");
          out[i] = v[i];
        }
        break;
      }
      case Dtype::U8: convert_elements<std::uint8_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::I8: convert_elements<std::int8_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::I16: convert_elements<std::int16_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::U16: convert_elements<std::uint16_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::I32: convert_elements<std::int32_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::U32: convert_elements<std::uint32_t>(t, out, [](auto v) { return std::int64_t(v); }); break;
      case Dtype::I64: convert_elements<std::int64_t>(t, out, [](auto v) { return v; }); break;
      case Dtype::U64: {
        std::vector<std::uint64_t> v(n);
        src_.read(data_start() + t.begin, n * 8, v.data(), what(t));
        detail::le_to_native(reinterpret_cast<std::byte*>(v.data()), n, 8);
        for (std::size_t i = 0; i < n; ++i) {
          FUGUE_CHECK(v[i] <= std::uint64_t(std::numeric_limits<std::int64_t>::max()), what(t), ": element ", i,
                      " of the U64 tensor exceeds int64");
          out[i] = std::int64_t(v[i]);
        }
        break;
      }
      default: break;
    }
    return out;
  }

  // Every tensor, in header order, as T.
  template <Scalar T, Backend B = cpu::native>
  std::vector<std::pair<std::string, Tensor<T, B>>> load_all(Convert conv = Convert::exact) const {
    std::vector<std::pair<std::string, Tensor<T, B>>> out;
    out.reserve(tensors_.size());
    for (const auto& t : tensors_) out.emplace_back(t.name, load<T, B>(t.name, conv));
    return out;
  }

 private:
  SafetensorsFile(detail::ByteSource src, std::string source, Limits limits)
      : src_(std::move(src)), source_(std::move(source)) {
    parse_header(limits);
  }

  std::uint64_t data_start() const noexcept { return 8 + header_len_; }
  std::string what(const TensorInfo& t) const { return source_ + ": tensor '" + t.name + "'"; }

  // Reads the n elements of t as S (little-endian) and maps them through f into out.
  template <class S, class Out, class F>
  void convert_elements(const TensorInfo& t, std::vector<Out>& out, F f) const {
    const std::size_t n = out.size();
    std::vector<S> v(n);
    src_.read(data_start() + t.begin, n * sizeof(S), v.data(), what(t));
    detail::le_to_native(reinterpret_cast<std::byte*>(v.data()), n, sizeof(S));
    for (std::size_t i = 0; i < n; ++i) out[i] = f(v[i]);
  }

  void parse_header(const Limits& limits) {
    const std::uint64_t size = src_.size();
    FUGUE_CHECK(size >= 8, source_, ": truncated file: ", size, " bytes, shorter than the 8-byte header length field");
    unsigned char len_bytes[8];
    src_.read(0, 8, len_bytes, source_);
    header_len_ = detail::read_le64(len_bytes);
    FUGUE_CHECK(header_len_ <= limits.max_header_bytes, source_, ": absurd header size ", header_len_, " bytes (limit ",
                limits.max_header_bytes, ")");
    FUGUE_CHECK(header_len_ <= size - 8, source_, ": header length ", header_len_,
                " bytes is beyond the end of the file (", size - 8, " bytes after the length field): truncated file?");
    data_size_ = size - 8 - header_len_;
    std::string text(header_len_, '\0');
    src_.read(8, text.size(), text.data(), source_);
    FUGUE_CHECK(!text.empty() && text[0] == '{', source_, ": malformed header: it must start with '{'");

    const json::Value root = json::parse(text, source_ + " header");
    FUGUE_CHECK(root.is_object(), source_, ": malformed header: not a JSON object");
    tensors_.reserve(root.size());
    for (std::size_t i = 0; i < root.size(); ++i) {
      const std::string& name = root.key(i);
      const json::Value& v = root.value(i);
      if (name == "__metadata__") {
        FUGUE_CHECK(v.is_object(), source_, ": __metadata__ is ", v.kind_name(), ", not an object");
        for (std::size_t k = 0; k < v.size(); ++k) {
          FUGUE_CHECK(v.value(k).is_string(), source_, ": __metadata__ value of '", v.key(k), "' is ",
                      v.value(k).kind_name(), ", not a string");
          metadata_.emplace(v.key(k), v.value(k).as_string());
        }
        continue;
      }
      tensors_.push_back(parse_entry(name, v));
    }
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
    check_layout();
  }

  TensorInfo parse_entry(const std::string& name, const json::Value& v) const {
    const std::string where = source_ + ": tensor '" + name + "'";
    FUGUE_CHECK(v.is_object(), where, ": header entry is ", v.kind_name(), ", not an object");
    TensorInfo t;
    t.name = name;
    const json::Value* dt = v.find("dtype");
    const json::Value* sh = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    FUGUE_CHECK(dt && dt->is_string(), where, ": missing or non-string \"dtype\"");
    FUGUE_CHECK(sh && sh->is_array(), where, ": missing or non-array \"shape\"");
    FUGUE_CHECK(off && off->is_array() && off->size() == 2, where,
                ": \"data_offsets\" must be an array of two integers");
    auto d = dtype_from_name(dt->as_string());
    FUGUE_CHECK(d.has_value(), where, ": unknown dtype \"", dt->as_string(), "\"");
    t.dtype = *d;
    for (std::size_t k = 0; k < sh->size(); ++k) {
      const json::Value& e = (*sh)[k];
      FUGUE_CHECK(e.is_integer() && e.as_int() >= 0, where, ": shape entry ", k, " is not a non-negative integer");
      t.shape.push_back(e.as_int());
    }
    for (std::size_t k = 0; k < 2; ++k)
      FUGUE_CHECK((*off)[k].is_integer() && (*off)[k].as_int() >= 0, where,
                  ": data_offsets must be non-negative integers");
    t.begin = std::uint64_t((*off)[0].as_int());
    t.end = std::uint64_t((*off)[1].as_int());
    FUGUE_CHECK(t.begin <= t.end, where, ": data_offsets [", t.begin, ", ", t.end, ") end before they begin");
    auto n = detail::checked_numel(t.shape);
    FUGUE_CHECK(n.has_value(), where, ": shape ", t.shape_str(), " overflows");
    const std::uint64_t want = std::uint64_t(*n);
    FUGUE_CHECK(want <= std::numeric_limits<std::uint64_t>::max() / dtype_size(t.dtype) &&
                    want * dtype_size(t.dtype) == t.nbytes(),
                where, ": data_offsets [", t.begin, ", ", t.end, ") hold ", t.nbytes(), " bytes, but ",
                dtype_name(t.dtype), " shape ", t.shape_str(), " needs ", want, " x ", dtype_size(t.dtype));
    FUGUE_CHECK(t.end <= data_size_, where, ": data_offsets [", t.begin, ", ", t.end, ") beyond the data section of ",
                data_size_, " bytes: truncated file or bad offsets");
    return t;
  }

  // The data section must be covered exactly once: no overlaps, no holes, no trailing bytes.
  void check_layout() const {
    std::vector<const TensorInfo*> order;
    order.reserve(tensors_.size());
    for (const auto& t : tensors_) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t expect = 0;
    const TensorInfo* prev = nullptr;
    for (const TensorInfo* t : order) {
      FUGUE_CHECK(t->begin >= expect, source_, ": tensor '", t->name, "': data_offsets [", t->begin, ", ", t->end,
                  ") overlap those of '", prev ? prev->name : std::string(), "' [", prev ? prev->begin : 0, ", ",
                  prev ? prev->end : 0, ")");
      FUGUE_CHECK(t->begin == expect, source_, ": tensor '", t->name, "': a hole of ", t->begin - expect,
                  " bytes in the data section before its data_offsets [", t->begin, ", ", t->end, ")");
      expect = t->end;
      if (t->end > t->begin || !prev) prev = t;
    }
    FUGUE_CHECK(expect == data_size_, source_, ": ", data_size_ - expect,
                " bytes after the last tensor are not covered by any data_offsets");
  }

  detail::ByteSource src_;
  std::string source_;
  std::uint64_t header_len_ = 0, data_size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::string, std::less<>> metadata_;
};

// ---------------------------------------------------------------------------------- writer
class SafetensorsWriter {
 public:
  using Metadata = std::map<std::string, std::string, std::less<>>;

  // Adds a tensor by handle; its values are read when the file is written.
  template <Scalar T, Backend B>
  void add(std::string name, const Tensor<T, B>& t) {
    FUGUE_CHECK(t.defined(), "safetensors: tensor '", name, "' is undefined");
    Entry e = make_entry(std::move(name), dtype_of<T>, t.shape());
    Tensor<T, B> handle = t;
    e.produce = [handle](const std::function<void(const void*, std::size_t)>& sink) {
      // Chunks of 1 MiB at most, so memory stays bounded for large tensors on any backend.
      const Tensor<T, B> c = handle.contiguous();
      const std::size_t n = std::size_t(c.numel()), chunk = (std::size_t(1) << 20) / sizeof(T);
      std::vector<T> buf(std::min(n, chunk));
      for (std::size_t i = 0; i < n; i += chunk) {
        const std::size_t k = std::min(chunk, n - i);
        B::copy_to_host(buf.data(), c.data() + i, k * sizeof(T));
        detail::le_to_native(reinterpret_cast<std::byte*>(buf.data()), k, sizeof(T));
        sink(buf.data(), k * sizeof(T));
      }
    };
    push(std::move(e));
  }
  // Adds little-endian element bytes of any dtype (copied now).
  void add_raw(std::string name, Dtype dtype, std::vector<std::int64_t> shape, std::span<const std::byte> bytes) {
    Entry e = make_entry(std::move(name), dtype, std::move(shape));
    FUGUE_CHECK(bytes.size() == e.nbytes, "safetensors: tensor '", e.name, "': ", bytes.size(), " bytes given, ",
                dtype_name(dtype), " shape ", detail::shape_str(e.shape), " needs ", e.nbytes);
    auto data = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
    e.produce = [data](const std::function<void(const void*, std::size_t)>& sink) { sink(data->data(), data->size()); };
    push(std::move(e));
  }
  // Adds int64 values as an I64 tensor.
  void add_integers(std::string name, std::span<const std::int64_t> values, std::vector<std::int64_t> shape) {
    std::vector<std::int64_t> v(values.begin(), values.end());
    detail::le_to_native(reinterpret_cast<std::byte*>(v.data()), v.size(), 8);  // native -> LE is the same swap
    add_raw(std::move(name), Dtype::I64, std::move(shape), std::as_bytes(std::span<const std::int64_t>(v)));
  }
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }
  void set_metadata(const Metadata& m) {
    for (const auto& [k, v] : m) metadata_[k] = v;
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool contains(std::string_view name) const { return names_.find(name) != names_.end(); }

  // The JSON header text (padded with spaces to a multiple of 8 bytes).
  std::string header() const {
    json::Value root = json::Value::object();
    if (!metadata_.empty()) {
      json::Value m = json::Value::object();
      for (const auto& [k, v] : metadata_) m.set(k, json::Value(v));
      root.set("__metadata__", std::move(m));
    }
    std::uint64_t off = 0;
    for (const auto& e : entries_) {
      json::Value t = json::Value::object();
      t.set("dtype", json::Value(dtype_name(e.dtype)));
      json::Value shape = json::Value::array();
      for (auto x : e.shape) shape.push_back(json::Value(x));
      t.set("shape", std::move(shape));
      json::Value offs = json::Value::array();
      offs.push_back(json::Value(off));
      offs.push_back(json::Value(off + e.nbytes));
      t.set("data_offsets", std::move(offs));
      root.set(e.name, std::move(t));
      off += e.nbytes;
    }
    std::string text = json::dump(root);
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
  }

  // Streams the whole file to sink(ptr, n).
  void write(const std::function<void(const void*, std::size_t)>& sink) const {
    const std::string h = header();
    unsigned char len[8];
    std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    sink(len, 8);
    sink(h.data(), h.size());
    for (const auto& e : entries_) {
      std::uint64_t written = 0;
      e.produce([&](const void* p, std::size_t k) {
        written += k;
        sink(p, k);
      });
      FUGUE_CHECK(written == e.nbytes, "safetensors: tensor '", e.name, "' produced ", written, " bytes, expected ",
                  e.nbytes, " (was it reshaped after add()?)");
    }
  }
  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out;
    write([&](const void* p, std::size_t k) {
      const auto* b = static_cast<const std::byte*>(p);
      out.insert(out.end(), b, b + k);
    });
    return out;
  }
  // Writes `path` atomically.
  void save(const std::filesystem::path& path) const {
    AtomicFile f(path);
    write([&](const void* p, std::size_t k) { f.write(p, k); });
    f.commit();
  }

 private:
  struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t nbytes = 0;
    std::function<void(const std::function<void(const void*, std::size_t)>&)> produce;
  };
  static Entry make_entry(std::string name, Dtype dtype, std::vector<std::int64_t> shape) {
    FUGUE_CHECK(name != "__metadata__", "safetensors: '__metadata__' is reserved and cannot name a tensor");
    auto n = detail::checked_numel(shape);
    FUGUE_CHECK(n.has_value(), "safetensors: tensor '", name, "': invalid shape ", detail::shape_str(shape));
    Entry e;
    e.name = std::move(name);
    e.dtype = dtype;
    e.nbytes = std::uint64_t(*n) * dtype_size(dtype);
    e.shape = std::move(shape);
    return e;
  }
  static Entry make_entry(std::string name, Dtype dtype, const Shape& s) {
    return make_entry(std::move(name), dtype, std::vector<std::int64_t>(s.begin(), s.end()));
  }
  void push(Entry e) {
    FUGUE_CHECK(names_.insert(e.name).second, "safetensors: duplicate tensor name '", e.name, "'");
    entries_.push_back(std::move(e));
  }

  std::vector<Entry> entries_;
  std::set<std::string, std::less<>> names_;
  Metadata metadata_;
};

// Writes named tensors (and metadata) to `path`, atomically.
template <Scalar T, Backend B>
void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, Tensor<T, B>>>& tensors,
                      const SafetensorsWriter::Metadata& metadata = {}) {
  SafetensorsWriter w;
  for (const auto& [name, t] : tensors) w.add(name, t);
  w.set_metadata(metadata);
  w.save(path);
}
template <Scalar T, Backend B>
void save_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor<T, B>>& tensors,
                      const SafetensorsWriter::Metadata& metadata = {}) {
  SafetensorsWriter w;
  for (const auto& [name, t] : tensors) w.add(name, t);
  w.set_metadata(metadata);
  w.save(path);
}

// ---------------------------------------------------------------------------------- modules
// Anything with the visit_parameters(f, prefix) member of fugue/nn/module.hpp.
namespace detail {
struct visit_probe {
  template <class P>
  void operator()(const std::string&, P&) const {}
};
}  // namespace detail
template <class M>
concept ParameterVisitable = requires(M& m) { m.visit_parameters(detail::visit_probe{}, std::string_view{}); };

// Adds every parameter value of `model` (names prefixed by `prefix.` when given).
template <ParameterVisitable M>
void add_parameters(SafetensorsWriter& w, M& model, std::string_view prefix = {}) {
  model.visit_parameters([&](const std::string& name, auto& p) { w.add(name, p.value); }, prefix);
}

template <ParameterVisitable M>
void save_parameters(M& model, const std::filesystem::path& path, const SafetensorsWriter::Metadata& metadata = {}) {
  SafetensorsWriter w;
  add_parameters(w, model);
  w.set_metadata(metadata);
  w.save(path);
}

struct LoadOptions {
  bool strict = true;  // tensors in the file that the module lacks are an error
  Convert convert = Convert::same_dtype;
  std::string prefix;  // names are "<prefix>.<param>"; strict only looks under it
};

template <ParameterVisitable M>
void load_parameters(M& model, const SafetensorsFile& file, const LoadOptions& opt) {
  std::vector<std::string> missing;
  std::set<std::string, std::less<>> seen;
  std::vector<std::function<void()>> assign;
  model.visit_parameters(
      [&](const std::string& name, auto& p) {
        seen.insert(name);
        if (!file.contains(name)) {
          missing.push_back(name);
          return;
        }
        using Tn = std::remove_cvref_t<decltype(p.value)>;
        using T = typename Tn::value_type;
        using B = typename Tn::backend;
        const TensorInfo& info = file.info(name);
        const std::vector<std::int64_t> want(p.value.shape().begin(), p.value.shape().end());
        FUGUE_CHECK(info.shape == want, file.source(), ": tensor '", name, "': shape mismatch: the file has ",
                    info.shape_str(), ", the parameter is ", p.value.shape().str());
        FUGUE_CHECK(opt.convert != Convert::same_dtype || info.dtype == dtype_of<T>, file.source(), ": tensor '", name,
                    "': dtype mismatch: the file has ", dtype_name(info.dtype), ", the parameter is ",
                    dtype_name(dtype_of<T>));
        Tensor<T, B> v = file.load<T, B>(name, opt.convert);
        assign.push_back([&p, v] { p.value.copy_from(v); });
      },
      std::string_view(opt.prefix));
  if (!missing.empty()) {
    std::string more;
    for (std::size_t i = 1; i < missing.size() && i < 8; ++i)
      more += (i > 1 ? ", '" : " (and also '") + missing[i] + "'";
    if (missing.size() > 1) more += missing.size() > 8 ? ", ...)" : ")";
    FUGUE_FAIL(file.source(), ": missing tensor '", missing[0], "'", more, ": ", missing.size(), " of ", seen.size(),
               " parameters absent");
  }
  if (opt.strict) {
    const std::string under = opt.prefix.empty() ? std::string() : opt.prefix + ".";
    for (const auto& t : file.tensors())
      FUGUE_CHECK(t.name.rfind(under, 0) != 0 || seen.count(t.name), file.source(), ": unexpected tensor '", t.name,
                  "' that the module does not have (strict load; pass strict = false to ignore it)");
  }
  for (auto& a : assign) a();
}

template <ParameterVisitable M>
void load_parameters(M& model, const SafetensorsFile& file, bool strict = true) {
  LoadOptions o;
  o.strict = strict;
  load_parameters(model, file, o);
}
template <ParameterVisitable M>
void load_parameters(M& model, const std::filesystem::path& path, bool strict = true) {
  load_parameters(model, SafetensorsFile::open(path), strict);
}

}  // namespace fugue::io
