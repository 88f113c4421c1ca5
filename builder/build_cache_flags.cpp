#include "builder/build_cache_flags.h"

#include <map>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringRef.h>

#include "support/error.h"

namespace kiln::builder {

namespace {

std::map<std::string, std::string> split_kv(llvm::StringRef text) {
  std::map<std::string, std::string> out;
  llvm::SmallVector<llvm::StringRef, 8> parts;
  text.split(parts, ',', -1, false);
  for (llvm::StringRef p : parts) {
    auto [k, v] = p.split('=');
    out[k.trim().str()] = v.trim().str();
  }
  return out;
}

llvm::Error bad_flag(const std::string& flag, const std::string& spec, const llvm::Twine& why) {
  return llvm::make_error<UsageError>("invalid " + flag + " " + quote(spec) + ": " + why.str());
}

llvm::Expected<bool> parse_bool(const std::string& flag, const std::string& spec,
                                const std::string& key, const std::string& value) {
  if (value == "true" || value == "1" || value.empty()) {
    return true;
  }
  if (value == "false" || value == "0") {
    return false;
  }
  return bad_flag(flag, spec, key + " must be true or false");
}

}  // namespace

llvm::Expected<CacheTarget> parse_cache_to(const std::string& spec) {
  const std::string flag = "--cache-to";
  CacheTarget t;
  t.spec = spec;
  auto kv = split_kv(spec);
  t.type = kv.count("type") ? kv["type"] : "";
  if (t.type == "local") {
    t.dest = kv["dest"];
    if (t.dest.empty()) {
      return bad_flag(flag, spec, "type=local needs dest=DIR");
    }
  } else if (t.type == "registry") {
    t.dest = kv["ref"];
    if (t.dest.empty()) {
      return bad_flag(flag, spec, "type=registry needs ref=REF");
    }
  } else if (t.type != "inline") {
    return bad_flag(flag, spec, "type must be local, registry or inline");
  }
  for (const auto& [k, v] : kv) {
    if (k == "type" || k == "dest" || k == "ref") {
      continue;
    }
    if (k == "mode") {
      if (v != "min" && v != "max") {
        return bad_flag(flag, spec, "mode must be min or max");
      }
      t.max = v == "max";
    } else if (k == "compression") {
      if (v == "gzip") {
        t.compression = cache::Compression::gzip;
      } else if (v == "zstd") {
        t.compression = cache::Compression::zstd;
      } else if (v == "uncompressed") {
        t.compression = cache::Compression::none;
      } else {
        return bad_flag(flag, spec, "compression must be gzip, zstd or uncompressed");
      }
    } else if (k == "cache-mounts" || k == "ignore-error") {
      auto b = parse_bool(flag, spec, k, v);
      if (!b) {
        return b.takeError();
      }
      (k == "cache-mounts" ? t.cache_mounts : t.ignore_error) = *b;
    } else if (k == "tag") {
      t.tag = v;
    } else if (k != "oci-mediatypes" && k != "image-manifest" && k != "compression-level" &&
               k != "force-compression") {
      return bad_flag(flag, spec, "unknown option " + quote(k));
    }
  }
  if (t.type == "inline" && t.max) {
    return bad_flag(flag, spec, "an inline cache holds only the image's steps (mode=min)");
  }
  return t;
}

llvm::Expected<CacheOrigin> parse_cache_from(const std::string& spec) {
  const std::string flag = "--cache-from";
  CacheOrigin o;
  o.spec = spec;
  if (!llvm::StringRef(spec).contains('=')) {
    o.type = "image";
    o.where = spec;
    return o;
  }
  auto kv = split_kv(spec);
  o.type = kv["type"];
  if (o.type == "local") {
    o.where = kv["src"];
  } else if (o.type == "registry") {
    o.where = kv["ref"];
  } else {
    return bad_flag(flag, spec, "type must be local or registry");
  }
  if (o.where.empty()) {
    return bad_flag(flag, spec,
                    o.type == "local" ? "type=local needs src=DIR" : "type=registry needs ref=REF");
  }
  for (const auto& [k, v] : kv) {
    if (k == "tag") {
      o.tag = v;
    } else if (k == "ignore-error") {
      auto b = parse_bool(flag, spec, k, v);
      if (!b) {
        return b.takeError();
      }
      o.ignore_error = *b;
    } else if (k != "type" && k != "src" && k != "ref" && k != "digest") {
      return bad_flag(flag, spec, "unknown option " + quote(k));
    }
  }
  return o;
}

}  // namespace kiln::builder
