// Canonical op encoding: every field is written as (tag length, tag, value length,
// value) with little-endian 64-bit lengths, nested structs are encoded into a value,
// lists start with their count. Two different ops can never give the same bytes.

#include <type_traits>

#include "llb/definition.h"

namespace kiln::llb {
namespace {

class Encoder {
 public:
  void field(llvm::StringRef tag, llvm::StringRef value) {
    put_size(tag.size());
    out_.append(tag.data(), tag.size());
    put_size(value.size());
    out_.append(value.data(), value.size());
  }
  void field(llvm::StringRef tag, const std::string& value) { field(tag, llvm::StringRef(value)); }
  void field(llvm::StringRef tag, const char* value) { field(tag, llvm::StringRef(value)); }
  void field(llvm::StringRef tag, uint64_t value) {
    char bytes[8];
    for (int i = 0; i < 8; ++i) {
      bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    field(tag, llvm::StringRef(bytes, 8));
  }
  void flag(llvm::StringRef tag, bool value) { field(tag, uint64_t{value ? 1u : 0u}); }
  void strings(llvm::StringRef tag, const std::vector<std::string>& values) {
    Encoder list;
    list.field("n", uint64_t{values.size()});
    for (const auto& v : values) {
      list.field("s", v);
    }
    field(tag, list.out_);
  }
  void optional_u32(llvm::StringRef tag, const std::optional<uint32_t>& value) {
    if (value) {
      field(tag, uint64_t{*value});
    } else {
      field(tag, "");
    }
  }
  std::string take() { return std::move(out_); }

 private:
  void put_size(uint64_t size) {
    for (int i = 0; i < 8; ++i) {
      out_.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
    }
  }
  std::string out_;
};

void encode_chown(Encoder& e, const Chown& c) {
  Encoder sub;
  sub.optional_u32("uid", c.uid);
  sub.optional_u32("gid", c.gid);
  sub.field("user", c.user);
  sub.field("group", c.group);
  e.field("chown", sub.take());
}

std::string encode_mount(const Mount& m) {
  Encoder e;
  e.field("kind", uint64_t{static_cast<uint64_t>(m.kind)});
  e.field("target", m.target);
  e.optional_u32("input", m.input);
  e.field("selector", m.selector);
  e.flag("readonly", m.readonly);
  e.field("cache_id", m.cache_id);
  e.field("sharing", uint64_t{static_cast<uint64_t>(m.sharing)});
  e.field("tmpfs_size", m.tmpfs_size);
  e.field("secret_id", m.secret_id);
  if (!m.secret_env.empty()) {  // absent when unused: older digests stay the same
    e.field("secret_env", m.secret_env);
  }
  e.flag("required", m.required);
  e.field("uid", uint64_t{m.uid});
  e.field("gid", uint64_t{m.gid});
  e.field("mode", uint64_t{m.mode});
  return e.take();
}

std::string encode_action(const FileAction& action) {
  Encoder e;
  if (const auto* c = std::get_if<CopyAction>(&action)) {
    e.field("action", "copy");
    e.field("src_input", uint64_t{c->src_input});
    e.strings("src_paths", c->src_paths);
    e.field("dest", c->dest);
    e.flag("follow_symlinks", c->follow_symlinks);
    e.flag("dir_contents_only", c->dir_contents_only);
    e.flag("allow_wildcard", c->allow_wildcard);
    e.flag("allow_empty_wildcard", c->allow_empty_wildcard);
    e.flag("create_dest_path", c->create_dest_path);
    encode_chown(e, c->chown);
    e.field("chmod", c->chmod);
    e.strings("include", c->include_patterns);
    e.strings("exclude", c->exclude_patterns);
    e.flag("parents", c->parents);
    e.flag("unpack_archives", c->unpack_archives);
    e.flag("replace_dir_with_file", c->always_replace_existing_dir_with_file);
  } else if (const auto* m = std::get_if<MkdirAction>(&action)) {
    e.field("action", "mkdir");
    e.field("path", m->path);
    e.field("mode", uint64_t{m->mode});
    e.flag("make_parents", m->make_parents);
    encode_chown(e, m->chown);
  } else if (const auto* f = std::get_if<MkfileAction>(&action)) {
    e.field("action", "mkfile");
    e.field("path", f->path);
    e.field("data", f->data);
    e.field("mode", uint64_t{f->mode});
    encode_chown(e, f->chown);
  } else if (const auto* r = std::get_if<RmAction>(&action)) {
    e.field("action", "rm");
    e.field("path", r->path);
    e.flag("allow_not_found", r->allow_not_found);
    e.flag("allow_wildcard", r->allow_wildcard);
  } else {
    const auto& s = std::get<SymlinkAction>(action);
    e.field("action", "symlink");
    e.field("target", s.target);
    e.field("path", s.path);
  }
  return e.take();
}

void encode_exec(Encoder& e, const ExecOp& x) {
  e.strings("args", x.args);
  e.strings("env", x.env);
  e.field("cwd", x.cwd);
  e.field("user", x.user);
  Encoder mounts;
  mounts.field("n", uint64_t{x.mounts.size()});
  for (const auto& m : x.mounts) {
    mounts.field("mount", encode_mount(m));
  }
  e.field("mounts", mounts.take());
  e.field("network", uint64_t{static_cast<uint64_t>(x.network)});
  e.field("security", uint64_t{static_cast<uint64_t>(x.security)});
  if (!x.platform.empty()) {
    e.field("platform", x.platform);
  }
}

std::string optional_digest(const std::optional<Digest>& d) { return d ? d->str() : ""; }

}  // namespace

const char* op_kind(const Op& op) {
  static const char* const kNames[] = {"image", "local", "scratch", "http", "exec", "file", "git"};
  static_assert(std::variant_size_v<Op> == 7);
  return kNames[op.index()];
}

std::string encode_op(const Op& op) {
  Encoder e;
  e.field("kiln.llb", kEncodingVersion);
  e.field("op", op_kind(op));
  if (const auto* i = std::get_if<ImageSource>(&op)) {
    e.field("ref", i->ref);
    e.field("config_digest", optional_digest(i->config_digest));
    e.field("platform", i->platform);
  } else if (const auto* l = std::get_if<LocalSource>(&op)) {
    e.field("name", l->name);
    e.strings("include", l->include_patterns);
    e.strings("exclude", l->exclude_patterns);
    e.strings("follow_paths", l->follow_paths);
  } else if (const auto* h = std::get_if<HttpSource>(&op)) {
    e.field("url", h->url);
    e.field("checksum", optional_digest(h->checksum));
    e.field("filename", h->filename);
    e.optional_u32("chmod", h->chmod);
    if (!h->user_agent.empty()) {  // absent when unset: older http digests stay
      e.field("user_agent", h->user_agent);
    }
  } else if (const auto* g = std::get_if<GitSource>(&op)) {
    e.field("remote", g->remote);
    e.field("ref", g->ref);
    e.field("subdir", g->subdir);
    e.field("checksum", g->checksum);
    e.field("keep_git_dir", uint64_t{g->keep_git_dir});
  } else if (const auto* x = std::get_if<ExecOp>(&op)) {
    encode_exec(e, *x);
  } else if (const auto* f = std::get_if<FileOp>(&op)) {
    e.field("n", uint64_t{f->actions.size()});
    for (const auto& a : f->actions) {
      e.field("file_action", encode_action(a));
    }
  }
  return e.take();
}

Digest vertex_digest(const Op& op, const std::vector<Digest>& inputs) {
  Sha256 h;
  h.field("op", encode_op(op));
  h.field("inputs", uint64_t{inputs.size()});
  for (const auto& d : inputs) {
    h.field("input", d.str());
  }
  return h.finish();
}

}  // namespace kiln::llb
