#include "bench/bench_report.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace weft::bench {

double secs_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double cpu_secs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string fixed(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string human_bytes(double b) {
  if (b < 10'000) return fixed(b, 0) + " B";
  if (b < 10'000'000) return fixed(b / 1e3, 1) + " KB";
  if (b < 10'000'000'000) return fixed(b / 1e6, 1) + " MB";
  return fixed(b / 1e9, 1) + " GB";
}

std::string machine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model;
  int cpus = 0;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("processor")) ++cpus;
    if (model.empty() && line.starts_with("model name")) model = line.substr(line.find(':') + 2);
  }
  long mem_kb = 0;
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line))
    if (std::sscanf(line.c_str(), "MemTotal: %ld", &mem_kb) == 1) break;
  std::string out = (model.empty() ? std::string("unknown CPU") : model) + ", " +
                    std::to_string(cpus) + " logical CPUs (shared with other work), " +
                    fixed(static_cast<double>(mem_kb) / 1048576.0, 0) + " GiB RAM; compiler " +
                    __VERSION__;
#ifdef WEFT_BENCH_BUILD_TYPE
  out += std::string(", ") + WEFT_BENCH_BUILD_TYPE + " build";
#endif
  return out;
}

bool write_block(const std::string& path, const std::string& begin, const std::string& end,
                 const std::string& heading, const std::string& block) {
  std::string text;
  if (std::ifstream in(path); in) {
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  std::string generated = begin + "\n" + block + end;
  size_t b = text.find(begin);
  size_t e = text.find(end);
  if (b != std::string::npos && e != std::string::npos && e > b) {
    text.replace(b, e + end.size() - b, generated);
  } else {
    if (text.empty()) text = "# Benchmark results\n";
    if (!text.ends_with("\n")) text += "\n";
    text += "\n## " + heading + "\n\n" + generated + "\n";
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << text;
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool parse_options(int argc, char** argv, const std::vector<Option>& options, bool& partial,
                   std::string& command) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto it = std::find_if(options.begin(), options.end(), [&](const Option& o) {
      return a.starts_with(std::string("--") + o.name + "=");
    });
    if (it == options.end()) return false;
    try {
      it->set(a.substr(std::strlen(it->name) + 3));
    } catch (const std::exception&) {
      return false;
    }
    partial = partial || it->partial;
    command += " " + a;
  }
  return true;
}

std::string usage(const char* program, const std::vector<Option>& options) {
  std::string out = std::string("usage: ") + program;
  for (const Option& o : options) {
    std::string one = std::string(" [--") + o.name + "=" + o.example + "]";
    size_t nl = out.rfind('\n');
    size_t line = nl == std::string::npos ? out.size() : out.size() - nl - 1;
    if (line + one.size() > 100) out += "\n      ";
    out += one;
  }
  return out + "\n";
}

std::vector<int> parse_int_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) v.push_back(std::stoi(x));
  return v;
}

}  // namespace weft::bench
