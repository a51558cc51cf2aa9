// targetprop native engine: a thin N-API layer over libtorch (ATen + autograd).
//
// Design: one JS-visible class (NativeTensor) that owns an at::Tensor, and a set of free
// functions. Every function runs inside `guard`, which turns any libtorch / C++ error into a
// JS Error naming the op and the shapes of its tensor arguments; nothing here may abort the
// process. Element-wise ops are dispatched by name to keep this file short; the typed surface
// lives in src/engine/tensor.ts.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/cuda.h>
#include <c10/core/GradMode.h>

#include <atomic>
#include <cmath>
#include <unistd.h>
#include <dlfcn.h>
#include <mutex>
#include <unordered_map>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::atomic<int64_t> g_live{0};  // tensors held by JS and not yet disposed (leak checks)

// A caching CPU allocator for large tensor buffers. Freed blocks of >= 256 KiB are kept by size
// and handed out again, as PyTorch's CUDA allocator does. Without it, glibc served them from a
// heap that the JS wrappers' small, GC-timed allocations pin: a Mixer LDRL step reached 11-16 GB
// RSS (and was killed) for < 300 MB of live tensors. Forcing mmap instead cost 1.5x on LeNet.
class CachingCPUAllocator final : public at::Allocator {
 public:
  static constexpr size_t kLarge = 256 << 10;  // smaller blocks are freed at once
  size_t limit = size_t(2) << 30;               // most bytes kept cached (TARGETPROP_CPU_CACHE_MB)

  at::DataPtr allocate(size_t n) const override {
    size_t size = n < kLarge ? n : roundUp(n);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> g(mu);
      if (size >= kLarge) {
        auto it = cache.find(size);
        if (it != cache.end() && !it->second.empty()) {
          p = it->second.back();
          it->second.pop_back();
          cached -= size;
        }
      }
    }
    if (!p) p = c10::alloc_cpu(size);
    {
      std::lock_guard<std::mutex> g(mu);
      sizes[p] = size;
    }
    // data == context, so libtorch kernels (oneDNN) may use raw_deleter.
    return {p, p, &release, at::Device(at::DeviceType::CPU)};
  }
  at::DeleterFnPtr raw_deleter() const override { return &release; }
  static void release(void* p);
  static size_t roundUp(size_t n) { return (n + (64 << 10) - 1) & ~size_t((64 << 10) - 1); }

  mutable std::mutex mu;
  mutable std::unordered_map<size_t, std::vector<void*>> cache;
  mutable std::unordered_map<void*, size_t> sizes;
  mutable size_t cached = 0;
};
CachingCPUAllocator g_alloc;

void CachingCPUAllocator::release(void* p) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> g(g_alloc.mu);
    auto it = g_alloc.sizes.find(p);
    size_t size = it == g_alloc.sizes.end() ? 0 : it->second;
    if (it != g_alloc.sizes.end()) g_alloc.sizes.erase(it);
    if (size >= kLarge && g_alloc.cached + size <= g_alloc.limit) {
      g_alloc.cache[size].push_back(p);
      g_alloc.cached += size;
      return;
    }
  }
  c10::free_cpu(p);
}

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::FunctionReference* ctor;
  at::Tensor t;
  bool live = false;

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeTensor",
                       {InstanceMethod("dispose", &NativeTensor::Dispose),
                        InstanceAccessor("disposed", &NativeTensor::Disposed, nullptr)});
  }
  explicit NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {}
  ~NativeTensor() override { release(); }

  void set(at::Tensor v) {
    release();
    t = std::move(v);
    live = true;
    g_live++;
  }
  void release() {
    if (live) {
      t = at::Tensor();
      live = false;
      g_live--;
    }
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !live); }
};
Napi::FunctionReference* NativeTensor::ctor = nullptr;

// ---------- devices ----------

// The device creation ops use when not told one (a run's --device); tensors then stay where
// they are made, and ops never move data between devices on their own.
at::Device g_device(at::kCPU);

at::Device parseDevice(const std::string& s) {
  at::Device d(s);  // throws on a malformed name
  if (d.is_cuda()) {
#ifndef TARGETPROP_CUDA
    throw std::invalid_argument("device '" + s + "': this native engine was built against a CPU-only libtorch; for CUDA, build it against a CUDA libtorch (LIBTORCH=/path/to/libtorch, or the one inside a pip-installed PyTorch: README, GPU) and run npm run build:native");
#endif
    if (!torch::cuda::is_available()) throw std::invalid_argument("device '" + s + "': no CUDA device is visible (torch::cuda::is_available() is false)");
    if (d.has_index() && d.index() >= static_cast<int64_t>(torch::cuda::device_count()))
      throw std::invalid_argument("device '" + s + "': only " + std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
  }
  return d;
}

// ---------- argument helpers ----------

// The device argument of a creation op at position i, when given (a string), else the default.
at::Device devArg(const Napi::CallbackInfo& info, size_t i);

std::string shapeStr(const at::Tensor& t) {
  std::ostringstream s;
  s << "[";
  for (int64_t i = 0; i < t.dim(); i++) s << (i ? "," : "") << t.size(i);
  s << "]";
  return s.str();
}

bool isTensor(const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(NativeTensor::ctor->Value());
}

at::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !isTensor(info[i]))
    throw std::invalid_argument("argument " + std::to_string(i) + " must be a tensor");
  NativeTensor* n = NativeTensor::Unwrap(info[i].As<Napi::Object>());
  if (!n->live) throw std::invalid_argument("argument " + std::to_string(i) + " is a disposed tensor");
  return n->t;
}

c10::optional<at::Tensor> OT(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  return T(info, i);
}

double D(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw std::invalid_argument("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}
// Integers cross from JS as doubles: anything not an exact integer below 2^53 is refused here,
// before a cast could turn NaN or 1e300 into an arbitrary int64.
constexpr double kMaxSafeInt = 9007199254740991.0;
int64_t toInt(double v, size_t i) {
  if (!(v == std::floor(v)) || std::fabs(v) > kMaxSafeInt)
    throw std::invalid_argument("argument " + std::to_string(i) + " must be an integer (|n| < 2^53), got " + std::to_string(v));
  return static_cast<int64_t>(v);
}
int64_t I(const Napi::CallbackInfo& info, size_t i) { return toInt(D(info, i), i); }
at::Device devArg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && info[i].IsString() ? parseDevice(info[i].As<Napi::String>().Utf8Value()) : g_device;
}
bool B(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].ToBoolean().Value(); }
std::string S(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString())
    throw std::invalid_argument("argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> IL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray())
    throw std::invalid_argument("argument " + std::to_string(i) + " must be an array of integers");
  auto a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) throw std::invalid_argument("argument " + std::to_string(i) + " must hold integers");
    out[k] = toInt(v.As<Napi::Number>().DoubleValue(), i);
  }
  return out;
}

// ---------- limits checked before libtorch runs (an out-of-range index in some CPU kernels
// writes outside its buffer or segfaults; a huge view makes a reduction run for hours) ----------

// Most elements any tensor (or view) may have: 2^31. Materialised tensors are also held to the
// machine's physical memory, so an impossible allocation fails here instead of in the OOM killer.
constexpr int64_t kMaxNumel = int64_t(1) << 31;
int64_t physicalBytes() {
  static int64_t b = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<int64_t>(sysconf(_SC_PAGE_SIZE));
  return b > 0 ? b : INT64_MAX;
}
// Checks a shape's sizes (>= 0) and element count; `elemBytes` > 0 also checks the memory it needs.
void checkShape(const std::vector<int64_t>& shape, const char* what, int64_t elemBytes = 0) {
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument(std::string(what) + ": sizes must be >= 0, got " + std::to_string(d));
    if (d && n > kMaxNumel / d) throw std::invalid_argument(std::string(what) + ": more than 2^31 elements");
    n *= d;
  }
  if (n > kMaxNumel) throw std::invalid_argument(std::string(what) + ": more than 2^31 elements");
  if (elemBytes && n * elemBytes > physicalBytes())
    throw std::invalid_argument(std::string(what) + ": needs " + std::to_string(n * elemBytes >> 20) + " MiB, more than this machine's memory");
}
// Integer index tensor with every value in [lo, hi): what `what` needs before it may index.
void checkIndices(const at::Tensor& idx, int64_t lo, int64_t hi, const std::string& what) {
  if (!at::isIntegralType(idx.scalar_type(), false)) throw std::invalid_argument(what + ": indices must be an integer tensor, got " + c10::toString(idx.scalar_type()));
  if (!idx.numel()) return;
  auto mn = idx.min().item<int64_t>(), mx = idx.max().item<int64_t>();
  if (mn < lo || mx >= hi)
    throw std::invalid_argument(what + ": index " + std::to_string(mn < lo ? mn : mx) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
}
void checkSameShape(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  if (!a.sizes().equals(b.sizes())) throw std::invalid_argument(what + ": shapes " + shapeStr(a) + " and " + shapeStr(b) + " must match");
}
// A dim argument in [-rank, rank).
int64_t checkDim(int64_t d, const at::Tensor& t, const char* what) {
  int64_t r = t.dim();
  if (d < -r || d >= (r ? r : 1)) throw std::invalid_argument(std::string(what) + ": dim " + std::to_string(d) + " out of range for rank " + std::to_string(r));
  return d < 0 ? d + r : d;
}

std::vector<at::Tensor> TL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray())
    throw std::invalid_argument("argument " + std::to_string(i) + " must be an array of tensors");
  auto a = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!isTensor(v)) throw std::invalid_argument("argument " + std::to_string(i) + " must hold tensors");
    NativeTensor* n = NativeTensor::Unwrap(v.As<Napi::Object>());
    if (!n->live) throw std::invalid_argument("argument " + std::to_string(i) + " holds a disposed tensor");
    out.push_back(n->t);
  }
  return out;
}

at::ScalarType dtypeOf(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + s + "'");
}
std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

Napi::Value W(Napi::Env env, at::Tensor t) {
  Napi::Object o = NativeTensor::ctor->New({});
  NativeTensor::Unwrap(o)->set(std::move(t));
  return o;
}
Napi::Value WL(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto a = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) a.Set(static_cast<uint32_t>(i), ts[i].defined() ? W(env, ts[i]) : env.Null());
  return a;
}

using Impl = Napi::Value (*)(const Napi::CallbackInfo&);

// Runs an op; converts every C++ error into a JS Error "op(shapes): message".
// Ops that take tensors of two devices on purpose.
bool crossesDevices(const char* name) { return !std::strcmp(name, "toDevice") || !std::strcmp(name, "copyInPlace"); }

template <Impl F>
Napi::Value guard(const Napi::CallbackInfo& info, const char* name) {
  std::string msg;
  try {
    // tensors of two devices in one op: libtorch's own error is long and names no op
    if (!crossesDevices(name)) {
      const at::Tensor* first = nullptr;
      for (size_t i = 0; i < info.Length(); i++) {
        if (!isTensor(info[i])) continue;
        NativeTensor* n = NativeTensor::Unwrap(info[i].As<Napi::Object>());
        if (!n->live) continue;
        if (!first) first = &n->t;
        else if (first->device() != n->t.device())
          throw std::invalid_argument("tensors on two devices, " + first->device().str() + " and " + n->t.device().str() + ": move one with tensor.to(device)");
      }
    }
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    msg = e.what_without_backtrace();
  } catch (const std::exception& e) {
    msg = e.what();
  } catch (...) {
    msg = "unknown native error";
  }
  // Keep the first lines only: libtorch messages can carry long traces.
  std::istringstream lines(msg);
  std::string line, shortMsg;
  for (int k = 0; k < 3 && std::getline(lines, line); k++) shortMsg += (k ? " " : "") + line;
  std::ostringstream s;
  s << name << "(";
  bool first = true;
  for (size_t i = 0; i < info.Length(); i++) {
    if (!isTensor(info[i])) continue;
    NativeTensor* n = NativeTensor::Unwrap(info[i].As<Napi::Object>());
    s << (first ? "" : ", ") << (n->live ? shapeStr(n->t) : "<disposed>");
    first = false;
  }
  s << "): " << shortMsg;
  throw Napi::Error::New(info.Env(), s.str());
}

#define OP(name)                                                                 \
  Napi::Value name##_impl(const Napi::CallbackInfo& info);                       \
  Napi::Value op_##name(const Napi::CallbackInfo& info) { return guard<name##_impl>(info, #name); } \
  Napi::Value name##_impl(const Napi::CallbackInfo& info)

// ---------- metadata and transfer ----------

OP(shape) {
  auto& t = T(info, 0);
  auto a = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), t.size(i)));
  return a;
}
OP(dtype) { return Napi::String::New(info.Env(), dtypeName(T(info, 0).scalar_type())); }
OP(liveCount) { return Napi::Number::New(info.Env(), static_cast<double>(g_live.load())); }

// fromArray(typedArray, shape, dtype?): copies host data into a new tensor.
OP(fromArray) {
  auto shape = IL(info, 1);
  checkShape(shape, "fromArray");
  if (!info[0].IsTypedArray()) throw std::invalid_argument("argument 0 must be a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  at::ScalarType src;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: src = at::kFloat; break;
    case napi_float64_array: src = at::kDouble; break;
    case napi_int32_array: src = at::kInt; break;
    case napi_uint8_array: src = at::kByte; break;
    case napi_bigint64_array: src = at::kLong; break;
    default: throw std::invalid_argument("unsupported typed array type");
  }
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n != static_cast<int64_t>(ta.ElementLength()))
    throw std::invalid_argument("data has " + std::to_string(ta.ElementLength()) + " elements, shape needs " + std::to_string(n));
  auto buf = ta.ArrayBuffer();
  void* ptr = static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset();
  at::Tensor t = at::from_blob(ptr, shape, at::TensorOptions().dtype(src)).clone();
  if (info.Length() > 2 && info[2].IsString()) t = t.to(dtypeOf(S(info, 2)));
  // uploads to the requested or default device (a run's batches go to its GPU here)
  auto dev = devArg(info, 3);
  if (dev != t.device()) t = t.to(dev);
  return W(info.Env(), t);
}

// toArray(t): copies to a host typed array (float32 / float64 / int32 for integer types / uint8).
OP(toArray) {
  at::Tensor t = T(info, 0).detach().to(at::kCPU).contiguous();
  Napi::Env env = info.Env();
  auto st = t.scalar_type();
  if (st == at::kLong || st == at::kBool) t = t.to(at::kInt), st = at::kInt;
  size_t n = t.numel();
  if (st == at::kFloat) {
    auto out = Napi::Float32Array::New(env, n);
    if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
    return out;
  }
  if (st == at::kDouble) {
    auto out = Napi::Float64Array::New(env, n);
    if (n) std::memcpy(out.Data(), t.data_ptr(), n * 8);
    return out;
  }
  if (st == at::kInt) {
    auto out = Napi::Int32Array::New(env, n);
    if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
    return out;
  }
  if (st == at::kByte) {
    auto out = Napi::Uint8Array::New(env, n);
    if (n) std::memcpy(out.Data(), t.data_ptr(), n);
    return out;
  }
  throw std::invalid_argument("toArray: unsupported dtype " + dtypeName(st));
}
OP(item) { return Napi::Number::New(info.Env(), T(info, 0).item().toDouble()); }

// ---------- creation ----------

OP(full) {
  auto shape = IL(info, 0);
  auto dt = dtypeOf(S(info, 2));
  checkShape(shape, "full", c10::elementSize(dt));
  return W(info.Env(), at::full(shape, D(info, 1), at::TensorOptions().dtype(dt).device(devArg(info, 3))));
}
OP(randn) {
  auto shape = IL(info, 0);
  checkShape(shape, "randn", 4);
  return W(info.Env(), at::randn(shape, at::TensorOptions().device(devArg(info, 1))));
}
OP(rand) {
  auto shape = IL(info, 0);
  checkShape(shape, "rand", 4);
  return W(info.Env(), at::rand(shape, at::TensorOptions().device(devArg(info, 1))));
}
OP(randperm) {
  auto n = I(info, 0);
  checkShape({n}, "randperm", 8);
  return W(info.Env(), at::randperm(n, at::TensorOptions().dtype(at::kLong).device(devArg(info, 1))));
}
OP(arange) {
  auto n = I(info, 0);
  auto dt = dtypeOf(S(info, 1));
  checkShape({n}, "arange", c10::elementSize(dt));
  return W(info.Env(), at::arange(n, at::TensorOptions().dtype(dt).device(devArg(info, 2))));
}
OP(eye) {
  auto n = I(info, 0);
  checkShape({n, n}, "eye", 4);
  return W(info.Env(), at::eye(n, at::TensorOptions().device(devArg(info, 1))));
}
OP(manualSeed) {
  at::manual_seed(static_cast<uint64_t>(I(info, 0)));
  return info.Env().Undefined();
}

// ---------- element-wise ----------

OP(unary) {
  auto op = S(info, 0);
  auto& x = T(info, 1);
  at::Tensor y;
  if (op == "neg") y = -x;
  else if (op == "exp") y = x.exp();
  else if (op == "log") y = x.log();
  else if (op == "sqrt") y = x.sqrt();
  else if (op == "rsqrt") y = x.rsqrt();
  else if (op == "abs") y = x.abs();
  else if (op == "sign") y = x.sign();
  else if (op == "square") y = x.square();
  else if (op == "reciprocal") y = x.reciprocal();
  else if (op == "tanh") y = x.tanh();
  else if (op == "sigmoid") y = x.sigmoid();
  else if (op == "relu") y = x.relu();
  else if (op == "gelu") y = at::gelu(x);
  else if (op == "floor") y = x.floor();
  else if (op == "acos") y = x.acos();
  else if (op == "cos") y = x.cos();
  else if (op == "clone") y = x.clone();
  else if (op == "contiguous") y = x.contiguous();
  else if (op == "detach") y = x.detach();
  else if (op == "logicalNot") y = x.logical_not();
  else throw std::invalid_argument("unknown unary op '" + op + "'");
  return W(info.Env(), y);
}

// binary(op, a, b): b is a tensor (broadcast) or a number.
OP(binary) {
  auto op = S(info, 0);
  auto& a = T(info, 1);
  bool scalar = info.Length() > 2 && info[2].IsNumber();
  at::Tensor b = scalar ? at::Tensor() : T(info, 2);
  at::Scalar s = scalar ? at::Scalar(D(info, 2)) : at::Scalar(0);
  at::Tensor y;
#define BIN(name, expr_t, expr_s) else if (op == name) y = scalar ? (expr_s) : (expr_t);
  if (false) {}
  BIN("add", a + b, a + s)
  BIN("sub", a - b, a - s)
  BIN("mul", a * b, a * s)
  BIN("div", a / b, a / s)
  BIN("pow", a.pow(b), a.pow(s))
  BIN("maximum", at::maximum(a, b), a.clamp_min(s))
  BIN("minimum", at::minimum(a, b), a.clamp_max(s))
  BIN("eq", a.eq(b), a.eq(s))
  BIN("gt", a.gt(b), a.gt(s))
  BIN("lt", a.lt(b), a.lt(s))
  BIN("ge", a.ge(b), a.ge(s))
  BIN("le", a.le(b), a.le(s))
  else throw std::invalid_argument("unknown binary op '" + op + "'");
#undef BIN
  return W(info.Env(), y);
}

OP(where) { return W(info.Env(), at::where(T(info, 0), T(info, 1), T(info, 2))); }
OP(clamp) {
  c10::optional<at::Scalar> lo, hi;
  if (info[1].IsNumber()) lo = D(info, 1);
  if (info[2].IsNumber()) hi = D(info, 2);
  return W(info.Env(), at::clamp(T(info, 0), lo, hi));
}
OP(toDtype) { return W(info.Env(), T(info, 0).to(dtypeOf(S(info, 1)))); }

// Activations with a parameter, and the element-wise derivative sigma'(z) of each.
OP(activation) {
  auto op = S(info, 0);
  auto& z = T(info, 1);
  double p = info.Length() > 2 && info[2].IsNumber() ? D(info, 2) : 0.0;
  at::Tensor y;
  if (op == "leaky_relu") y = at::leaky_relu(z, p);
  else if (op == "elu") y = at::elu(z, p);
  else if (op == "tanh") y = z.tanh();
  else if (op == "gelu") y = at::gelu(z);
  else if (op == "relu") y = z.relu();
  else if (op == "identity") y = z.alias();
  else throw std::invalid_argument("unknown activation '" + op + "'");
  return W(info.Env(), y);
}
OP(activationDerivative) {
  auto op = S(info, 0);
  auto& z = T(info, 1);
  double p = info.Length() > 2 && info[2].IsNumber() ? D(info, 2) : 0.0;
  at::Tensor d;
  if (op == "leaky_relu") d = at::where(z > 0, at::ones_like(z), at::full_like(z, p));
  else if (op == "elu") d = at::where(z > 0, at::ones_like(z), z.exp() * p);
  else if (op == "tanh") d = 1 - z.tanh().square();
  else if (op == "gelu") d = at::gelu_backward(at::ones_like(z), z);
  else if (op == "relu") d = (z > 0).to(z.scalar_type());
  else if (op == "identity") d = at::ones_like(z);
  else throw std::invalid_argument("unknown activation '" + op + "'");
  return W(info.Env(), d);
}

// activationBackward(fn, t, z, p): sigma'(z) * t, the exact J^T of an element-wise activation,
// on libtorch's own backward kernels (one pass; the where/ones/mul form was 9-14x slower).
OP(activationBackward) {
  auto op = S(info, 0);
  auto &t = T(info, 1), &z = T(info, 2);
  double p = info.Length() > 3 && info[3].IsNumber() ? D(info, 3) : 0.0;
  if (!t.sizes().equals(z.sizes())) throw std::invalid_argument("t and z must have the same shape");
  at::Tensor r;
  if (op == "leaky_relu") r = at::leaky_relu_backward(t, z, p, false);
  else if (op == "elu") r = at::elu_backward(t, p, 1, 1, false, z);
  else if (op == "tanh") r = at::tanh_backward(t, z.tanh());
  else if (op == "gelu") r = at::gelu_backward(t, z);
  else if (op == "relu") r = at::threshold_backward(t, z, 0);
  else if (op == "identity") r = t.clone();
  else throw std::invalid_argument("unknown activation '" + op + "'");
  return W(info.Env(), r);
}

// Element-wise float32 kernels for feedback differences. `fused` runs the loop on contiguous CPU
// tensors; other devices (or dtypes) get the same formula from libtorch ops.
template <typename F>
at::Tensor pointwise2(const at::Tensor& h0, const at::Tensor& d0, F f) {
  if (!h0.sizes().equals(d0.sizes())) throw std::invalid_argument("h and d must have the same shape");
  if (h0.scalar_type() != at::kFloat || d0.scalar_type() != at::kFloat) throw std::invalid_argument("float32 tensors expected");
  at::Tensor h = h0.contiguous(), d = d0.contiguous();
  at::Tensor out = at::empty_like(d);
  const float* hp = h.data_ptr<float>();
  const float* dp = d.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, h.numel(), 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) op[i] = f(hp[i], dp[i]);
  });
  return out;
}
// The fused loops take contiguous-or-not float32 CPU tensors; anything else takes the libtorch-op form.
bool fusable(const at::Tensor& a, const at::Tensor& b) {
  return a.device().is_cpu() && b.device().is_cpu() && a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat;
}
// relu(h + d) - relu(h) without cancellation: max(d, -h) for h > 0, max(h + d, 0) otherwise.
at::Tensor reluDiffOps(const at::Tensor& h, const at::Tensor& d) {
  return at::where(h > 0, at::maximum(d, -h), (h + d).clamp_min(0));
}

// leakyReluDiff(h, d, slope): LeakyReLU(h + d) - LeakyReLU(h) = slope d + (1 - slope)(relu(h + d) - relu(h)).
OP(leakyReluDiff) {
  auto &h = T(info, 0), &d = T(info, 1);
  double a64 = D(info, 2);
  float a = static_cast<float>(a64);
  // checked here too: the op form would broadcast mismatched shapes silently
  if (!h.sizes().equals(d.sizes())) throw std::invalid_argument("h and d must have the same shape");
  if (!fusable(h, d)) return W(info.Env(), d * a64 + reluDiffOps(h, d) * (1 - a64));
  // Both branches are computed and selected (no jump): with random signs a branch here
  // mispredicts half the time and made this op 15x slower than an add.
  return W(info.Env(), pointwise2(h, d, [a](float hi, float di) {
             float pos = std::max(di, -hi), neg = std::max(hi + di, 0.0f);
             return a * di + (1 - a) * (hi > 0 ? pos : neg);
           }));
}

// eluVarsigmaDiff(h, d, alpha): varsigma(h + d) - varsigma(h) for ELU's integral feedback (eq. 27),
// varsigma(y) = max(y, 0) + Q(c(y)), c(y) = clamp(y, -alpha, 0), Q(v) = alpha v + v^2 / 2. With
// u = c(h) and dc = c(h + d) - u formed without cancellation (clamp(d, -alpha - h, -h) inside the
// quadratic piece, so dc = d exactly there), Q(u + dc) - Q(u) = dc (alpha + u + dc / 2). Subtracting
// two varsigma values instead loses float32 precision as beta (and d) shrinks.
OP(eluVarsigmaDiff) {
  auto &h = T(info, 0), &d = T(info, 1);
  double a64 = D(info, 2);
  float a = static_cast<float>(a64);
  if (!(a > 0)) throw std::invalid_argument("eluVarsigmaDiff: alpha must be > 0");
  if (!fusable(h, d)) {
    if (!h.sizes().equals(d.sizes())) throw std::invalid_argument("h and d must have the same shape");
    auto u = h.clamp(-a64, 0);
    auto inside = (h > -a64) & (h <= 0);
    auto dc = at::where(inside, at::minimum(at::maximum(d, -a64 - h), -h), (h + d).clamp(-a64, 0) - u);
    return W(info.Env(), reluDiffOps(h, d) + dc * (a64 + u + dc * 0.5));
  }
  return W(info.Env(), pointwise2(h, d, [a](float hi, float di) {
             float pos = hi > 0 ? std::max(di, -hi) : std::max(hi + di, 0.0f);
             float u = std::min(std::max(hi, -a), 0.0f);
             float in = std::min(std::max(di, -a - hi), -hi);
             float out = std::min(std::max(hi + di, -a), 0.0f) - u;
             float dc = (hi > -a && hi <= 0) ? in : out;
             return pos + dc * (a + u + 0.5f * dc);
           }));
}

// layerNormFeedback(t, x, mean, rstd, gamma, d, exact): LayerNorm's analytical feedback over the last
// dimension d. exact: the full J^T t, libtorch's own LayerNorm backward kernel. decomposed (eqs.
// 30-35): (gamma t - mean(gamma t)) * rstd, one pass per row on the CPU.
OP(layerNormFeedback) {
  auto &t = T(info, 0), &x = T(info, 1), &mean = T(info, 2), &rstd = T(info, 3), &gamma = T(info, 4);
  int64_t d = I(info, 5);
  bool exact = B(info, 6);
  if (d < 1) throw std::invalid_argument("layerNormFeedback: d must be >= 1");
  if (t.dim() < 1 || t.size(-1) != d || gamma.numel() != d || !t.sizes().equals(x.sizes()) || rstd.numel() * d != t.numel() || mean.numel() != rstd.numel())
    throw std::invalid_argument("layerNormFeedback: t and x must be [..., " + std::to_string(d) + "] with one mean and rstd per row and gamma [" + std::to_string(d) + "]");
  if (exact) {
    auto r = at::native_layer_norm_backward(t, x, {d}, mean, rstd, gamma, c10::optional<at::Tensor>(), {true, false, false});
    return W(info.Env(), std::get<0>(r));
  }
  if (!(t.device().is_cpu() && gamma.device().is_cpu() && rstd.device().is_cpu()) || t.scalar_type() != at::kFloat || gamma.scalar_type() != at::kFloat || rstd.scalar_type() != at::kFloat) {
    auto stat = t.sizes().vec();
    stat.back() = 1;
    auto gt = t * gamma;
    return W(info.Env(), (gt - gt.mean({-1}, true)) * rstd.reshape(stat));
  }
  at::Tensor tc = t.contiguous(), gc = gamma.contiguous(), rc = rstd.contiguous();
  at::Tensor out = at::empty_like(tc);
  const float *tp = tc.data_ptr<float>(), *gp = gc.data_ptr<float>(), *rp = rc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, rc.numel(), std::max<int64_t>(1, 16384 / d), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* tr = tp + r * d;
      float* orow = op + r * d;
      double s = 0;
      for (int64_t j = 0; j < d; j++) s += double(tr[j]) * gp[j];
      float m = static_cast<float>(s / d), k = rp[r];
      for (int64_t j = 0; j < d; j++) orow[j] = (tr[j] * gp[j] - m) * k;
    }
  });
  return W(info.Env(), out);
}

// ---------- reductions ----------

// reduce(op, x, dims|null, keepdim)
OP(reduce) {
  auto op = S(info, 0);
  auto& x = T(info, 1);
  bool all = info[2].IsNull() || info[2].IsUndefined();
  std::vector<int64_t> dims = all ? std::vector<int64_t>{} : IL(info, 2);
  bool keep = B(info, 3);
  at::Tensor y;
  if (op == "sum") y = all ? x.sum() : x.sum(dims, keep);
  else if (op == "mean") y = all ? x.mean() : x.mean(dims, keep);
  else if (op == "amax") y = all ? x.amax() : x.amax(dims, keep);
  else if (op == "var") y = all ? x.var(false) : x.var(dims, false, keep);
  else throw std::invalid_argument("unknown reduction '" + op + "'");
  return W(info.Env(), y);
}
OP(argmax) { return W(info.Env(), T(info, 0).argmax(I(info, 1), B(info, 2))); }

// ---------- shape ----------

OP(reshape) { return W(info.Env(), T(info, 0).reshape(IL(info, 1))); }
OP(permute) { return W(info.Env(), T(info, 0).permute(IL(info, 1))); }
OP(transpose) { return W(info.Env(), T(info, 0).transpose(I(info, 1), I(info, 2))); }
OP(narrow) { return W(info.Env(), T(info, 0).narrow(I(info, 1), I(info, 2), I(info, 3))); }
OP(cat) { return W(info.Env(), at::cat(TL(info, 0), I(info, 1))); }
OP(indexSelect) {
  auto& x = T(info, 0);
  auto& idx = T(info, 2);
  int64_t d = checkDim(I(info, 1), x, "indexSelect");
  if (idx.dim() > 1) throw std::invalid_argument("indexSelect: indices must be 0-d or 1-d, got " + shapeStr(idx));
  checkIndices(idx, 0, x.dim() ? x.size(d) : 1, "indexSelect");
  return W(info.Env(), x.index_select(d, idx));
}
OP(flip) { return W(info.Env(), T(info, 0).flip(IL(info, 1))); }
OP(expand) {
  auto shape = IL(info, 1);
  std::vector<int64_t> sized;  // -1 keeps a size: count it as the size it keeps
  auto& x = T(info, 0);
  for (size_t k = 0; k < shape.size(); k++) {
    int64_t off = static_cast<int64_t>(shape.size()) - x.dim();
    int64_t src = static_cast<int64_t>(k) - off;
    sized.push_back(shape[k] == -1 && src >= 0 ? x.size(src) : shape[k]);
  }
  checkShape(sized, "expand");
  return W(info.Env(), x.expand(shape));
}
// pad2d(x, [left, right, top, bottom], mode): mode 'edge' (replicate) or 'zeros'.
OP(pad2d) {
  auto mode = S(info, 2);
  for (auto p : IL(info, 1))
    if (p < -(int64_t(1) << 20) || p > (int64_t(1) << 20)) throw std::invalid_argument("pad2d: pads must be within +-2^20, got " + std::to_string(p));
  if (mode == "edge") return W(info.Env(), at::replication_pad2d(T(info, 0), IL(info, 1)));
  if (mode == "zeros") return W(info.Env(), at::constant_pad_nd(T(info, 0), IL(info, 1), 0));
  throw std::invalid_argument("unknown pad mode '" + mode + "'");
}

// ---------- neural-network kernels ----------

OP(matmul) { return W(info.Env(), at::matmul(T(info, 0), T(info, 1))); }
OP(linear) { return W(info.Env(), at::linear(T(info, 0), T(info, 1), OT(info, 2))); }
OP(conv2d) { return W(info.Env(), at::conv2d(T(info, 0), T(info, 1), OT(info, 2), IL(info, 3), IL(info, 4))); }
// convTranspose2d(x, w, b, stride, padding, outputPadding): w has the forward conv's layout [out, in, k, k].
OP(convTranspose2d) {
  return W(info.Env(), at::conv_transpose2d(T(info, 0), T(info, 1), OT(info, 2), IL(info, 3), IL(info, 4), IL(info, 5)));
}
// convBackward(dy, x, w, stride, padding, [needInput, needWeight, needBias]) -> [dx, dw, db]
OP(convBackward) {
  auto& dy = T(info, 0);
  auto& x = T(info, 1);
  auto& w = T(info, 2);
  auto mask = IL(info, 5);
  std::array<bool, 3> m{mask.at(0) != 0, mask.at(1) != 0, mask.at(2) != 0};
  std::vector<int64_t> bias{w.size(0)};
  auto r = at::convolution_backward(dy, x, w, c10::IntArrayRef(bias), IL(info, 3), IL(info, 4), {1, 1}, false, {0, 0}, 1, m);
  return WL(info.Env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}
// Max pooling with indices for the two pools the models use, on contiguous float32 [N, C, H, W]
// or [C, H, W] CPU tensors; other pools, dtypes, layouts and devices take libtorch's kernel. Both
// scan each window as libtorch does, so values and indices are its to the bit: a window's first
// maximum in row-major order wins, a NaN wins over numbers (the last NaN does), an all -inf window
// points at its first in-bounds element.
// 2x2, stride 2, no padding (VGG's): libtorch 1.13's NCHW kernel takes 12x an add's time on a VGG
// map (88 ms against 7 ms for [128, 128, 32, 32] at one thread here): its window loop branches on
// every element, and which of four wins is a coin flip. Here the compares are bit masks: ~8x faster.
bool fastPoolOk(const at::Tensor& x, int64_t k, int64_t s, int64_t p) {
  if (!(x.device().is_cpu() && x.scalar_type() == at::kFloat && (x.dim() == 3 || x.dim() == 4) && x.is_contiguous() && x.numel() > 0)) return false;
  if (k == 2 && s == 2 && p == 0) return x.size(-2) >= 2 && x.size(-1) >= 2;
  return k == 3 && s == 2 && p == 1;  // every map of at least 1x1 has a window
}
inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// max = v, pos = p where v > max or v is NaN, as bit masks: written as selects, GCC emits a
// branch per compare, and on real maps those mispredict half the time (5x slower here)
template <typename P>
inline void takeIf(float v, P p, uint32_t& max, P& pos) {
  const bool t = (v > floatOf(max)) | (v != v);
  const uint32_t k = -uint32_t(t);
  const P kp = -P(t);
  max = (bitsOf(v) & k) | (max & ~k);
  pos = (p & kp) | (pos & ~kp);
}
// One window clipped to the map (a padded pool's border), scanned as libtorch does: from -inf,
// pointing at the first in-bounds element.
inline void clippedWindow(const float* in, int64_t W, int64_t h0, int64_t h1, int64_t w0, int64_t w1, float& out, int64_t& oi) {
  uint32_t m = bitsOf(-std::numeric_limits<float>::infinity());
  int64_t pos = h0 * W + w0;
  for (int64_t ih = h0; ih < h1; ih++)
    for (int64_t iw = w0; iw < w1; iw++) takeIf<int64_t>(in[ih * W + iw], ih * W + iw, m, pos);
  out = floatOf(m);
  oi = pos;
}
// 3x3, stride 2, padding 1 (LeNet's pool, as in scalingDTP), one plane. With nine elements the
// running max settles early, so libtorch's branches predict well and a scalar branch-free scan is
// no faster; four outputs at a time in vector lanes (GCC/Clang vector extensions, SSE2 on x86-64)
// are about 3x faster. Windows that reach past the map (the first output row and column, and the
// last on odd maps) and leftover outputs take the clipped scalar scan.
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
inline void takeIf4(v4f v, int32_t p, v4f& max, v4i& pos) {
  const v4i k = (v > max) | (v != v);
  max = (v4f)((k & (v4i)v) | (~k & (v4i)max));
  pos = (k & p) | (~k & pos);
}
void pool3s2p1Plane(const float* in, int64_t H, int64_t W, float* out, int64_t* oi, int64_t OH, int64_t OW) {
  const int32_t W32 = int32_t(W), off[9] = {0, 1, 2, W32, W32 + 1, W32 + 2, 2 * W32, 2 * W32 + 1, 2 * W32 + 2};
  const int64_t lastInside = (W - 2) / 2;  // ow whose window ends inside the row: 2 ow + 2 <= W - 1
  for (int64_t oh = 0; oh < OH; oh++) {
    const int64_t hs = 2 * oh - 1;
    const auto clipped = [&](int64_t ow) {
      const int64_t ws = 2 * ow - 1;
      clippedWindow(in, W, std::max<int64_t>(hs, 0), std::min<int64_t>(hs + 3, H), std::max<int64_t>(ws, 0), std::min<int64_t>(ws + 3, W), out[oh * OW + ow], oi[oh * OW + ow]);
    };
    int64_t ow = 0;
    if (hs >= 0 && hs + 3 <= H) {
      clipped(ow++);
      for (; ow + 3 <= lastInside && ow + 3 < OW; ow += 4) {
        const float* w = in + hs * W + 2 * ow - 1;  // the four windows' first elements: w[0], w[2], w[4], w[6]
        v4f m = {w[0], w[2], w[4], w[6]};
        v4i pos = {0, 0, 0, 0};
        for (int k = 1; k < 9; k++) {
          const float* q = w + off[k];
          takeIf4(v4f{q[0], q[2], q[4], q[6]}, off[k], m, pos);
        }
        std::memcpy(out + oh * OW + ow, &m, sizeof m);
        for (int j = 0; j < 4; j++) oi[oh * OW + ow + j] = hs * W + 2 * (ow + j) - 1 + pos[j];
      }
    }
    for (; ow < OW; ow++) clipped(ow);
  }
}
std::vector<at::Tensor> maxPool2dKernel(const at::Tensor& x, int64_t k) {
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  const int64_t OH = k == 2 ? H / 2 : (H - 1) / 2 + 1, OW = k == 2 ? W / 2 : (W - 1) / 2 + 1;
  auto shape = x.sizes().vec();
  shape[shape.size() - 2] = OH;
  shape[shape.size() - 1] = OW;
  at::Tensor y = at::empty(shape, x.options()), idx = at::empty(shape, x.options().dtype(at::kLong));
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  int64_t* ip = idx.data_ptr<int64_t>();
  at::parallel_for(0, planes, std::max<int64_t>(1, 4096 / (OH * OW)), [=](int64_t b, int64_t e) {
    // sizes as locals: an int64 index store may alias a by-reference capture, which would make
    // the compiler reload the sizes for every element
    const int64_t H = x.size(-2), W = x.size(-1), OH = y.size(-2), OW = y.size(-1);
    if (k == 3) {
      for (int64_t c = b; c < e; c++) pool3s2p1Plane(xp + c * H * W, H, W, yp + c * OH * OW, ip + c * OH * OW, OH, OW);
      return;
    }
    for (int64_t c = b; c < e; c++)
      for (int64_t oh = 0; oh < OH; oh++) {
        const float* r0 = xp + c * H * W + 2 * oh * W;  // the window's two input rows
        const float* r1 = r0 + W;
        float* out = yp + (c * OH + oh) * OW;
        int64_t* oi = ip + (c * OH + oh) * OW;
        const int64_t base = 2 * oh * W;
        for (int64_t ow = 0; ow < OW; ow++) {
          // scan a, b (upper row), c, d (lower row); each step takes v when v > max or v is NaN
          const float a = r0[2 * ow], b2 = r0[2 * ow + 1], c2 = r1[2 * ow], d = r1[2 * ow + 1];
          uint32_t m = bitsOf(a), pos = 0;
          takeIf<uint32_t>(b2, 1, m, pos);
          takeIf<uint32_t>(c2, 2, m, pos);
          takeIf<uint32_t>(d, 3, m, pos);
          out[ow] = floatOf(m);
          oi[ow] = base + 2 * ow + (pos & 1) + (pos >> 1) * W;
        }
      }
  });
  return {y, idx};
}
// The kernel as an autograd function: BP and the TP methods' local VJPs differentiate through it
// with libtorch's own max-pool backward, as they did through max_pool2d_with_indices.
struct MaxPool2dFn : public torch::autograd::Function<MaxPool2dFn> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t k, int64_t s, int64_t p) {
    auto r = maxPool2dKernel(x, k);
    ctx->save_for_backward({x, r[1]});
    ctx->saved_data["k"] = k;
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    ctx->mark_non_differentiable({r[1]});
    return r;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list g) {
    auto saved = ctx->get_saved_variables();
    int64_t k = ctx->saved_data["k"].toInt(), s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
    auto dx = at::max_pool2d_with_indices_backward(g[0], saved[0], {k, k}, {s, s}, {p, p}, {1, 1}, false, saved[1]);
    return {dx, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};
// maxPool2d(x, k, stride, padding) -> [y, indices]: the kernels above where they apply, else libtorch's.
OP(maxPool2d) {
  auto k = I(info, 1), s = I(info, 2), p = I(info, 3);
  auto& x = T(info, 0);
  if (fastPoolOk(x, k, s, p)) {
    auto r = MaxPool2dFn::apply(x, k, s, p);
    return WL(info.Env(), {r[0], r[1]});
  }
  auto r = at::max_pool2d_with_indices(x, {k, k}, {s, s}, {p, p});
  return WL(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
// maxUnpool2d(y, indices, [H, W]): writes each value at its argmax (overwrites on repeats).
// maxUnpool2d(y, indices, [H, W]): indices are positions in each H x W output plane.
OP(maxUnpool2d) {
  auto& y = T(info, 0);
  auto& idx = T(info, 1);
  auto size = IL(info, 2);
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) throw std::invalid_argument("maxUnpool2d: output size must be [H, W] with H, W > 0");
  checkShape({y.dim() >= 2 ? y.numel() / std::max<int64_t>(1, y.size(-1) * y.size(-2)) : 1, size[0], size[1]}, "maxUnpool2d", y.element_size());
  if (idx.scalar_type() != at::kLong) throw std::invalid_argument("maxUnpool2d: indices must be int64");
  checkSameShape(y, idx, "maxUnpool2d");
  checkIndices(idx, 0, size[0] * size[1], "maxUnpool2d");
  return W(info.Env(), at::max_unpool2d(y, idx, size));
}
// maxPool2dAdjoint(dy, x, k, stride, padding, indices): exact transposed Jacobian (sums repeats).
OP(maxPool2dAdjoint) {
  auto k = I(info, 2), s = I(info, 3), p = I(info, 4);
  auto &dy = T(info, 0), &x = T(info, 1), &idx = T(info, 5);
  if (x.dim() < 3) throw std::invalid_argument("maxPool2dAdjoint: x must be [C, H, W] or [N, C, H, W], got " + shapeStr(x));
  if (idx.scalar_type() != at::kLong) throw std::invalid_argument("maxPool2dAdjoint: indices must be int64");
  checkSameShape(dy, idx, "maxPool2dAdjoint");
  // each index is a position in its H x W input plane: one outside it writes outside the result
  checkIndices(idx, 0, x.size(-1) * x.size(-2), "maxPool2dAdjoint");
  return W(info.Env(), at::max_pool2d_with_indices_backward(dy, x, {k, k}, {s, s}, {p, p}, {1, 1}, false, idx));
}
OP(layerNorm) { return W(info.Env(), at::layer_norm(T(info, 0), IL(info, 1), OT(info, 2), OT(info, 3), D(info, 4))); }
// layerNormStats(x, shape, w, b, eps) -> [y, mean, rstd]: the statistics the forward computes
// anyway (rstd = 1 / sqrt(var + eps), biased var), so LayerNorm's feedback cache costs nothing.
OP(layerNormStats) {
  auto r = at::native_layer_norm(T(info, 0), IL(info, 1), OT(info, 2), OT(info, 3), D(info, 4));
  return WL(info.Env(), {std::get<0>(r), std::get<1>(r).detach(), std::get<2>(r).detach()});
}
OP(softmax) { return W(info.Env(), at::softmax(T(info, 0), I(info, 1))); }
OP(logSoftmax) { return W(info.Env(), at::log_softmax(T(info, 0), I(info, 1))); }
// crossEntropy(logits, labels(int64), reduction 'mean'|'sum'|'none')
OP(crossEntropy) {
  auto r = S(info, 2);
  int64_t red = r == "mean" ? at::Reduction::Mean : r == "sum" ? at::Reduction::Sum : at::Reduction::None;
  if (r != "mean" && r != "sum" && r != "none") throw std::invalid_argument("unknown reduction '" + r + "'");
  auto &logits = T(info, 0), &labels = T(info, 1);
  if (logits.dim() != 2) throw std::invalid_argument("crossEntropy: logits must be [N, classes], got " + shapeStr(logits));
  if (labels.scalar_type() != at::kLong || labels.dim() != 1 || labels.size(0) != logits.size(0))
    throw std::invalid_argument("crossEntropy: labels must be int64 [N] for logits " + shapeStr(logits) + ", got " + shapeStr(labels));
  checkIndices(labels, 0, logits.size(1), "crossEntropy labels");
  return W(info.Env(), at::cross_entropy_loss(logits, labels, {}, red));
}
OP(oneHot) {
  auto& y = T(info, 0);
  auto n = I(info, 1);
  if (n <= 0) throw std::invalid_argument("oneHot: the class count must be > 0, got " + std::to_string(n));
  if (y.scalar_type() != at::kLong) throw std::invalid_argument("oneHot: labels must be int64");
  checkShape({y.numel(), n}, "oneHot", 4);
  checkIndices(y, 0, n, "oneHot");
  return W(info.Env(), at::one_hot(y, n).to(at::kFloat));
}

// ---------- linear algebra ----------

OP(inverse) { return W(info.Env(), at::linalg_inv(T(info, 0))); }
OP(pinverse) { return W(info.Env(), at::linalg_pinv(T(info, 0), 1e-15, false)); }

// ---------- in-place (optimizers; call under noGrad for leaves) ----------

OP(addInPlace) {  // a += alpha * b
  T(info, 0).add_(T(info, 1), D(info, 2));
  return info.Env().Undefined();
}
OP(mulInPlace) {
  T(info, 0).mul_(D(info, 1));
  return info.Env().Undefined();
}
OP(addcmulInPlace) {  // a += value * b * c
  T(info, 0).addcmul_(T(info, 1), T(info, 2), D(info, 3));
  return info.Env().Undefined();
}
OP(addcdivInPlace) {  // a += value * b / c
  T(info, 0).addcdiv_(T(info, 1), T(info, 2), D(info, 3));
  return info.Env().Undefined();
}
OP(copyInPlace) {
  T(info, 0).copy_(T(info, 1));
  return info.Env().Undefined();
}
OP(zeroInPlace) {
  T(info, 0).zero_();
  return info.Env().Undefined();
}

// ---------- autograd ----------

OP(setRequiresGrad) {
  T(info, 0).requires_grad_(B(info, 1));
  return info.Env().Undefined();
}
// equal(a, b): same shape, dtype and values (lets a layer tell its forward point from another point).
OP(equal) {
  at::Tensor a = T(info, 0), b = T(info, 1);
  return Napi::Boolean::New(info.Env(), a.scalar_type() == b.scalar_type() && a.sizes().equals(b.sizes()) && at::equal(a, b));
}
OP(requiresGrad) { return Napi::Boolean::New(info.Env(), T(info, 0).requires_grad()); }
OP(gradOf) {
  auto g = T(info, 0).grad();
  return g.defined() ? W(info.Env(), g) : info.Env().Null();
}
OP(clearGrad) {
  T(info, 0).mutable_grad() = at::Tensor();
  return info.Env().Undefined();
}
OP(backward) {
  auto& loss = T(info, 0);
  auto g = OT(info, 1);
  loss.backward(g.has_value() ? *g : at::Tensor(), B(info, 2));
  return info.Env().Undefined();
}
// grad(outputs[], inputs[], gradOutputs[]|null, retainGraph, createGraph) -> grads (null where unused)
OP(grad) {
  auto outs = TL(info, 0);
  auto ins = TL(info, 1);
  std::vector<at::Tensor> gouts;
  if (!(info[2].IsNull() || info[2].IsUndefined())) gouts = TL(info, 2);
  bool create = B(info, 4);
  bool retain = B(info, 3) || create;
  auto r = torch::autograd::grad(outs, ins, gouts, retain, create, /*allow_unused=*/true);
  return WL(info.Env(), r);
}
OP(setGradEnabled) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(B(info, 0));
  return Napi::Boolean::New(info.Env(), prev);
}

// ---------- runtime ----------

OP(setNumThreads) {
  auto n = I(info, 0);
  if (n < 1 || n > 256) throw std::invalid_argument("setNumThreads: thread count must be 1..256, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
OP(getNumThreads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

// OpenBLAS's own entry points, looked up at run time: which BLAS serves libblas.so.3 (and whether
// it threads with pthreads or with the OpenMP pool libtorch also uses) is Debian's alternatives' choice.
template <typename F>
F blasSym(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}
OP(setBlasThreads) {
  auto n = I(info, 0);
  if (n < 1 || n > 256) throw std::invalid_argument("setBlasThreads: thread count must be 1..256, got " + std::to_string(n));
  auto set = blasSym<void (*)(int)>("openblas_set_num_threads");
  if (set) set(static_cast<int>(n));
  return Napi::Boolean::New(info.Env(), set != nullptr);
}
OP(blasInfo) {
  auto o = Napi::Object::New(info.Env());
  auto cfg = blasSym<char* (*)()>("openblas_get_config");
  auto par = blasSym<int (*)()>("openblas_get_parallel");
  auto nth = blasSym<int (*)()>("openblas_get_num_threads");
  auto core = blasSym<char* (*)()>("openblas_get_corename");
  o.Set("name", cfg ? "openblas" : "other");
  if (cfg) o.Set("config", std::string(cfg()));
  if (core) o.Set("core", std::string(core()));
  // openblas_get_parallel: 0 sequential, 1 pthreads, 2 OpenMP
  if (par) o.Set("threading", par() == 2 ? "openmp" : par() == 1 ? "pthread" : "sequential");
  if (nth) o.Set("threads", nth());
  return o;
}
OP(device) { return Napi::String::New(info.Env(), T(info, 0).device().str()); }
OP(toDevice) { return W(info.Env(), T(info, 0).to(parseDevice(S(info, 1)))); }
OP(setDefaultDevice) {
  g_device = parseDevice(S(info, 0));
  return Napi::String::New(info.Env(), g_device.str());
}
OP(defaultDevice) { return Napi::String::New(info.Env(), g_device.str()); }
// A GPU's name from the CUDA runtime libtorch_cuda loaded, found at run time (no CUDA headers
// needed to build): cudaDeviceProp starts with `char name[256]`, so a large buffer holds the struct.
std::string gpuName(int i) {
  using Fn = int (*)(void*, int);
  Fn f = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties_v2"));
  if (!f) f = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties"));
  if (!f) return "unknown GPU";
  std::vector<char> prop(1 << 16, 0);
  if (f(prop.data(), i) != 0) return "unknown GPU";
  return std::string(prop.data(), strnlen(prop.data(), 256));
}

// { built: linked against a CUDA libtorch, available, count, names }: what --device can ask for here.
OP(cudaInfo) {
  auto o = Napi::Object::New(info.Env());
  auto names = Napi::Array::New(info.Env());
#ifdef TARGETPROP_CUDA
  o.Set("built", true);
#else
  o.Set("built", false);
#endif
  bool avail = torch::cuda::is_available();
  int64_t n = avail ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  for (int64_t i = 0; i < n; i++) names.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), gpuName(static_cast<int>(i))));
  o.Set("available", avail);
  o.Set("count", static_cast<double>(n));
  o.Set("names", names);
  return o;
}
// Waits for the default device's queued work (timers read after it, so CUDA times are true).
OP(synchronize) {
  if (g_device.is_cuda()) torch::cuda::synchronize(g_device.has_index() ? g_device.index() : -1);
  return info.Env().Undefined();
}

OP(runtimeInfo) {
  auto o = Napi::Object::New(info.Env());
  o.Set("parallel", at::get_parallel_info());
  o.Set("config", at::show_config());
  o.Set("threads", at::get_num_threads());
  return o;
}

}  // namespace

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  if (const char* mb = std::getenv("TARGETPROP_CPU_CACHE_MB")) g_alloc.limit = size_t(std::atol(mb)) << 20;
  if (g_alloc.limit > 0) c10::SetCPUAllocator(&g_alloc, /*priority=*/100);
  Napi::Function cls = NativeTensor::Init(env);
  NativeTensor::ctor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("NativeTensor", cls);
#define EXPORT(name) exports.Set(#name, Napi::Function::New(env, op_##name, #name));
  EXPORT(shape) EXPORT(dtype) EXPORT(liveCount) EXPORT(fromArray) EXPORT(toArray) EXPORT(item)
  EXPORT(full) EXPORT(randn) EXPORT(rand) EXPORT(randperm) EXPORT(arange) EXPORT(eye) EXPORT(manualSeed)
  EXPORT(unary) EXPORT(binary) EXPORT(where) EXPORT(clamp) EXPORT(toDtype)
  EXPORT(activation) EXPORT(activationDerivative) EXPORT(activationBackward) EXPORT(leakyReluDiff)
  EXPORT(eluVarsigmaDiff) EXPORT(layerNormFeedback)
  EXPORT(reduce) EXPORT(argmax)
  EXPORT(reshape) EXPORT(permute) EXPORT(transpose) EXPORT(narrow) EXPORT(cat) EXPORT(indexSelect) EXPORT(flip)
  EXPORT(expand) EXPORT(pad2d)
  EXPORT(matmul) EXPORT(linear) EXPORT(conv2d) EXPORT(convTranspose2d) EXPORT(convBackward) EXPORT(maxPool2d)
  EXPORT(maxUnpool2d) EXPORT(maxPool2dAdjoint) EXPORT(layerNorm) EXPORT(layerNormStats) EXPORT(softmax) EXPORT(logSoftmax)
  EXPORT(crossEntropy) EXPORT(oneHot)
  EXPORT(inverse) EXPORT(pinverse)
  EXPORT(addInPlace) EXPORT(mulInPlace) EXPORT(addcmulInPlace) EXPORT(addcdivInPlace) EXPORT(copyInPlace)
  EXPORT(zeroInPlace)
  EXPORT(setRequiresGrad) EXPORT(requiresGrad) EXPORT(equal) EXPORT(gradOf) EXPORT(clearGrad) EXPORT(backward) EXPORT(grad)
  EXPORT(setGradEnabled)
  EXPORT(setNumThreads) EXPORT(getNumThreads) EXPORT(runtimeInfo) EXPORT(setBlasThreads) EXPORT(blasInfo)
  EXPORT(device) EXPORT(toDevice) EXPORT(setDefaultDevice) EXPORT(defaultDevice) EXPORT(cudaInfo) EXPORT(synchronize)
#undef EXPORT
  return exports;
}

NODE_API_MODULE(targetprop_native, InitAll)
