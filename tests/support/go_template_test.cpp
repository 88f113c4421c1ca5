// The Go template engine against docker's documented --format examples and Go's
// text/template semantics.

#include "support/go_template.h"

#include <catch2/catch.hpp>

#include "support/error.h"

namespace {

using Json = nlohmann::ordered_json;

// Parses and runs `text` over `data`; a failure becomes "error: <message>".
std::string render(const std::string& text, const Json& data) {
  auto tmpl = kiln::support::GoTemplate::parse(text);
  if (!tmpl) {
    return "error: " + kiln::error_message(tmpl.takeError());
  }
  auto out = tmpl->execute(data);
  if (!out) {
    return "error: " + kiln::error_message(out.takeError());
  }
  return *out;
}

const Json& inspect_data() {
  static const Json data = Json::parse(R"({
    "Id": "sha256:abc",
    "Name": "/Web_1",
    "Args": ["-g", "daemon off;"],
    "Image": "nginx:1.25",
    "State": {"Running": true, "Pid": 42, "ExitCode": 0, "Status": "running"},
    "Config": {"Env": ["PATH=/usr/bin", "A=1"], "Labels": {"maintainer": "me", "b": "2"},
               "Cmd": null},
    "LogPath": "/var/log/x.log",
    "NetworkSettings": {
      "Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "alt": {"IPAddress": "10.0.0.2"}},
      "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}},
    "Size": 1234,
    "Ratio": 1.5
  })");
  return data;
}

}  // namespace

TEST_CASE("docker's formatting reference examples", "[go_template]") {
  const Json& c = inspect_data();
  CHECK(render(R"({{join .Args " , "}})", c) == "-g , daemon off;");
  CHECK(render("{{lower .Name}}", c) == "/web_1");
  CHECK(render("{{upper .Name}}", c) == "/WEB_1");
  CHECK(render("{{title .Image}}", c) == "Nginx:1.25");
  CHECK(render(R"({{split .Image ":"}})", c) == "[nginx 1.25]");
  CHECK(render(R"({{split (join .Args "/") "/"}})", c) == "[-g daemon off;]");
  CHECK(render("{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}", c) ==
        "10.0.0.2\n172.17.0.2\n");
  CHECK(render("{{json .State}}", c) ==
        R"({"Running":true,"Pid":42,"ExitCode":0,"Status":"running"})");
}

TEST_CASE("docker inspect's documented templates", "[go_template]") {
  const Json& c = inspect_data();
  CHECK(render("{{.State.Running}}", c) == "true");
  CHECK(render("{{.LogPath}}", c) == "/var/log/x.log");
  CHECK(render("{{.Config.Env}}", c) == "[PATH=/usr/bin A=1]");
  CHECK(render("{{.Config.Labels}}", c) == "map[b:2 maintainer:me]");
  CHECK(render(R"({{index .Config.Labels "maintainer"}})", c) == "me");
  CHECK(render(R"({{index .Config.Labels "absent"}})", c) == "");
  CHECK(render("{{json .Config}}", c) ==
        R"({"Env":["PATH=/usr/bin","A=1"],"Labels":{"maintainer":"me","b":"2"},"Cmd":null})");
  CHECK(render("{{.Config.Cmd}}", c) == "<nil>");
  CHECK(render("{{.Config.Missing}}", c) == "<no value>");
  CHECK(render("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> "
               "{{(index $conf 0).HostPort}} {{end}}",
               c) == " 80/tcp -> 8080 ");
  CHECK(render("{{.Size}} {{.Ratio}}", c) == "1234 1.5");
}

TEST_CASE("docker images and ps style row templates", "[go_template]") {
  Json row = {{"ID", "0123456789ab"},
              {"Repository", "alpine"},
              {"Tag", "3.20"},
              {"Names", "web"},
              {"Labels", "com.example=1"}};
  CHECK(render("{{.ID}}: {{.Repository}}", row) == "0123456789ab: alpine");
  CHECK(render("{{.Repository}}:{{.Tag}}", row) == "alpine:3.20");
  CHECK(render("{{json .}}", row) ==
        R"({"ID":"0123456789ab","Repository":"alpine","Tag":"3.20","Names":"web",)"
        R"("Labels":"com.example=1"})");
  CHECK(render("{{truncate .ID 4}}", row) == "0123");
  CHECK(render("{{truncate .Repository 3}}", row) == "alp");
  CHECK(render("{{pad .Tag 1 2}}|", row) == " 3.20  |");
  CHECK(render("{{.Names | upper | printf \"<%s>\"}}", row) == "<WEB>");
}

TEST_CASE("control structures, variables and whitespace trimming", "[go_template]") {
  Json data = Json::parse(R"({"List": ["a", "b", "c"], "Empty": [], "N": 3, "S": "x",
                              "Flag": false})");
  CHECK(render("{{range $i, $e := .List}}{{$i}}={{$e}};{{end}}", data) == "0=a;1=b;2=c;");
  CHECK(render("{{range .Empty}}x{{else}}none{{end}}", data) == "none");
  CHECK(render("{{if .Flag}}yes{{else if eq .N 3}}three{{else}}no{{end}}", data) == "three");
  CHECK(render("{{with .S}}[{{.}}]{{end}}{{with .Missing}}[{{.}}]{{else}}-{{end}}", data) ==
        "[x]-");
  CHECK(render("a  {{- .S -}}  \n b", data) == "axb");
  CHECK(render("{{/* a comment */}}ok{{- /* trimmed */ -}} !", data) == "ok!");
  CHECK(render("{{$v := 3}}{{$v = 4}}{{$v}} {{$}}", Json("root")) == "4 root");
  CHECK(render("{{range .List}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", data) == "a");
  CHECK(render("{{range .List}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", data) == "ac");
  CHECK(render("{{range $e := .List}}{{$e}}{{end}}", data) == "abc");
  CHECK(render("{{with $x := .S}}{{$x}}{{.}}{{end}}", data) == "xx");
}

TEST_CASE("builtin functions follow Go", "[go_template]") {
  Json data = Json::parse(R"({"N": 3, "S": "hello", "L": [1, 2], "M": {"k": "v"}})");
  CHECK(render("{{len .S}} {{len .L}} {{len .M}}", data) == "5 2 1");
  CHECK(render("{{index .L 1}}", data) == "2");
  CHECK(render("{{slice .S 1 3}} {{slice .S 2}} {{slice .L 1}}", data) == "el llo [2]");
  CHECK(render("{{eq .N 1 2 3}} {{ne .S \"x\"}} {{lt .N 4}} {{gt .N 4}} {{le 3 3}} {{ge 2 3}}",
               data) == "true true true false true false");
  CHECK(render("{{and .N .S}} {{or 0 \"\" .S}} {{not .N}}", data) == "hello hello false");
  CHECK(render("{{printf \"%s=%d %5s|%-5s|%05d %q %v %t %x\" .S .N \"ab\" \"cd\" 42 .S .L true "
               "255}}",
               data) == "hello=3    ab|cd   |00042 \"hello\" [1 2] true ff");
  CHECK(render("{{printf \"%.2f %s %d\" 1.5 .N}}", data) == "1.50 %!s(int=3) %!d(MISSING)");
  CHECK(render("{{print \"a\" 1 2 \"b\"}}", data) == "a1 2b");
  CHECK(render("{{printf \"%%\"}}", data) == "%");
  CHECK(render("{{printf \"%v\" 1000000.0}} {{0.00001}}", data) == "1e+06 1e-05");
}

TEST_CASE("template errors name the line and the problem", "[go_template]") {
  Json data = Json::parse(R"({"S": "x", "L": [1]})");
  CHECK(render("{{.S", data) == "error: line 1: unclosed action");
  CHECK(render("a\n{{nosuch .S}}", data) == "error: line 2: function 'nosuch' not defined");
  CHECK(render("{{if .S}}x", data) == "error: line 1: unexpected EOF: {{if}} without {{end}}");
  CHECK(render("{{end}}", data) == "error: line 1: unexpected {{end}}");
  CHECK(render("{{$x}}", data) == "error: line 1: undefined variable '$x'");
  CHECK(render("{{.S.Field}}", data) == "error: line 1: can't evaluate field Field in 'x'");
  CHECK(render("{{index .L 3}}", data) ==
        "error: line 1: error calling index: index out of range: 3");
  CHECK(render("{{eq .S 1}}", data) ==
        "error: line 1: error calling eq: incompatible types for comparison");
  CHECK(render("{{slice .S 2 9}}", data) ==
        "error: line 1: error calling slice: index out of range: 2:9");
  CHECK(render("{{lt true false}}", data) ==
        "error: line 1: error calling lt: invalid type for comparison");
  CHECK(render("{{break}}", data) == "error: line 1: {{break}} outside {{range}}");
  CHECK(render("{{.S 1}}", data) == "error: line 1: can't give argument to non-function");
}

TEST_CASE("docker's format escapes become tabs and newlines", "[go_template]") {
  CHECK(kiln::support::expand_format_escapes(R"(table {{.ID}}\t{{.Tag}}\n)") ==
        "table {{.ID}}\t{{.Tag}}\n");
}

TEST_CASE("header mode passes docker's functions' first argument through", "[go_template]") {
  auto tmpl = kiln::support::GoTemplate::parse("{{.Names | upper}}\t{{truncate .ID 3}}");
  REQUIRE(static_cast<bool>(tmpl));
  Json header = {{"Names", "NAMES"}, {"ID", "CONTAINER ID"}};
  auto out = tmpl->execute(header, kiln::support::GoTemplate::Functions::header);
  REQUIRE(static_cast<bool>(out));
  CHECK(*out == "NAMES\tCONTAINER ID");
}
