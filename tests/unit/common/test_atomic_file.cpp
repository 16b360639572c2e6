#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "common/atomic_file.h"

namespace fs = std::filesystem;
using weft::read_file;
using weft::write_file_atomic;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "weft-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const char* name) const { return path + "/" + name; }
  std::string path;
};

mode_t mode_of(const std::string& p) {
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("write_file_atomic creates a file with exactly the requested mode") {
  TempDir d;
  mode_t old = ::umask(0);  // a permissive umask must not widen the mode...
  write_file_atomic(d.file("secret"), "s3cret", 0600);
  ::umask(077);  // ...and a strict one must not narrow it
  write_file_atomic(d.file("shared"), "x", 0644);
  ::umask(old);
  CHECK(mode_of(d.file("secret")) == 0600);
  CHECK(mode_of(d.file("shared")) == 0644);
  CHECK(read_file(d.file("secret")) == "s3cret");
}

TEST_CASE("write_file_atomic replaces content and leaves no temporary files") {
  TempDir d;
  write_file_atomic(d.file("f"), "first, longer content", 0600);
  write_file_atomic(d.file("f"), "second", 0600);
  CHECK(read_file(d.file("f")) == "second");
  write_file_atomic(d.file("f"), "", 0600);
  CHECK(read_file(d.file("f")) == "");
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(d.path)) {
    (void)e;
    ++n;
  }
  CHECK(n == 1);
}

TEST_CASE("write_file_atomic keeps binary content intact") {
  TempDir d;
  std::string bin("a\0b\xff\n", 5);
  write_file_atomic(d.file("bin"), bin, 0600);
  CHECK(read_file(d.file("bin")) == bin);
}

TEST_CASE("write_file_atomic reports a missing directory with the path") {
  TempDir d;
  try {
    write_file_atomic(d.file("no/such/dir/f"), "x", 0600);
    FAIL("expected an exception");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("no/such/dir/f") != std::string::npos);
  }
}

TEST_CASE("write_file_atomic works with a bare file name in the current directory") {
  TempDir d;
  std::string cwd = fs::current_path().string();
  fs::current_path(d.path);
  write_file_atomic("plain", "ok", 0600);
  fs::current_path(cwd);
  CHECK(read_file(d.file("plain")) == "ok");
}

TEST_CASE("read_file tells a missing file from an unreadable one") {
  TempDir d;
  CHECK_FALSE(read_file(d.file("missing")).has_value());
  // A directory is not "missing": the caller must hear about it.
  CHECK_THROWS_AS(read_file(d.path), std::system_error);
}
