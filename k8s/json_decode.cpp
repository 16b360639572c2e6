#include "k8s/json_decode.h"

#include <limits>

namespace weft::k8s {

namespace {

const char* json_type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "bool";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "number";
    default:
      return "null";
  }
}

}  // namespace

FieldError type_error(const std::string& path, const nlohmann::json& value, const char* expected) {
  std::string detail = std::string("must be ") + expected + ", not " + json_type_name(value);
  // YAML 1.1 (as kubectl reads it) takes unquoted y, yes, on, true... for booleans.
  if (value.is_boolean() && std::string(expected) == "a string")
    detail += " (YAML reads unquoted y/n, yes/no, on/off and true/false as booleans: quote it)";
  if (value.is_string()) return FieldError::invalid(path, value.get<std::string>(), detail);
  if (value.is_object()) return FieldError::invalid_raw(path, "{...}", detail);
  if (value.is_array()) return FieldError::invalid_raw(path, "[...]", detail);
  return FieldError::invalid_raw(path, value.dump(), detail);
}

ObjectFields::ObjectFields(const nlohmann::json& value, std::string path, FieldErrors& errors,
                           std::initializer_list<const char*> known)
    : path_(std::move(path)), errors_(errors) {
  if (value.is_null()) return;
  if (!value.is_object()) {
    errors_.push_back(type_error(path_, value, "an object"));
    return;
  }
  obj_ = &value;
  for (const auto& [k, v] : value.items()) {
    bool ok = false;
    for (const char* n : known) ok = ok || k == n;
    if (!ok) errors_.push_back(FieldError::unknown_field(child(path_, k)));
  }
}

const nlohmann::json* ObjectFields::get(const char* name) const {
  if (!obj_) return nullptr;
  auto it = obj_->find(name);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> ObjectFields::string(const char* name) const {
  const nlohmann::json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    errors_.push_back(type_error(at(name), *v, "a string"));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> ObjectFields::integer(const char* name) const {
  const nlohmann::json* v = get(name);
  if (!v) return std::nullopt;
  if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()))
    return int64_t(v->get<uint64_t>());
  errors_.push_back(type_error(at(name), *v, "an integer"));
  return std::nullopt;
}

const nlohmann::json* ObjectFields::object(const char* name) const {
  const nlohmann::json* v = get(name);
  if (v && !v->is_object()) {
    errors_.push_back(type_error(at(name), *v, "an object"));
    return nullptr;
  }
  return v;
}

std::vector<const nlohmann::json*> ObjectFields::list(const char* name) const {
  std::vector<const nlohmann::json*> out;
  const nlohmann::json* v = get(name);
  if (!v) return out;
  if (!v->is_array()) {
    errors_.push_back(type_error(at(name), *v, "a list"));
    return out;
  }
  for (const auto& e : *v) out.push_back(&e);
  return out;
}

std::optional<Labels> ObjectFields::string_map(const char* name) const {
  const nlohmann::json* v = object(name);
  if (!v) return std::nullopt;
  Labels out;
  for (const auto& [k, e] : v->items()) {
    if (e.is_null()) {
      out[k] = "";
    } else if (!e.is_string()) {
      errors_.push_back(type_error(key(at(name), k), e, "a string"));
    } else {
      out[k] = e.get<std::string>();
    }
  }
  return out;
}

std::vector<std::string> ObjectFields::string_list(const char* name) const {
  std::vector<std::string> out;
  std::vector<const nlohmann::json*> items = list(name);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i]->is_null()) {
      out.emplace_back();
    } else if (!items[i]->is_string()) {
      errors_.push_back(type_error(index(at(name), i), *items[i], "a string"));
    } else {
      out.push_back(items[i]->get<std::string>());
    }
  }
  return out;
}

std::optional<int32_t> as_int32(const nlohmann::json& v, const std::string& path,
                                FieldErrors& errors) {
  if (v.is_number_integer()) {
    bool fits = v.is_number_unsigned()
                    ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<int32_t>::max())
                    : v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
                          v.get<int64_t>() <= std::numeric_limits<int32_t>::max();
    if (fits) return static_cast<int32_t>(v.get<int64_t>());
  }
  errors.push_back(type_error(path, v, "a 32-bit integer"));
  return std::nullopt;
}

}  // namespace weft::k8s
