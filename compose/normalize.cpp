#include "compose/normalize.h"

#include <algorithm>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Path.h>

#include "support/error.h"

namespace kiln::compose {
namespace {

Node as_string(const Node& n) {
  Node out = n;
  if (out.is_scalar()) {
    out.type = ScalarType::string;
  }
  return out;
}

Node as_int(const Node& n) {
  Node out = n;
  out.type = ScalarType::integer;
  return out;
}

Node as_bool(const Node& n) {
  Node out = Node::boolean(n.text == "true" || n.text == "True" || n.text == "TRUE" ||
                           n.text == "yes" || n.text == "on" || n.text == "y");
  out.where = n.where;
  return out;
}

Node string_list(const std::vector<std::string>& items) {
  Node out = Node::seq();
  for (const auto& s : items) {
    out.items.push_back(Node::str(s));
  }
  return out;
}

// A list of "K=V" (or "K") or a mapping, as a mapping of strings (or null).
Node to_map(const Node& n, const Environment* env, char sep = '=') {
  Node out = Node::map();
  if (n.is_map()) {
    for (const auto& [k, v] : n.entries) {
      out.set(k, v.is_null() ? Node::null_value() : as_string(v));
    }
    return out;
  }
  for (const Node& item : n.items) {
    llvm::StringRef text = item.text;
    size_t pos = text.find(sep);
    if (pos != llvm::StringRef::npos) {
      out.set(text.take_front(pos), Node::str(text.drop_front(pos + 1).str()));
    } else if (env && env->count(text.str())) {
      out.set(text, Node::str(env->at(text.str())));
    } else {
      out.set(text, Node::null_value());
    }
  }
  return out;
}

llvm::Error bad(const Node& n, const std::string& what) {
  return make_error(n.where.str() + ": " + what);
}

llvm::Expected<Node> command_node(const Node& n) {
  if (n.is_null() || n.is_seq()) {
    Node out = n;
    for (auto& item : out.items) {
      item.type = ScalarType::string;
    }
    return out;
  }
  auto words = split_command(n.text);
  if (!words) {
    return with_context(words.takeError(), n.where.str());
  }
  return string_list(*words);
}

bool is_range(llvm::StringRef s, unsigned& lo, unsigned& hi) {
  auto [a, b] = s.split('-');
  if (a.getAsInteger(10, lo)) {
    return false;
  }
  if (b.empty()) {
    hi = lo;
    return true;
  }
  return !b.getAsInteger(10, hi) && hi >= lo;
}

Node port_entry(const std::string& host_ip, unsigned target, const std::string& published,
                const std::string& protocol) {
  Node p = Node::map();
  p.set("mode", Node::str("ingress"));
  if (!host_ip.empty()) {
    p.set("host_ip", Node::str(host_ip));
  }
  p.set("target", Node::integer(target));
  if (!published.empty()) {
    p.set("published", Node::str(published));
  }
  p.set("protocol", Node::str(protocol));
  return p;
}

llvm::Error add_short_port(const Node& n, Node& out) {
  llvm::StringRef text = n.text;
  std::string protocol = "tcp";
  if (size_t slash = text.rfind('/'); slash != llvm::StringRef::npos) {
    protocol = text.drop_front(slash + 1).str();
    text = text.take_front(slash);
  }
  std::string host_ip;
  if (text.startswith("[")) {
    size_t close = text.find("]:");
    if (close == llvm::StringRef::npos) {
      return bad(n, "invalid port " + quote(n.text));
    }
    host_ip = text.slice(1, close).str();
    text = text.drop_front(close + 2);
  }
  llvm::SmallVector<llvm::StringRef, 3> parts;
  text.split(parts, ':');
  if (parts.size() == 3) {
    host_ip = parts[0].str();
    parts.erase(parts.begin());
  }
  if (parts.size() > 2 || parts.empty()) {
    return bad(n, "invalid port " + quote(n.text));
  }
  llvm::StringRef published = parts.size() == 2 ? parts[0] : "";
  llvm::StringRef target = parts.back();
  unsigned tlo = 0, thi = 0, plo = 0, phi = 0;
  if (!is_range(target, tlo, thi) || (!published.empty() && !is_range(published, plo, phi)) ||
      thi > 65535 || phi > 65535) {
    return bad(n, "invalid port " + quote(n.text));
  }
  if (tlo == thi) {
    out.items.push_back(port_entry(host_ip, tlo, published.str(), protocol));
    return llvm::Error::success();
  }
  if (!published.empty() && phi - plo != thi - tlo) {
    return bad(n, "invalid port " + quote(n.text) + ": port ranges don't match in length");
  }
  for (unsigned p = tlo; p <= thi; ++p) {
    std::string pub = published.empty() ? "" : std::to_string(plo + (p - tlo));
    out.items.push_back(port_entry(host_ip, p, pub, protocol));
  }
  return llvm::Error::success();
}

llvm::Expected<Node> ports_node(const Node& n) {
  Node out = Node::seq();
  for (const Node& item : n.items) {
    if (item.is_scalar()) {
      if (auto err = add_short_port(item, out)) {
        return std::move(err);
      }
      continue;
    }
    const Node* target = item.find("target");
    if (!target) {
      return bad(item, "port is missing its 'target'");
    }
    Node p = Node::map();
    if (const Node* name = item.find("name")) {
      p.set("name", as_string(*name));
    }
    const Node* mode = item.find("mode");
    p.set("mode", mode ? as_string(*mode) : Node::str("ingress"));
    if (const Node* ip = item.find("host_ip")) {
      p.set("host_ip", as_string(*ip));
    }
    p.set("target", as_int(*target));
    if (const Node* pub = item.find("published")) {
      p.set("published", as_string(*pub));
    }
    const Node* proto = item.find("protocol");
    p.set("protocol", proto ? as_string(*proto) : Node::str("tcp"));
    if (const Node* app = item.find("app_protocol")) {
      p.set("app_protocol", as_string(*app));
    }
    out.items.push_back(std::move(p));
  }
  return out;
}

bool is_path_source(llvm::StringRef s) {
  return s.startswith("/") || s.startswith(".") || s.startswith("~") || s.contains('/');
}

llvm::Expected<Node> volume_short(const Node& n, const std::string& base_dir,
                                  const Environment& env) {
  llvm::SmallVector<llvm::StringRef, 3> parts;
  llvm::StringRef(n.text).split(parts, ':');
  Node v = Node::map();
  if (parts.size() == 1) {
    v.set("type", Node::str("volume"));
    v.set("target", Node::str(parts[0].str()));
    v.set("volume", Node::map());
    return v;
  }
  if (parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return bad(n, "invalid volume " + quote(n.text));
  }
  bool bind = is_path_source(parts[0]);
  bool read_only = false;
  bool nocopy = false;
  if (parts.size() == 3) {
    llvm::SmallVector<llvm::StringRef, 4> modes;
    parts[2].split(modes, ',');
    for (llvm::StringRef m : modes) {
      if (m == "ro") {
        read_only = true;
      } else if (m == "nocopy") {
        nocopy = true;
      } else if (m != "rw" && m != "z" && m != "Z" && m != "cached" && m != "delegated" &&
                 m != "consistent" && m != "rprivate" && m != "private" && m != "rshared" &&
                 m != "shared" && m != "rslave" && m != "slave") {
        return bad(n, "invalid volume " + quote(n.text) + ": unknown mode " + quote(m));
      }
    }
  }
  v.set("type", Node::str(bind ? "bind" : "volume"));
  v.set("source", Node::str(bind ? absolute_path(parts[0], base_dir, env) : parts[0].str()));
  v.set("target", Node::str(parts[1].str()));
  if (read_only) {
    v.set("read_only", Node::boolean(true));
  }
  if (bind) {
    Node b = Node::map();
    b.set("create_host_path", Node::boolean(true));
    v.set("bind", std::move(b));
  } else {
    Node opts = Node::map();
    if (nocopy) {
      opts.set("nocopy", Node::boolean(true));
    }
    v.set("volume", std::move(opts));
  }
  return v;
}

llvm::Expected<Node> volumes_node(const Node& n, const std::string& base_dir,
                                  const Environment& env) {
  Node out = Node::seq();
  for (const Node& item : n.items) {
    if (item.is_scalar()) {
      auto v = volume_short(item, base_dir, env);
      if (!v) {
        return v.takeError();
      }
      v->where = item.where;
      out.items.push_back(std::move(*v));
      continue;
    }
    const Node* type = item.find("type");
    const Node* target = item.find("target");
    if (!type || !target) {
      return bad(item, "a volume needs 'type' and 'target'");
    }
    if (type->text != "bind" && type->text != "volume" && type->text != "tmpfs" &&
        type->text != "npipe" && type->text != "cluster" && type->text != "image") {
      return bad(*type, "invalid volume type " + quote(type->text));
    }
    Node v = Node::map();
    v.where = item.where;
    v.set("type", as_string(*type));
    if (const Node* src = item.find("source")) {
      v.set("source",
            Node::str(type->text == "bind" ? absolute_path(src->text, base_dir, env) : src->text));
    } else if (type->text == "bind") {
      return bad(item, "a bind mount needs a 'source'");
    }
    v.set("target", as_string(*target));
    if (const Node* ro = item.find("read_only")) {
      v.set("read_only", as_bool(*ro));
    }
    for (const char* sub : {"bind", "volume", "tmpfs"}) {
      if (const Node* opts = item.find(sub)) {
        Node o = Node::map();
        for (const auto& [k, val] : opts->entries) {
          o.set(k, val.is_bool_text()  ? as_bool(val)
                   : val.is_int_text() ? as_int(val)
                                       : as_string(val));
        }
        v.set(sub, std::move(o));
      }
    }
    out.items.push_back(std::move(v));
  }
  return out;
}

Node depends_on_node(const Node& n) {
  Node out = Node::map();
  out.where = n.where;
  if (n.is_seq()) {
    for (const Node& item : n.items) {
      Node d = Node::map();
      d.set("condition", Node::str("service_started"));
      d.set("required", Node::boolean(true));
      out.set(item.text, std::move(d));
    }
    return out;
  }
  for (const auto& [name, spec] : n.entries) {
    Node d = Node::map();
    const Node* cond = spec.find("condition");
    d.set("condition", cond ? as_string(*cond) : Node::str("service_started"));
    if (const Node* restart = spec.find("restart")) {
      d.set("restart", as_bool(*restart));
    }
    const Node* req = spec.find("required");
    d.set("required", req ? as_bool(*req) : Node::boolean(true));
    out.set(name, std::move(d));
  }
  return out;
}

Node duration_node(const Node& n) {
  long long ns = 0;
  parse_duration(n.text, ns);
  return Node::str(go_duration(ns));
}

Node healthcheck_node(const Node& n) {
  Node out = Node::map();
  for (const auto& [k, v] : n.entries) {
    if (k == "test") {
      if (v.is_scalar()) {
        out.set(k, string_list({"CMD-SHELL", v.text}));
      } else {
        Node t = v;
        for (auto& item : t.items) {
          item.type = ScalarType::string;
        }
        out.set(k, std::move(t));
      }
    } else if (k == "retries") {
      out.set(k, as_int(v));
    } else if (k == "disable") {
      out.set(k, as_bool(v));
    } else if (llvm::StringRef(k).startswith("x-")) {
      out.set(k, v);
    } else {
      out.set(k, duration_node(v));
    }
  }
  // The order compose-go's HealthCheckConfig prints.
  static const char* const order[] = {"test",         "timeout",        "interval", "retries",
                                      "start_period", "start_interval", "disable"};
  auto rank = [](const std::string& key) {
    auto it = std::find(std::begin(order), std::end(order), key);
    return it - std::begin(order);
  };
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  out.key_lines.clear();
  return out;
}

llvm::Error read_env_files(const Node& n, const std::string& base_dir, const Environment& env,
                           Node& environment) {
  std::vector<const Node*> items;
  if (n.is_scalar()) {
    items.push_back(&n);
  } else {
    for (const Node& item : n.items) {
      items.push_back(&item);
    }
  }
  for (const Node* item : items) {
    std::string path = item->is_scalar() ? item->text : item->find("path")->text;
    bool required = true;
    if (const Node* req = item->find("required")) {
      required = req->text == "true";
    }
    std::string abs = absolute_path(path, base_dir, env);
    auto values = read_env_file(abs, env);
    if (!values) {
      if (!required) {
        llvm::consumeError(values.takeError());
        continue;
      }
      return with_context(values.takeError(), item->where.str() + ": env_file");
    }
    for (auto& [k, v] : *values) {
      if (!environment.find(k)) {
        environment.set(k, Node::str(v));
      }
    }
  }
  return llvm::Error::success();
}

Node file_refs(const Node& n) {
  Node out = Node::seq();
  for (const Node& item : n.items) {
    if (item.is_scalar()) {
      Node r = Node::map();
      r.set("source", as_string(item));
      out.items.push_back(std::move(r));
    } else {
      Node r = Node::map();
      for (const auto& [k, v] : item.entries) {
        if (k == "mode" && v.is_int_text()) {
          // YAML 1.1 reads 0440 as octal, as compose does.
          llvm::StringRef t = v.text;
          unsigned long long mode = 0;
          bool octal = t.size() > 1 && t.startswith("0");
          t.consume_front("0o");
          if (!t.getAsInteger(octal ? 8 : 10, mode)) {
            r.set(k, Node::integer(static_cast<long long>(mode)));
            continue;
          }
        }
        r.set(k, as_string(v));
      }
      out.items.push_back(std::move(r));
    }
  }
  return out;
}

bool is_remote_context(llvm::StringRef s) {
  return s.contains("://") || s.startswith("git@") || s.startswith("github.com/");
}

Node build_node(const Node& n, const std::string& base_dir, const Environment& env) {
  Node out = Node::map();
  if (n.is_scalar()) {
    out.set("context",
            Node::str(is_remote_context(n.text) ? n.text : absolute_path(n.text, base_dir, env)));
    out.set("dockerfile", Node::str("Dockerfile"));
    return out;
  }
  const Node* ctx = n.find("context");
  std::string context = ctx ? ctx->text : ".";
  out.set("context",
          Node::str(is_remote_context(context) ? context : absolute_path(context, base_dir, env)));
  if (!n.find("dockerfile") && !n.find("dockerfile_inline")) {
    out.set("dockerfile", Node::str("Dockerfile"));
  }
  for (const auto& [k, v] : n.entries) {
    if (k == "context") {
      continue;
    }
    if (k == "args" || k == "labels" || k == "additional_contexts") {
      out.set(k, to_map(v, k == "args" ? &env : nullptr));
    } else if (k == "no_cache" || k == "pull" || k == "privileged") {
      out.set(k, as_bool(v));
    } else if (v.is_seq()) {
      Node list = v;
      for (auto& item : list.items) {
        if (item.is_scalar()) {
          item.type = ScalarType::string;
        }
      }
      out.set(k, std::move(list));
    } else {
      out.set(k, as_string(v));
    }
  }
  return out;
}

const char* const kBoolKeys[] = {"init", "privileged", "read_only", "stdin_open", "tty"};

}  // namespace

llvm::Error normalize_service(Node& service, const std::string& name, const std::string& base_dir,
                              const Environment& env) {
  Node out = Node::map();
  out.where = service.where;
  Node environment = Node::map();
  const Node* env_file = nullptr;
  for (const auto& [key, v] : service.entries) {
    llvm::StringRef k = key;
    if (k == "build") {
      out.set(k, build_node(v, base_dir, env));
    } else if (k == "command" || k == "entrypoint") {
      auto c = command_node(v);
      if (!c) {
        return c.takeError();
      }
      out.set(k, std::move(*c));
    } else if (k == "environment") {
      environment = to_map(v, &env);
    } else if (k == "env_file") {
      env_file = &v;
    } else if (k == "labels" || k == "sysctls") {
      out.set(k, to_map(v, nullptr));
    } else if (k == "ports") {
      auto p = ports_node(v);
      if (!p) {
        return p.takeError();
      }
      out.set(k, std::move(*p));
    } else if (k == "expose") {
      Node e = v;
      for (auto& item : e.items) {
        item.type = ScalarType::string;
      }
      out.set(k, std::move(e));
    } else if (k == "volumes") {
      auto vols = volumes_node(v, base_dir, env);
      if (!vols) {
        return vols.takeError();
      }
      out.set(k, std::move(*vols));
    } else if (k == "depends_on") {
      out.set(k, depends_on_node(v));
    } else if (k == "healthcheck") {
      out.set(k, healthcheck_node(v));
    } else if (k == "stop_grace_period") {
      out.set(k, duration_node(v));
    } else if (k == "networks") {
      Node nets = Node::map();
      nets.where = v.where;
      if (v.is_seq()) {
        for (const Node& item : v.items) {
          nets.set(item.text, Node::null_value());
        }
      } else {
        nets = v;
      }
      out.set(k, std::move(nets));
    } else if (k == "tmpfs" || k == "dns" || k == "dns_search") {
      out.set(k, v.is_scalar() ? string_list({v.text}) : v);
    } else if (k == "extra_hosts") {
      std::vector<std::string> hosts;
      if (v.is_map()) {
        for (const auto& [h, ip] : v.entries) {
          hosts.push_back(h + "=" + ip.text);
        }
      } else {
        for (const Node& item : v.items) {
          llvm::StringRef t = item.text;
          size_t eq = t.find('=');
          size_t colon = t.find(':');
          if (eq == llvm::StringRef::npos && colon != llvm::StringRef::npos) {
            hosts.push_back(t.take_front(colon).str() + "=" + t.drop_front(colon + 1).str());
          } else {
            hosts.push_back(t.str());
          }
        }
      }
      out.set(k, string_list(hosts));
    } else if (k == "secrets" || k == "configs") {
      out.set(k, file_refs(v));
    } else if (k == "scale") {
      Node& deploy = out.find("deploy") ? *out.find("deploy") : out.set("deploy", Node::map());
      deploy.set("replicas", as_int(v));
    } else if (k == "deploy") {
      Node d = v;
      if (Node* r = d.find("replicas")) {
        *r = as_int(*r);
      }
      if (Node* l = d.find("labels")) {
        *l = to_map(*l, nullptr);
      }
      if (Node* existing = out.find("deploy")) {
        for (auto& [dk, dv] : d.entries) {
          if (!existing->find(dk)) {
            existing->set(dk, dv);
          }
        }
      } else {
        out.set(k, std::move(d));
      }
    } else if (std::find(std::begin(kBoolKeys), std::end(kBoolKeys), k) != std::end(kBoolKeys)) {
      out.set(k, as_bool(v));
    } else if (k == "extends" || k.startswith("x-") || !v.is_scalar()) {
      out.set(k, v);
    } else {
      out.set(k, as_string(v));
    }
  }
  if (env_file) {
    if (auto err = read_env_files(*env_file, base_dir, env, environment)) {
      return with_context(std::move(err), "service " + quote(name));
    }
  }
  if (!environment.entries.empty() || service.find("environment")) {
    out.set("environment", std::move(environment));
  }
  service = std::move(out);
  return llvm::Error::success();
}

}  // namespace kiln::compose
