// What the commands share (cli/command.h): stores, names, errors, tables, rows,
// a container in the foreground.
#include "cli/command.h"

#include <iostream>

#include "containers/foreground_run.h"
#include "containers/image_store_open.h"
#include "support/docker_format.h"
#include "support/error.h"

namespace kiln::cli {

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store(const GlobalOptions& globals) {
  return containers::open_image_store(globals.root);
}

llvm::Expected<std::unique_ptr<cache::ImageStore>> open_store_read_only(
    const GlobalOptions& globals) {
  return containers::open_image_store(globals.root, cache::StoreAccess::read_only);
}

void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows) {
  os << support::tabwrite(rows);
}

namespace {
constexpr int kExitAuth = 3;  // an authentication failure
}  // namespace

int print_error(llvm::Error err, std::ostream& os) {
  int code = 1;
  llvm::handleAllErrors(
      std::move(err), [&](const SourceError& e) { os << format_source_error(e); },
      [&](const ExecError& e) {
        for (const auto& line : e.last_lines()) {
          os << line << "\n";
        }
        os << "error: " << e.message() << "\n";
      },
      [&](const AuthError& e) {
        os << "error: " << e.message() << "\n";
        code = kExitAuth;
      },
      [&](const CancelledError& e) {
        os << "error: " << e.message() << "\n";
        code = 130;
      },
      [&](const llvm::ErrorInfoBase& e) { os << "error: " << e.message() << "\n"; });
  return code;
}

int for_each_name(const std::vector<std::string>& names, EchoName echo,
                  const std::function<llvm::Error(const std::string& name)>& each) {
  int code = 0;
  for (const std::string& name : names) {
    if (llvm::Error err = each(name)) {
      std::cout.flush();
      code = print_error(std::move(err), std::cerr);
      continue;
    }
    if (echo == EchoName::yes) {
      std::cout << name << "\n";
      std::cout.flush();
    }
  }
  return code;
}

llvm::Expected<int> for_each_container(
    const GlobalOptions& globals, const std::vector<std::string>& names, EchoName echo,
    const std::function<llvm::Error(const containers::ContainerStore& store,
                                    const std::string& id)>& each) {
  KILN_TRY(auto store, containers::ContainerStore::open(globals.root));
  return for_each_name(names, echo, [&](const std::string& name) -> llvm::Error {
    KILN_TRY(std::string id, store.resolve(name));
    return each(store, id);
  });
}

bool is_template_format(llvm::StringRef format) {
  return !format.empty() && format != "table" && format != "json";
}

std::string list_format(llvm::StringRef format, llvm::StringRef table, bool quiet) {
  if (quiet) {
    return "{{.ID}}";
  }
  if (format == "json") {
    return "{{json .}}";
  }
  return is_template_format(format) ? format.str() : table.str();
}

llvm::Error print_rows(std::ostream& os, llvm::StringRef format,
                       const std::vector<nlohmann::ordered_json>& rows,
                       const nlohmann::ordered_json& header) {
  KILN_TRY(std::string text, support::format_rows(format, rows, header));
  os << text;
  return llvm::Error::success();
}

llvm::Expected<int> start_failure(llvm::Error err) {
  int code = 0;
  KILN_CHECK(llvm::handleErrors(std::move(err), [&](const StartError& e) {
    print_error(make_error(e.message()), std::cerr);
    code = e.exit_code();
  }));
  return code;
}

llvm::Expected<int> run_foreground(const containers::ContainerStore& store,
                                   const containers::ContainerSpec& spec) {
  auto code = containers::run_in_foreground(store, spec);
  if (!code) {
    return start_failure(code.takeError());
  }
  return *code;
}

bool confirm(const std::string& warning) {
  std::cerr << warning << "Are you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  llvm::StringRef a = llvm::StringRef(answer).trim();
  return a.equals_insensitive("y") || a.equals_insensitive("yes");
}

}  // namespace kiln::cli
