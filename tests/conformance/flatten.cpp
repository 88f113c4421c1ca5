#include "tests/conformance/flatten.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/digest.h"

namespace kiln::conformance {
namespace {

using Json = nlohmann::json;

/// Strips "./", leading and trailing slashes: "./a/b/" → "/a/b"; root → "".
std::string clean_path(std::string p) {
  while (p.rfind("./", 0) == 0) {
    p.erase(0, 2);
  }
  while (!p.empty() && p.front() == '/') {
    p.erase(0, 1);
  }
  while (!p.empty() && p.back() == '/') {
    p.pop_back();
  }
  if (p == ".") {
    p.clear();
  }
  return p.empty() ? std::string() : "/" + p;
}

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

/// Reads every regular entry of an (optionally compressed) tar in memory.
std::map<std::string, std::string> read_outer(const std::string& path) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    std::string err = archive_error_string(a) ? archive_error_string(a) : "?";
    archive_read_free(a);
    throw std::runtime_error("open '" + path + "': " + err);
  }
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> links;  // docker save links repeated layers
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
      std::string name = clean_path(archive_entry_pathname(e)).substr(1);
      std::string dir = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
      std::string target = archive_entry_symlink(e);
      while (target.rfind("../", 0) == 0) {
        target.erase(0, 3);
        dir = dir.find('/') == std::string::npos ? "" : dir.substr(0, dir.rfind('/'));
      }
      links[name] = dir.empty() ? target : dir + "/" + target;
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) {
      continue;
    }
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    la_ssize_t n = archive_read_data(a, data.data(), data.size());
    if (n < 0 || static_cast<size_t>(n) != data.size()) {
      archive_read_free(a);
      throw std::runtime_error("read '" + path + "': short entry");
    }
    files[clean_path(archive_entry_pathname(e)).substr(1)] = std::move(data);
  }
  archive_read_free(a);
  for (const auto& [name, target] : links) {
    auto it = files.find(target);
    if (it != files.end()) {
      files[name] = it->second;
    }
  }
  return files;
}

class Flattener {
 public:
  explicit Flattener(Image& image) : image_(image) {}

  void apply_layer(const std::string& blob) {
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_memory(a, blob.data(), blob.size()) != ARCHIVE_OK) {
      archive_read_free(a);
      throw std::runtime_error("layer is not a tar");
    }
    struct Pending {
      std::string path;
      Entry entry;
      std::string link;  // hard link source
    };
    std::vector<Pending> adds;
    std::vector<std::string> opaque, whiteouts;
    archive_entry* e = nullptr;
    int rc = 0;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
      std::string path = clean_path(archive_entry_pathname(e));
      if (path.empty()) {
        continue;
      }
      std::string dir = path.substr(0, path.rfind('/'));
      std::string name = path.substr(path.rfind('/') + 1);
      if (name == ".wh..wh..opq") {
        opaque.push_back(dir);
        continue;
      }
      if (name.rfind(".wh.", 0) == 0) {
        whiteouts.push_back(dir + "/" + name.substr(4));
        continue;
      }
      Pending p{path, entry_of(a, e), ""};
      if (const char* hl = archive_entry_hardlink(e)) {
        p.link = clean_path(hl);
      }
      adds.push_back(std::move(p));
    }
    if (rc != ARCHIVE_EOF) {
      std::string err = archive_error_string(a) ? archive_error_string(a) : "?";
      archive_read_free(a);
      throw std::runtime_error("layer: " + err);
    }
    archive_read_free(a);
    for (const auto& d : opaque) {
      remove_children(d);
    }
    for (const auto& w : whiteouts) {
      remove_tree(w);
    }
    for (auto& p : adds) {
      add(p.path, std::move(p.entry), p.link);
    }
  }

  void finish() {
    std::map<int, std::vector<std::string>> groups;
    for (auto& [path, entry] : image_.files) {
      if (entry.group >= 0) {
        groups[entry.group].push_back(path);
      }
    }
    for (auto& [id, members] : groups) {
      if (members.size() < 2) {
        continue;
      }
      for (const auto& m : members) {
        image_.files[m].hardlink = members.front();  // std::map order: smallest first
      }
    }
  }

 private:
  Entry entry_of(archive* a, archive_entry* e) {
    Entry out;
    out.mode = archive_entry_perm(e) & 07777;
    out.uid = static_cast<uint32_t>(archive_entry_uid(e));
    out.gid = static_cast<uint32_t>(archive_entry_gid(e));
    switch (archive_entry_filetype(e)) {
      case AE_IFDIR:
        out.type = "dir";
        break;
      case AE_IFLNK:
        out.type = "symlink";
        out.target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
        break;
      case AE_IFCHR:
        out.type = "char";
        break;
      case AE_IFBLK:
        out.type = "block";
        break;
      case AE_IFIFO:
        out.type = "fifo";
        break;
      default: {
        out.type = "file";
        if (archive_entry_hardlink(e) && archive_entry_size(e) == 0) {
          break;  // content comes from the link source
        }
        std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
        la_ssize_t n = data.empty() ? 0 : archive_read_data(a, data.data(), data.size());
        if (n < 0 || static_cast<size_t>(n) != data.size()) {
          throw std::runtime_error("layer: short file entry");
        }
        out.size = data.size();
        out.sha256 = Digest::of(data).hex();
      }
    }
    if (out.type == "char" || out.type == "block") {
      out.target = std::to_string(archive_entry_rdevmajor(e)) + ":" +
                   std::to_string(archive_entry_rdevminor(e));
    }
    archive_entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      out.xattrs[name] = to_hex(std::string(static_cast<const char*>(value), size));
    }
    return out;
  }

  void ensure_parents(const std::string& path) {
    for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
      std::string parent = path.substr(0, pos);
      auto it = image_.files.find(parent);
      if (it == image_.files.end() || it->second.type != "dir") {
        Entry d;
        d.type = "dir";
        d.mode = 0755;
        image_.files[parent] = d;
      }
    }
  }

  void add(const std::string& path, Entry entry, const std::string& link) {
    ensure_parents(path);
    if (!link.empty()) {
      auto src = image_.files.find(link);
      if (src == image_.files.end()) {
        throw std::runtime_error("layer: hard link '" + path + "' to missing '" + link + "'");
      }
      if (src->second.group < 0) {
        src->second.group = next_group_++;
      }
      entry = src->second;
    }
    auto it = image_.files.find(path);
    if (it != image_.files.end() && it->second.type == "dir" && entry.type == "dir") {
      it->second = entry;  // a directory entry updates metadata, keeps children
      return;
    }
    remove_tree(path);
    image_.files[path] = std::move(entry);
  }

  void remove_children(const std::string& dir) {
    std::string prefix = dir + "/";
    auto it = image_.files.lower_bound(prefix);
    while (it != image_.files.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      it = image_.files.erase(it);
    }
  }

  void remove_tree(const std::string& path) {
    image_.files.erase(path);
    remove_children(path);
  }

  Image& image_;
  int next_group_ = 0;
};

const Json& find_config(const std::map<std::string, std::string>& outer, Json& storage,
                        std::vector<std::string>& layer_names) {
  auto blob = [&](const std::string& digest) -> const std::string& {
    std::string name =
        "blobs/" + digest.substr(0, digest.find(':')) + "/" + digest.substr(digest.find(':') + 1);
    auto it = outer.find(name);
    if (it == outer.end()) {
      throw std::runtime_error("missing blob '" + name + "'");
    }
    return it->second;
  };
  if (auto it = outer.find("manifest.json"); it != outer.end()) {
    Json m = Json::parse(it->second).at(0);
    for (const auto& l : m.at("Layers")) {
      layer_names.push_back(l.get<std::string>());
    }
    storage = Json::parse(outer.at(m.at("Config").get<std::string>()));
    return storage;
  }
  auto idx = outer.find("index.json");
  if (idx == outer.end()) {
    throw std::runtime_error("neither manifest.json nor index.json in the archive");
  }
  Json index = Json::parse(idx->second);
  Json manifest = Json::parse(blob(index.at("manifests").at(0).at("digest")));
  while (manifest.contains("manifests")) {
    manifest = Json::parse(blob(manifest.at("manifests").at(0).at("digest")));
  }
  for (const auto& l : manifest.at("layers")) {
    std::string d = l.at("digest");
    layer_names.push_back("blobs/" + d.substr(0, d.find(':')) + "/" + d.substr(d.find(':') + 1));
  }
  storage = Json::parse(blob(manifest.at("config").at("digest")));
  return storage;
}

Json entry_json(const Entry& e) {
  Json j = Json::object();
  j["type"] = e.type;
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", e.mode);
  j["mode"] = mode;
  j["uid"] = e.uid;
  j["gid"] = e.gid;
  if (e.type == "file") {
    j["size"] = e.size;
    j["sha256"] = e.sha256;
  }
  if (!e.target.empty()) {
    j["target"] = e.target;
  }
  if (!e.hardlink.empty()) {
    j["hardlink"] = e.hardlink;
  }
  if (!e.xattrs.empty()) {
    j["xattrs"] = e.xattrs;
  }
  return j;
}

/// Config values that a Dockerfile sets; null, "" and {} count as unset.
bool is_unset(const Json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
         (v.is_object() && v.empty());
}

const char* const kConfigFields[] = {"Cmd",         "Entrypoint", "Env",     "ExposedPorts",
                                     "Healthcheck", "Labels",     "OnBuild", "Shell",
                                     "StopSignal",  "User",       "Volumes", "WorkingDir"};

}  // namespace

Image read_image_tar(const std::string& path) {
  auto outer = read_outer(path);
  Json config_storage;
  std::vector<std::string> layer_names;
  const Json& config = find_config(outer, config_storage, layer_names);
  Image image;
  if (config.contains("config") && config.at("config").is_object()) {
    image.config = config.at("config");
  }
  if (config.contains("history")) {
    image.history = config.at("history");
  }
  image.layers = layer_names.size();
  Flattener flat(image);
  for (const auto& name : layer_names) {
    auto it = outer.find(name);
    if (it == outer.end()) {
      throw std::runtime_error("missing layer '" + name + "'");
    }
    flat.apply_layer(it->second);
  }
  flat.finish();
  return image;
}

Json expectation(const Image& image, const Image& base) {
  Json out = Json::object();
  Json config = Json::object();
  for (const char* field : kConfigFields) {
    if (image.config.contains(field) && !is_unset(image.config.at(field))) {
      config[field] = image.config.at(field);
    }
  }
  out["config"] = config;
  Json history = Json::array();
  for (size_t i = base.history.size(); i < image.history.size(); ++i) {
    const Json& h = image.history[i];
    Json item = Json::object();
    item["created_by"] = h.value("created_by", "");
    item["empty_layer"] = h.value("empty_layer", false);
    history.push_back(item);
  }
  out["history"] = history;
  out["layers"] = image.layers - std::min(image.layers, base.layers);
  Json files = Json::object();
  for (const auto& [path, entry] : image.files) {
    Json j = entry_json(entry);
    auto b = base.files.find(path);
    if (b == base.files.end() || entry_json(b->second) != j) {
      files[path] = j;
    }
  }
  out["files"] = files;
  Json deleted = Json::array();
  for (const auto& [path, entry] : base.files) {
    if (!image.files.count(path)) {
      deleted.push_back(path);
    }
  }
  out["deleted"] = deleted;
  return out;
}

std::string format_expectation(const Json& e) {
  std::ostringstream o;
  o << "{\n  \"config\": " << e.at("config").dump() << ",\n  \"history\": [";
  const Json& h = e.at("history");
  for (size_t i = 0; i < h.size(); ++i) {
    o << (i ? ",\n    " : "\n    ") << h[i].dump();
  }
  o << (h.empty() ? "" : "\n  ") << "],\n  \"layers\": " << e.at("layers").dump()
    << ",\n  \"files\": {";
  bool first = true;
  for (const auto& [path, v] : e.at("files").items()) {
    o << (first ? "\n    " : ",\n    ") << Json(path).dump() << ": " << v.dump();
    first = false;
  }
  o << (first ? "" : "\n  ") << "},\n  \"deleted\": " << e.at("deleted").dump() << "\n}\n";
  return o.str();
}

std::vector<std::string> diff_expectations(const Json& expected, const Json& actual) {
  std::vector<std::string> out;
  auto field = [](const Json& j, const char* key) { return j.contains(key) ? j.at(key) : Json(); };
  Json ec = field(expected, "config"), ac = field(actual, "config");
  std::set<std::string> keys;
  for (const auto& [k, v] : ec.items()) {
    keys.insert(k);
  }
  for (const auto& [k, v] : ac.items()) {
    keys.insert(k);
  }
  for (const auto& k : keys) {
    Json ev = ec.contains(k) ? ec.at(k) : Json(), av = ac.contains(k) ? ac.at(k) : Json();
    if (ev != av) {
      out.push_back("config." + k + ": expected " + ev.dump() + ", got " + av.dump());
    }
  }
  Json eh = field(expected, "history"), ah = field(actual, "history");
  size_t n = std::max(eh.size(), ah.size());
  for (size_t i = 0; i < n; ++i) {
    Json ev = i < eh.size() ? eh[i] : Json(), av = i < ah.size() ? ah[i] : Json();
    if (ev != av) {
      out.push_back("history[" + std::to_string(i) + "]: expected " + ev.dump() + ", got " +
                    av.dump());
    }
  }
  if (field(expected, "layers") != field(actual, "layers")) {
    out.push_back("layers: expected " + field(expected, "layers").dump() + ", got " +
                  field(actual, "layers").dump());
  }
  Json ef = field(expected, "files"), af = field(actual, "files");
  std::set<std::string> paths;
  for (const auto& [k, v] : ef.items()) {
    paths.insert(k);
  }
  for (const auto& [k, v] : af.items()) {
    paths.insert(k);
  }
  for (const auto& p : paths) {
    bool in_e = ef.contains(p), in_a = af.contains(p);
    if (in_e && !in_a) {
      out.push_back("files: missing " + p + " " + ef.at(p).dump());
    } else if (!in_e && in_a) {
      out.push_back("files: unexpected " + p + " " + af.at(p).dump());
    } else if (ef.at(p) != af.at(p)) {
      std::string line = "files: " + p + ":";
      std::set<std::string> fields;
      for (const auto& [k, v] : ef.at(p).items()) {
        fields.insert(k);
      }
      for (const auto& [k, v] : af.at(p).items()) {
        fields.insert(k);
      }
      for (const auto& f : fields) {
        Json ev = field(ef.at(p), f.c_str()), av = field(af.at(p), f.c_str());
        if (ev != av) {
          line += " " + f + " " + ev.dump() + " != " + av.dump() + ";";
        }
      }
      out.push_back(line);
    }
  }
  if (field(expected, "deleted") != field(actual, "deleted")) {
    out.push_back("deleted: expected " + field(expected, "deleted").dump() + ", got " +
                  field(actual, "deleted").dump());
  }
  return out;
}

}  // namespace kiln::conformance
