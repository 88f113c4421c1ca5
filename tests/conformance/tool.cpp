// conformance_tool: the pieces of the conformance suite that scripts/conformance
// needs outside Catch2.
//   conformance_tool base OUT.tar                 busybox base rootfs tar
//   conformance_tool prepare CASE_DIR OUT_DIR     build context of a case
//   conformance_tool args CASE_DIR CTX            extra build args, one per line
//   conformance_tool expect BASE_IMAGE.tar IMAGE.tar   expectation JSON on stdout
//   conformance_tool diff EXPECTED.json ACTUAL.json    differences; exit 1 if any
#include <clocale>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

#include "tests/conformance/cases.h"
#include "tests/conformance/flatten.h"
#include "tests/testutil/testutil.h"

namespace {

int usage() {
  std::cerr << "usage: conformance_tool base OUT.tar | prepare CASE OUT | args CASE CTX |"
               " expect BASE.tar IMAGE.tar | diff A.json B.json\n";
  return 2;
}

int run(int argc, char** argv) {
  using namespace kiln::conformance;
  if (argc < 3) {
    return usage();
  }
  std::string cmd = argv[1];
  if (cmd == "base") {
    kiln::testutil::TempDir dir("kiln-conf-base-");
    kiln::testutil::make_busybox_rootfs(dir.path());
    kiln::testutil::tar_directory(dir.path(), argv[2]);
    return 0;
  }
  if (argc < 4) {
    return usage();
  }
  if (cmd == "prepare") {
    prepare_context(argv[2], argv[3]);
    return 0;
  }
  if (cmd == "args") {
    for (const auto& a : case_args(argv[2], argv[3])) {
      std::cout << a << "\n";
    }
    return 0;
  }
  if (cmd == "expect") {
    Image base = read_image_tar(argv[2]);
    Image image = read_image_tar(argv[3]);
    std::cout << format_expectation(expectation(image, base));
    return 0;
  }
  if (cmd == "diff") {
    auto a = nlohmann::json::parse(kiln::testutil::read_file(argv[2]));
    auto b = nlohmann::json::parse(kiln::testutil::read_file(argv[3]));
    auto diffs = diff_expectations(a, b);
    for (const auto& d : diffs) {
      std::cout << "  " << d << "\n";
    }
    return diffs.empty() ? 0 : 1;
  }
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "C.UTF-8");  // libarchive converts non-ASCII names by locale
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "conformance_tool: " << e.what() << "\n";
    return 2;
  }
}
