#include "k8s/yaml_json.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

namespace weft::k8s {

YamlError::YamlError(int line_, int column_, const std::string& msg)
    : std::runtime_error(line_ > 0 ? "line " + std::to_string(line_) + ", column " +
                                         std::to_string(column_) + ": " + msg
                                   : msg),
      line(line_),
      column(column_) {}

namespace {

bool in(const std::string& s, std::initializer_list<const char*> list) {
  for (const char* e : list)
    if (s == e) return true;
  return false;
}

// Go's strconv.ParseInt(s, 0, 64) after go-yaml removed underscores: optional sign, then
// 0x/0o/0b or a leading 0 (octal) or decimal.
bool parse_go_int(const std::string& s, int64_t& out, uint64_t& uout, bool& is_unsigned) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size()) return false;
  int base = 10;
  if (s[i] == '0' && i + 1 < s.size()) {
    char b = s[i + 1];
    if (b == 'x' || b == 'X')
      base = 16, i += 2;
    else if (b == 'o' || b == 'O')
      base = 8, i += 2;
    else if (b == 'b' || b == 'B')
      base = 2, i += 2;
    else
      base = 8, i += 1;
  }
  if (i >= s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    if (d >= base) return false;
    if (v > (UINT64_MAX - uint64_t(d)) / uint64_t(base)) return false;
    v = v * uint64_t(base) + uint64_t(d);
  }
  if (neg) {
    if (v > uint64_t(INT64_MAX) + 1) return false;
    out = v == uint64_t(INT64_MAX) + 1 ? INT64_MIN : -int64_t(v);
    is_unsigned = false;
    return true;
  }
  if (v <= uint64_t(INT64_MAX)) {
    out = int64_t(v);
    is_unsigned = false;
  } else {
    uout = v;
    is_unsigned = true;
  }
  return true;
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yaml_style_float(const std::string& s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t b = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i - b;
  };
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < n && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

// A float as Go's JSON encoder would carry it: integral values become integers.
nlohmann::json float_value(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0)
    return nlohmann::json(int64_t(d));
  return nlohmann::json(d);
}

struct Frame {
  nlohmann::json value;
  YAML::anchor_t anchor = 0;
  size_t nodes_at_start = 0;
  bool has_key = false;  // a mapping holding a key that awaits its value
  std::string key;
  YAML::Mark key_mark;
};

// Builds JSON from yaml-cpp's parse events, enforcing the limits.
class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(const YamlLimits& limits) : limits_(limits) {}

  bool done = false;
  YamlDocument doc;

  void OnDocumentStart(const YAML::Mark&) override {
    stack_.clear();
    doc = {};
    done = false;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(mark, nullptr, anchor, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YamlError(mark.line + 1, mark.column + 1, "unknown anchor");
    add(mark, it->second.first, 0, it->second.second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    nlohmann::json v;
    if (tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool" ||
        tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:null")
      v = resolve_plain_scalar(value);
    else
      v = value;
    if (v.is_number_float() && !std::isfinite(v.get<double>()))
      throw YamlError(mark.line + 1, mark.column + 1, "unsupported value: " + value);
    add(mark, std::move(v), anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, nlohmann::json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, nlohmann::json::object(), anchor);
  }
  void OnMapEnd() override {
    if (!stack_.empty() && stack_.back().has_key) {
      // A key without a value (only possible through odd flow syntax): null, as go-yaml reads it.
      Frame& f = stack_.back();
      f.value[f.key] = nullptr;
      f.has_key = false;
    }
    close();
  }

 private:
  void count(const YAML::Mark& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes)
      throw YamlError(
          mark.line + 1, mark.column + 1,
          "too many nodes (more than " + std::to_string(limits_.max_nodes) + ", aliases expanded)");
  }

  void open(const YAML::Mark& mark, nlohmann::json empty, YAML::anchor_t anchor) {
    if (expecting_key())
      throw YamlError(mark.line + 1, mark.column + 1, "a mapping key must be a scalar");
    if (stack_.size() >= limits_.max_depth)
      throw YamlError(mark.line + 1, mark.column + 1,
                      "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (stack_.empty()) doc.line = mark.line + 1;
    count(mark, 1);
    stack_.push_back({std::move(empty), anchor, nodes_ - 1, false, {}, mark});
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    size_t n = nodes_ - f.nodes_at_start;
    if (f.anchor) anchors_[f.anchor] = {f.value, n};
    deliver(f.key_mark, std::move(f.value));
  }

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().has_key;
  }

  void add(const YAML::Mark& mark, nlohmann::json v, YAML::anchor_t anchor, size_t nodes) {
    if (expecting_key()) {
      if (v.is_structured())
        throw YamlError(mark.line + 1, mark.column + 1, "a mapping key must be a scalar");
      Frame& f = stack_.back();
      f.key = v.is_string() ? v.get<std::string>() : v.is_null() ? "null" : v.dump();
      if (f.value.contains(f.key))
        throw YamlError(mark.line + 1, mark.column + 1, "key \"" + f.key + "\" already set in map");
      f.has_key = true;
      f.key_mark = mark;
      count(mark, 1);
      return;
    }
    count(mark, nodes);
    if (anchor) anchors_[anchor] = {v, nodes};
    if (stack_.empty()) doc.line = mark.line + 1;
    deliver(mark, std::move(v));
  }

  void deliver(const YAML::Mark&, nlohmann::json v) {
    if (stack_.empty()) {
      doc.value = std::move(v);
      done = true;
      return;
    }
    Frame& f = stack_.back();
    if (f.value.is_array()) {
      f.value.push_back(std::move(v));
    } else {
      f.value[f.key] = std::move(v);
      f.has_key = false;
    }
  }

  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<nlohmann::json, size_t>> anchors_;
  size_t nodes_ = 0;
};

void emit(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, e] : v.items()) {
        out << YAML::Key;
        emit(out, nlohmann::json(k));
        out << YAML::Value;
        emit(out, e);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& e : v) emit(out, e);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      nlohmann::json back = resolve_plain_scalar(s);
      bool plain_ok = back.is_string() && back.get_ref<const std::string&>() == s;
      if (!plain_ok) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case nlohmann::json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << v.dump();
  }
}

}  // namespace

nlohmann::json resolve_plain_scalar(const std::string& s) {
  if (in(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (in(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) return true;
  if (in(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}))
    return false;
  if (in(s, {".nan", ".NaN", ".NAN"})) return std::nan("");
  if (in(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return HUGE_VAL;
  if (in(s, {"-.inf", "-.Inf", "-.INF"})) return -HUGE_VAL;
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
    std::string plain;
    for (char ch : s)
      if (ch != '_') plain += ch;
    int64_t i = 0;
    uint64_t u = 0;
    bool is_unsigned = false;
    if (parse_go_int(plain, i, u, is_unsigned))
      return is_unsigned ? nlohmann::json(u) : nlohmann::json(i);
    if (yaml_style_float(plain)) return float_value(std::strtod(plain.c_str(), nullptr));
  }
  return s;
}

std::vector<YamlDocument> parse_yaml_documents(std::string_view text, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw YamlError(0, 0,
                    "input is " + std::to_string(text.size()) + " bytes, more than the " +
                        std::to_string(limits.max_bytes) + " accepted");
  std::vector<YamlDocument> docs;
  std::istringstream stream{std::string(text)};
  try {
    YAML::Parser parser(stream);
    JsonBuilder builder(limits);
    while (parser.HandleNextDocument(builder)) {
      if (docs.size() >= limits.max_documents)
        throw YamlError(0, 0, "more than " + std::to_string(limits.max_documents) + " documents");
      docs.push_back(std::move(builder.doc));
    }
  } catch (const YAML::Exception& e) {
    throw YamlError(e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  return docs;
}

std::string to_yaml(const nlohmann::json& value) {
  YAML::Emitter out;
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace weft::k8s
