#pragma once
// A CNI error result (CNI spec 1.0.0, section 5 "Error"): a numeric code, a short message and the
// details a user acts on. Every failure of weft-cni reaches the runtime as one of these, printed
// as JSON on stdout with a non-zero exit status (libcni reads the error from stdout).
#include <stdexcept>
#include <string>

namespace weft::cni {

// The spec's well-known codes (0-99 are reserved for them; 100+ are the plugin's own).
enum class CniCode : int {
  kIncompatibleVersion = 1,   // cniVersion not in supportedVersions
  kUnsupportedField = 2,      // the message names the key and its value
  kUnknownContainer = 3,      // the runtime need not call DEL
  kInvalidEnvironment = 4,    // CNI_COMMAND, CNI_CONTAINERID, ...: the message names them
  kIoFailure = 5,             // e.g. stdin could not be read
  kDecodeFailure = 6,         // the configuration is not JSON
  kInvalidNetworkConfig = 7,  // a value is present but wrong
  kTryAgainLater = 11,        // transient: the runtime retries (weft not running yet)
  kPluginNotAvailable = 50,   // STATUS (spec 1.1.0): the plugin cannot serve ADD now
  kWeftRefused = 100,         // the weft router refused the request (its reason in details)
};

struct CniError : std::runtime_error {
  CniError(CniCode c, const std::string& msg, const std::string& details_text = "")
      : std::runtime_error(msg), code(c), details(details_text) {}
  CniCode code;
  std::string details;
};

}  // namespace weft::cni
