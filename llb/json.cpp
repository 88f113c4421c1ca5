// Definition::to_json: the stable, human-readable dump behind --dump-llb. Fields
// at their default value are left out so dumps stay short.

#include <nlohmann/json.hpp>

#include "llb/definition.h"

namespace kiln::llb {
namespace {

using Json = nlohmann::ordered_json;

const char* mount_kind_name(MountKind kind) {
  switch (kind) {
    case MountKind::rootfs:
      return "rootfs";
    case MountKind::bind:
      return "bind";
    case MountKind::cache:
      return "cache";
    case MountKind::tmpfs:
      return "tmpfs";
    case MountKind::secret:
      return "secret";
    case MountKind::ssh:
      return "ssh";
  }
  return "?";
}

const char* sharing_name(CacheSharing sharing) {
  switch (sharing) {
    case CacheSharing::shared:
      return "shared";
    case CacheSharing::private_:
      return "private";
    case CacheSharing::locked:
      return "locked";
  }
  return "?";
}

std::string octal(uint32_t mode) {
  char buf[16];
  snprintf(buf, sizeof(buf), "0%o", mode);
  return buf;
}

void put_chown(Json& j, const Chown& c) {
  if (c.empty()) {
    return;
  }
  Json o = Json::object();
  if (c.uid) o["uid"] = *c.uid;
  if (c.gid) o["gid"] = *c.gid;
  if (!c.user.empty()) o["user"] = c.user;
  if (!c.group.empty()) o["group"] = c.group;
  j["chown"] = std::move(o);
}

Json mount_json(const Mount& m) {
  Json j;
  j["kind"] = mount_kind_name(m.kind);
  j["target"] = m.target;
  if (m.input) j["input"] = *m.input;
  if (m.selector != "/") j["selector"] = m.selector;
  if (m.readonly) j["readonly"] = true;
  if (m.kind == MountKind::cache) {
    j["id"] = m.cache_id;
    j["sharing"] = sharing_name(m.sharing);
  }
  if (m.kind == MountKind::tmpfs && m.tmpfs_size) j["size"] = m.tmpfs_size;
  if (m.kind == MountKind::secret || m.kind == MountKind::ssh) {
    j["id"] = m.secret_id;
    if (!m.secret_env.empty()) j["env"] = m.secret_env;
    if (m.required) j["required"] = true;
  }
  if (m.kind == MountKind::cache || m.kind == MountKind::secret || m.kind == MountKind::ssh) {
    j["uid"] = m.uid;
    j["gid"] = m.gid;
    j["mode"] = octal(m.mode);
  }
  return j;
}

Json copy_json(const CopyAction& c) {
  Json j;
  j["action"] = "copy";
  j["src_input"] = c.src_input;
  j["src"] = c.src_paths;
  j["dest"] = c.dest;
  if (!c.follow_symlinks) j["follow_symlinks"] = false;
  if (!c.dir_contents_only) j["dir_contents_only"] = false;
  if (!c.allow_wildcard) j["allow_wildcard"] = false;
  if (c.allow_empty_wildcard) j["allow_empty_wildcard"] = true;
  if (!c.create_dest_path) j["create_dest_path"] = false;
  put_chown(j, c.chown);
  if (!c.chmod.empty()) j["chmod"] = c.chmod;
  if (!c.include_patterns.empty()) j["include"] = c.include_patterns;
  if (!c.exclude_patterns.empty()) j["exclude"] = c.exclude_patterns;
  if (c.parents) j["parents"] = true;
  if (c.unpack_archives) j["unpack_archives"] = true;
  if (c.always_replace_existing_dir_with_file) j["replace_dir_with_file"] = true;
  return j;
}

Json action_json(const FileAction& action) {
  if (const auto* c = std::get_if<CopyAction>(&action)) {
    return copy_json(*c);
  }
  Json j;
  if (const auto* m = std::get_if<MkdirAction>(&action)) {
    j["action"] = "mkdir";
    j["path"] = m->path;
    j["mode"] = octal(m->mode);
    j["make_parents"] = m->make_parents;
    put_chown(j, m->chown);
  } else if (const auto* f = std::get_if<MkfileAction>(&action)) {
    j["action"] = "mkfile";
    j["path"] = f->path;
    j["data"] = f->data;
    j["mode"] = octal(f->mode);
    put_chown(j, f->chown);
  } else if (const auto* r = std::get_if<RmAction>(&action)) {
    j["action"] = "rm";
    j["path"] = r->path;
    if (r->allow_not_found) j["allow_not_found"] = true;
    if (r->allow_wildcard) j["allow_wildcard"] = true;
  } else {
    const auto& s = std::get<SymlinkAction>(action);
    j["action"] = "symlink";
    j["target"] = s.target;
    j["path"] = s.path;
  }
  return j;
}

Json exec_json(const ExecOp& x) {
  Json j;
  j["args"] = x.args;
  j["env"] = x.env;
  j["cwd"] = x.cwd;
  if (!x.user.empty()) j["user"] = x.user;
  Json mounts = Json::array();
  for (const auto& m : x.mounts) {
    mounts.push_back(mount_json(m));
  }
  j["mounts"] = std::move(mounts);
  if (x.network != NetworkMode::unset) {
    j["network"] = x.network == NetworkMode::host ? "host" : "none";
  }
  if (x.security == SecurityMode::insecure) j["security"] = "insecure";
  if (!x.proxy_env.empty()) j["proxy_env"] = x.proxy_env;
  if (!x.platform.empty()) j["platform"] = x.platform;
  return j;
}

Json op_json(const Op& op) {
  Json j;
  j["kind"] = op_kind(op);
  if (const auto* i = std::get_if<ImageSource>(&op)) {
    j["ref"] = i->ref;
    if (i->config_digest) j["config_digest"] = i->config_digest->str();
    j["platform"] = i->platform;
  } else if (const auto* l = std::get_if<LocalSource>(&op)) {
    j["name"] = l->name;
    if (!l->include_patterns.empty()) j["include"] = l->include_patterns;
    if (!l->exclude_patterns.empty()) j["exclude"] = l->exclude_patterns;
    if (!l->follow_paths.empty()) j["follow_paths"] = l->follow_paths;
  } else if (const auto* h = std::get_if<HttpSource>(&op)) {
    j["url"] = h->url;
    if (h->checksum) j["checksum"] = h->checksum->str();
    if (!h->filename.empty()) j["filename"] = h->filename;
    if (h->chmod) j["chmod"] = octal(*h->chmod);
    if (!h->user_agent.empty()) j["user_agent"] = h->user_agent;
  } else if (const auto* g = std::get_if<GitSource>(&op)) {
    j["remote"] = g->remote;
    if (!g->ref.empty()) j["ref"] = g->ref;
    if (!g->subdir.empty()) j["subdir"] = g->subdir;
    if (!g->checksum.empty()) j["checksum"] = g->checksum;
    if (g->keep_git_dir) j["keep_git_dir"] = true;
  } else if (const auto* x = std::get_if<ExecOp>(&op)) {
    j.update(exec_json(*x));
  } else if (const auto* f = std::get_if<FileOp>(&op)) {
    Json actions = Json::array();
    for (const auto& a : f->actions) {
      actions.push_back(action_json(a));
    }
    j["actions"] = std::move(actions);
  }
  return j;
}

Json vertex_json(const Vertex& v) {
  Json j;
  j["digest"] = v.digest().str();
  j["op"] = op_json(v.op());
  Json inputs = Json::array();
  for (const Vertex* in : v.inputs()) {
    inputs.push_back(in->digest().str());
  }
  j["inputs"] = std::move(inputs);
  const VertexMetadata& m = v.metadata();
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.ranges.empty()) {
    Json ranges = Json::array();
    for (const auto& r : m.ranges) {
      ranges.push_back(Json::array({r.start_line, r.end_line}));
    }
    j["ranges"] = std::move(ranges);
  }
  if (!m.progress_group.empty()) j["progress_group"] = m.progress_group;
  if (m.ignore_cache) j["ignore_cache"] = true;
  return j;
}

}  // namespace

std::string Definition::to_json() const {
  Json j;
  j["version"] = kEncodingVersion;
  Json roots = Json::array();
  for (const auto& r : roots_) {
    roots.push_back(Json{{"name", r.name}, {"vertex", r.vertex->digest().str()}});
  }
  j["roots"] = std::move(roots);
  Json vertices = Json::array();
  for (const auto& v : vertices_) {
    vertices.push_back(vertex_json(*v));
  }
  j["vertices"] = std::move(vertices);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace kiln::llb
