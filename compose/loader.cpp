// load_project(): files, .env, interpolation, validation, include, extends,
// merging, profiles and names (see project.h).
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>

#include "compose/normalize.h"
#include "compose/project.h"
#include "compose/schema.h"
#include "support/error.h"
#include "support/fs.h"

namespace kiln::compose {
namespace {

std::string dir_of(llvm::StringRef path) { return llvm::sys::path::parent_path(path).str(); }

bool is_file(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

// The first existing compose file in `dir` or its parents.
std::string discover(std::string dir) {
  while (true) {
    for (const auto& name : default_file_names()) {
      std::string candidate = dir + "/" + name;
      if (is_file(candidate)) {
        return candidate;
      }
    }
    if (dir == "/" || dir.empty()) {
      return "";
    }
    dir = dir_of(dir);
    if (dir.empty()) {
      dir = "/";
    }
  }
}

// The override file docker compose reads beside a discovered one.
std::string override_for(const std::string& file) {
  llvm::StringRef name = llvm::sys::path::filename(file);
  std::string dir = dir_of(file);
  std::string base = name.startswith("docker-compose") ? "docker-compose" : "compose";
  for (const char* ext : {".yaml", ".yml"}) {
    std::string candidate = dir + "/" + base + ".override" + ext;
    if (is_file(candidate)) {
      return candidate;
    }
  }
  return "";
}

llvm::Error conflict(const std::string& kind, const std::string& name, const Location& where) {
  return make_error(where.str() + ": " + kind + "." + name + " conflicts with imported resource");
}

void merge_resources(Node& into, const Node& from) {
  for (const auto& [key, value] : from.entries) {
    Node* have = into.find(key);
    if (have && have->is_map() && value.is_map()) {
      merge_service(*have, value);
    } else {
      into.set(key, value);
    }
  }
}

struct Loader {
  const WarnFn& warn;
  /// `-f -`: the compose file read from stdin, and the directory it stands in.
  const std::string& stdin_text;
  std::string stdin_dir;
  std::vector<std::string> stack;  // files being loaded, for include/extends cycles
  /// Each file's `!reset`/`!override` paths (MergeTags).
  std::map<std::string, std::vector<std::vector<std::string>>> replaced;

  std::string file_dir(const std::string& path) const {
    return path == "-" ? stdin_dir : dir_of(path);
  }

  // Drops from `into` what `file` resets or overrides, before `file` is merged
  // into it; `prefix` selects the paths under it (a service, for extends).
  void apply_merge_tags(Node& into, const std::string& file,
                        llvm::ArrayRef<std::string> prefix = {}) const {
    auto it = replaced.find(file);
    if (it == replaced.end()) {
      return;
    }
    for (const auto& path : it->second) {
      if (path.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin())) {
        remove_path(into, llvm::ArrayRef<std::string>(path).drop_front(prefix.size()));
      }
    }
  }

  // A mapping whose entries were all reset is left out, as docker compose
  // leaves out an empty `environment:` or `labels:`.
  void drop_emptied(Node& model) const {
    for (const auto& [file, paths] : replaced) {
      for (const auto& path : paths) {
        if (path.size() < 3) {
          continue;
        }
        llvm::ArrayRef<std::string> parent = llvm::ArrayRef<std::string>(path).drop_back();
        const Node* at = &model;
        for (const auto& key : parent) {
          at = at && at->is_map() ? at->find(key) : nullptr;
        }
        if (at && at->is_map() && at->entries.empty()) {
          remove_path(model, parent);
        }
      }
    }
  }

  llvm::Expected<Node> read(const std::string& path, const Environment& env) {
    MergeTags tags;
    auto top = path == "-" ? parse_yaml(stdin_text, path, &tags) : load_yaml_file(path, &tags);
    if (!top) {
      return top.takeError();
    }
    replaced[path] = std::move(tags.replaced);
    if (top->is_map()) {
      if (const Node* version = top->find("version"); version && warn) {
        warn(path +
             ": the attribute `version` is obsolete, it will be ignored, please remove it "
             "to avoid potential confusion");
      }
      top->erase("version");
    }
    if (auto err = interpolate_tree(*top, env, "", warn)) {
      return std::move(err);
    }
    if (auto err = validate_file(*top)) {
      return std::move(err);
    }
    return top;
  }

  // One file, its includes loaded, its services normalized and extended; paths
  // relative to `base_dir`.
  llvm::Expected<Node> load_file(const std::string& path, const std::string& base_dir,
                                 const Environment& env) {
    if (std::find(stack.begin(), stack.end(), path) != stack.end()) {
      return make_error(path + ": include or extends cycle");
    }
    stack.push_back(path);
    auto top = read(path, env);
    if (!top) {
      stack.pop_back();
      return top.takeError();
    }
    llvm::Error err = finish_file(*top, path, base_dir, env);
    stack.pop_back();
    if (err) {
      return std::move(err);
    }
    return top;
  }

  llvm::Error finish_file(Node& top, const std::string& path, const std::string& base_dir,
                          const Environment& env) {
    if (Node* services = top.find("services"); services && services->is_map()) {
      for (auto& [name, service] : services->entries) {
        if (auto err = normalize_service(service, name, base_dir, env)) {
          return err;
        }
      }
      std::set<std::string> done;
      for (auto& [name, service] : services->entries) {
        if (auto err = extend(*services, name, path, base_dir, env, done, 0)) {
          return err;
        }
      }
    }
    normalize_resource_paths(top, base_dir, env);
    if (const Node* include = top.find("include")) {
      Node included = *include;
      top.erase("include");
      for (const Node& item : included.items) {
        if (auto err = include_one(top, item, path, base_dir, env)) {
          return err;
        }
      }
    }
    return llvm::Error::success();
  }

  void normalize_resource_paths(Node& top, const std::string& base_dir, const Environment& env) {
    for (const char* kind : {"secrets", "configs"}) {
      Node* resources = top.find(kind);
      if (!resources || !resources->is_map()) {
        continue;
      }
      for (auto& [name, spec] : resources->entries) {
        if (Node* file = spec.find("file")) {
          *file = Node::str(absolute_path(file->text, base_dir, env));
        }
      }
    }
  }

  llvm::Error extend(Node& services, const std::string& name, const std::string& path,
                     const std::string& base_dir, const Environment& env,
                     std::set<std::string>& done, int depth) {
    Node* service = services.find(name);
    const Node* ext = service ? service->find("extends") : nullptr;
    if (!ext || done.count(name)) {
      done.insert(name);
      return llvm::Error::success();
    }
    if (depth > 32) {
      return make_error(ext->where.str() + ": extends cycle at service " + quote(name));
    }
    std::string base_name = ext->is_scalar() ? ext->text : ext->find("service")->text;
    const Node* file = ext->is_map() ? ext->find("file") : nullptr;
    Location where = ext->where;
    Node base;
    if (file) {
      std::string other = absolute_path(file->text, file_dir(path), env);
      auto top = load_file(other, dir_of(other), env);
      if (!top) {
        return with_context(top.takeError(), where.str() + ": extends");
      }
      const Node* others = top->find("services");
      const Node* found = others ? others->find(base_name) : nullptr;
      if (!found) {
        return make_error(where.str() + ": cannot extend service " + quote(name) + ": service " +
                          quote(base_name) + " not found in " + quote(other));
      }
      base = *found;
    } else {
      if (base_name == name) {
        return make_error(where.str() + ": service " + quote(name) + " extends itself");
      }
      if (!services.find(base_name)) {
        return make_error(where.str() + ": cannot extend service " + quote(name) + ": service " +
                          quote(base_name) + " not found");
      }
      if (auto err = extend(services, base_name, path, base_dir, env, done, depth + 1)) {
        return err;
      }
      base = *services.find(base_name);
      service = services.find(name);
    }
    Node own = *service;
    own.erase("extends");
    base.erase("extends");
    apply_merge_tags(base, path, {"services", name});
    merge_service(base, own);
    *services.find(name) = std::move(base);
    done.insert(name);
    return llvm::Error::success();
  }

  llvm::Error include_one(Node& top, const Node& item, const std::string& path,
                          const std::string& base_dir, const Environment& env) {
    std::vector<std::string> paths;
    std::string project_dir;
    std::vector<std::string> env_files;
    if (item.is_scalar()) {
      paths.push_back(item.text);
    } else {
      const Node* p = item.find("path");
      if (!p) {
        return make_error(item.where.str() + ": include needs a 'path'");
      }
      if (p->is_scalar()) {
        paths.push_back(p->text);
      } else {
        for (const Node& x : p->items) {
          paths.push_back(x.text);
        }
      }
      if (const Node* d = item.find("project_directory")) {
        project_dir = absolute_path(d->text, base_dir, env);
      }
      if (const Node* e = item.find("env_file")) {
        if (e->is_scalar()) {
          env_files.push_back(absolute_path(e->text, base_dir, env));
        } else {
          for (const Node& x : e->items) {
            env_files.push_back(absolute_path(x.text, base_dir, env));
          }
        }
      }
    }
    for (auto& p : paths) {
      p = absolute_path(p, file_dir(path), env);
    }
    if (project_dir.empty()) {
      project_dir = dir_of(paths.front());
    }
    if (env_files.empty() && is_file(project_dir + "/.env")) {
      env_files.push_back(project_dir + "/.env");
    }
    Environment sub = env;
    for (const auto& f : env_files) {
      auto values = read_env_file(f, env);
      if (!values) {
        return with_context(values.takeError(), item.where.str() + ": include");
      }
      for (auto& [k, v] : *values) {
        sub.emplace(k, v);  // the including project's environment wins
      }
    }
    Node merged = Node::map();
    for (const auto& p : paths) {
      auto one = load_file(p, project_dir, sub);
      if (!one) {
        return with_context(one.takeError(), item.where.str() + ": include");
      }
      apply_merge_tags(merged, p);
      merge_top(merged, *one);
    }
    for (const char* kind : {"services", "networks", "volumes", "secrets", "configs"}) {
      const Node* theirs = merged.find(kind);
      if (!theirs || !theirs->is_map()) {
        continue;
      }
      Node* ours = top.find(kind);
      if (!ours || ours->is_null()) {
        ours = &top.set(kind, Node::map());
      }
      for (const auto& [name, value] : theirs->entries) {
        if (const Node* have = ours->find(name)) {
          if (emit_yaml(*have) != emit_yaml(value)) {
            return conflict(kind, name, item.where);
          }
          continue;
        }
        ours->set(name, value);
      }
    }
    return llvm::Error::success();
  }

  static void merge_top(Node& into, const Node& from) {
    for (const auto& [key, value] : from.entries) {
      Node* have = into.find(key);
      if (key == "services" && have && have->is_map() && value.is_map()) {
        for (const auto& [name, service] : value.entries) {
          if (Node* existing = have->find(name)) {
            merge_service(*existing, service);
          } else {
            have->set(name, service);
          }
        }
      } else if (have && have->is_map() && value.is_map()) {
        merge_resources(*have, value);
      } else {
        into.set(key, value);
      }
    }
  }
};

llvm::Expected<Environment> load_environment(const LoadOptions& options,
                                             const std::string& project_dir) {
  std::vector<std::string> env_files;
  for (const auto& f : options.env_files) {
    env_files.push_back(absolute_path(f, options.working_dir, options.environment));
  }
  if (options.env_files.empty() && is_file(project_dir + "/.env")) {
    env_files.push_back(project_dir + "/.env");
  }
  Environment env = options.environment;
  for (const auto& f : env_files) {
    auto values = read_env_file(f, options.environment);
    if (!values) {
      return values.takeError();
    }
    for (auto& [k, v] : *values) {
      env.emplace(k, v);  // the process's environment wins
    }
  }
  return env;
}

}  // namespace

const std::vector<std::string>& default_file_names() {
  static const std::vector<std::string> names = {"compose.yaml", "compose.yml",
                                                 "docker-compose.yml", "docker-compose.yaml"};
  return names;
}

bool valid_project_name(llvm::StringRef name) {
  if (name.empty() ||
      !(llvm::isDigit(name.front()) || (name.front() >= 'a' && name.front() <= 'z'))) {
    return false;
  }
  return llvm::all_of(name, [](char c) {
    return llvm::isDigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
  });
}

std::string normalize_project_name(llvm::StringRef name) {
  std::string out;
  for (char c : name.lower()) {
    if (llvm::isDigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_') {
      out += c;
    }
  }
  size_t start = 0;
  while (start < out.size() && (out[start] == '-' || out[start] == '_')) {
    ++start;
  }
  return out.substr(start);
}

llvm::Error finish_project(Project& project, const LoadOptions& options, const WarnFn& warn);

llvm::Expected<Project> load_project(const LoadOptions& options, const WarnFn& warn) {
  Project project;
  std::vector<std::string> files;
  for (const auto& f : options.files) {
    files.push_back(f == "-" ? f : absolute_path(f, options.working_dir, options.environment));
  }
  if (files.empty()) {
    if (auto it = options.environment.find("COMPOSE_FILE");
        it != options.environment.end() && !it->second.empty()) {
      llvm::SmallVector<llvm::StringRef, 4> parts;
      llvm::StringRef(it->second).split(parts, ':', -1, false);
      for (llvm::StringRef p : parts) {
        files.push_back(absolute_path(p, options.working_dir, options.environment));
      }
    }
  }
  if (files.empty()) {
    std::string found = discover(options.working_dir);
    if (found.empty()) {
      return llvm::make_error<UsageError>(
          "no configuration file provided: not found (looked for compose.yaml, compose.yml, "
          "docker-compose.yml, docker-compose.yaml in " +
          quote(options.working_dir) + " and its parents)");
    }
    files.push_back(found);
    if (std::string over = override_for(found); !over.empty()) {
      files.push_back(over);
    }
  }
  project.files = files;
  // A compose file read from stdin stands in the current directory.
  project.working_dir =
      !options.project_directory.empty()
          ? absolute_path(options.project_directory, options.working_dir, options.environment)
      : files.front() == "-" ? options.working_dir
                             : dir_of(files.front());
  auto env = load_environment(options, project.working_dir);
  if (!env) {
    return env.takeError();
  }
  project.environment = std::move(*env);
  if (std::count(files.begin(), files.end(), "-") > 1) {
    return llvm::make_error<UsageError>("-f - (stdin) can be given only once");
  }
  Loader loader{warn, options.stdin_text, options.working_dir};
  Node merged = Node::map();
  for (const auto& file : files) {
    auto top = loader.load_file(file, project.working_dir, project.environment);
    if (!top) {
      return top.takeError();
    }
    loader.apply_merge_tags(merged, file);
    Loader::merge_top(merged, *top);
  }
  loader.drop_emptied(merged);
  project.model = std::move(merged);
  if (auto err = finish_project(project, options, warn)) {
    return std::move(err);
  }
  return project;
}

}  // namespace kiln::compose
