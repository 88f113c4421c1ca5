#include "llb/definition.h"

#include <set>

#include <catch2/catch.hpp>

using namespace kiln::llb;
using kiln::Digest;

namespace {

std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return out;
}

std::string field(const std::string& tag, const std::string& value) {
  return le64(tag.size()) + tag + le64(value.size()) + value;
}

ExecOp run(std::string cmd) {
  ExecOp x;
  x.args = {"/bin/sh", "-c", std::move(cmd)};
  x.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  Mount root;
  root.kind = MountKind::rootfs;
  root.input = 0;
  x.mounts.push_back(root);
  return x;
}

}  // namespace

TEST_CASE("scratch encoding is pinned byte for byte", "[llb]") {
  std::string expected = field("kiln.llb", le64(1)) + field("op", "scratch");
  CHECK(encode_op(ScratchSource{}) == expected);
  // Computed independently: sha256(field("op", expected) + field("inputs", le64(0))).
  CHECK(vertex_digest(ScratchSource{}, {}).str() ==
        "sha256:9cdca199cf456ae5541de577e9e7f3191f472c13a0b44d3aeab770b90e75f52c");
}

TEST_CASE("vertex digests known answers", "[llb]") {
  DefinitionBuilder b;
  const Vertex* img = b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {});
  const Vertex* ex = b.add(run("make"), {img});
  CHECK(img->digest().str() ==
        "sha256:6235f9a1d840bb08215ed2a23b3a3a2bf15b62a84ede3cac5bf968d61e08a58f");
  CHECK(ex->digest().str() ==
        "sha256:9449167b93c4bb5cfe81413203f63a39e6c218b02e488c1b15d1a7bdfd09c383");
}

TEST_CASE("identical ops dedup to one vertex", "[llb]") {
  DefinitionBuilder b;
  VertexMetadata first;
  first.description = "first";
  const Vertex* a =
      b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {}, first);
  VertexMetadata second;
  second.description = "second";
  const Vertex* a2 =
      b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {}, second);
  CHECK(a == a2);
  CHECK(a->metadata().description == "first");
  const Vertex* r1 = b.add(run("make"), {a});
  const Vertex* r2 = b.add(run("make"), {a2});
  CHECK(r1 == r2);
  CHECK(b.size() == 2);
  const Vertex* r3 = b.add(run("make test"), {a});
  CHECK(r3 != r1);
  CHECK(b.size() == 3);
}

TEST_CASE("metadata and proxy env stay out of the digest", "[llb]") {
  ExecOp plain = run("make");
  ExecOp proxied = run("make");
  proxied.proxy_env["HTTP_PROXY"] = "http://127.0.0.1:3128";
  CHECK(encode_op(plain) == encode_op(proxied));
  CHECK(vertex_digest(plain, {}) == vertex_digest(proxied, {}));
  ExecOp other_env = run("make");
  other_env.env.push_back("A=b");
  CHECK(vertex_digest(plain, {}) != vertex_digest(other_env, {}));
}

TEST_CASE("input order matters", "[llb]") {
  DefinitionBuilder b;
  const Vertex* base = b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {});
  const Vertex* ctx = b.add(LocalSource{"context", {}, {}, {}}, {});
  FileOp copy;
  CopyAction c;
  c.src_input = 1;
  c.src_paths = {"/src"};
  c.dest = "/app/";
  copy.actions.push_back(c);
  const Vertex* f1 = b.add(copy, {base, ctx});
  const Vertex* f2 = b.add(copy, {ctx, base});
  CHECK(f1 != f2);
  CHECK(f1->digest() != f2->digest());
}

TEST_CASE("every field changes the digest", "[llb]") {
  auto base = [] {
    CopyAction c;
    c.src_paths = {"a"};
    c.dest = "/d/";
    return c;
  };
  std::vector<CopyAction> variants(8, base());
  variants[1].follow_symlinks = false;
  variants[2].dir_contents_only = false;
  variants[3].chown.uid = 0;
  variants[4].chmod = "0755";
  variants[5].parents = true;
  variants[6].unpack_archives = true;
  variants[7].src_paths = {"a", ""};
  std::set<std::string> encodings;
  for (const auto& v : variants) {
    encodings.insert(encode_op(FileOp{{v}}));
  }
  CHECK(encodings.size() == variants.size());
  CHECK(encode_op(FileOp{{MkdirAction{"/a", 0755, true, {}}}}) !=
        encode_op(FileOp{{MkdirAction{"/a", 0755, false, {}}}}));
}

TEST_CASE("finish keeps only what the roots reach, in dependency order", "[llb]") {
  DefinitionBuilder b;
  const Vertex* img = b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {});
  const Vertex* unused = b.add(run("unused"), {img});
  const Vertex* used = b.add(run("used"), {img});
  Digest unused_digest = unused->digest();
  Definition def = b.finish({{"final", used}});
  REQUIRE(def.vertices().size() == 2);
  CHECK(def.vertices()[0].get() == img);
  CHECK(def.vertices()[1].get() == used);
  CHECK(def.find(unused_digest) == nullptr);
  CHECK(def.find(used->digest()) == used);
  CHECK(b.size() == 0);
}

TEST_CASE("json dump is stable", "[llb]") {
  DefinitionBuilder b;
  VertexMetadata meta;
  meta.description = "[1/2] FROM alpine";
  meta.ranges = {{1, 1}};
  meta.progress_group = "stage-0";
  const Vertex* img =
      b.add(ImageSource{"docker.io/library/alpine:3.20", {}, "linux/amd64"}, {}, meta);
  FileOp mk;
  mk.actions.push_back(MkdirAction{"/app", 0755, true, {}});
  const Vertex* f = b.add(mk, {img});
  Definition def = b.finish({{"stage-0", f}});
  std::string expected = R"({
  "version": 1,
  "roots": [
    {
      "name": "stage-0",
      "vertex": ")" + f->digest().str() +
                         R"("
    }
  ],
  "vertices": [
    {
      "digest": ")" + img->digest().str() +
                         R"(",
      "op": {
        "kind": "image",
        "ref": "docker.io/library/alpine:3.20",
        "platform": "linux/amd64"
      },
      "inputs": [],
      "description": "[1/2] FROM alpine",
      "ranges": [
        [
          1,
          1
        ]
      ],
      "progress_group": "stage-0"
    },
    {
      "digest": ")" + f->digest().str() +
                         R"(",
      "op": {
        "kind": "file",
        "actions": [
          {
            "action": "mkdir",
            "path": "/app",
            "mode": "0755",
            "make_parents": true
          }
        ]
      },
      "inputs": [
        ")" + img->digest().str() +
                         R"("
      ]
    }
  ]
}
)";
  CHECK(def.to_json() == expected);
}
