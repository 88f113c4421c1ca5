// Times parsing and lowering of a generated 2,000-line, 40-stage Dockerfile.
// Usage: parse_bench [runs]   (default 50). Prints the median and the spread.
// Target: parse + lower under 20 ms.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "frontend/instructions.h"
#include "frontend/lower.h"
#include "support/error.h"

namespace {

/// A deterministic Dockerfile: 40 stages of 50 lines each, with ARGs, ENV,
/// continuation lines, COPY --from earlier stages, mounts and metadata.
std::string generate_dockerfile() {
  std::string out = "# syntax=docker/dockerfile:1\nARG BASE=alpine:3.20\nARG VERSION=1.0\n";
  int lines = 3;
  for (int s = 0; s < 40; ++s) {
    std::string n = std::to_string(s);
    out += s % 4 == 0 || s == 0 ? "FROM ${BASE} AS stage" + n + "\n"
                                : "FROM stage" + std::to_string(s - 1) + " AS stage" + n + "\n";
    out += "ARG VERSION\nARG STAGE_ARG_" + n + "=value-" + n + "\n";
    out += "ENV PATH_" + n + "=/opt/s" + n + "/bin MODE=release LEVEL=" + n + "\n";
    out += "WORKDIR /src/stage" + n + "\n";
    out += "LABEL org.example.stage=\"" + n + "\" org.example.version=$VERSION\n";
    lines += 6;
    for (int i = 0; i < 8; ++i) {
      std::string k = std::to_string(i);
      out += "RUN --mount=type=cache,target=/root/.cache/s" + n + " \\\n";
      out += "    echo step " + k + " of $STAGE_ARG_" + n + " && \\\n";
      out += "    mkdir -p /out/" + n + "/" + k + " && \\\n";
      out += "    touch /out/" + n + "/" + k + "/file\n";
      out += "COPY src/" + n + "/" + k + "/ ./part" + k + "/\n";
      lines += 5;
    }
    if (s > 0) {
      out += "COPY --from=stage" + std::to_string(s / 2) + " /out /from-earlier\n";
    } else {
      out += "COPY . /ctx\n";
    }
    out += "EXPOSE 80" + std::to_string(s % 10) + "\n";
    out += "USER 1000:1000\n";
    out += "CMD [\"/opt/s" + n + "/bin/app\", \"--stage\", \"" + n + "\"]\n";
    lines += 4;
  }
  while (lines < 2000) {
    out += "# padding comment line " + std::to_string(lines) + "\n";
    ++lines;
  }
  return out;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  std::string text = generate_dockerfile();
  size_t line_count = std::count(text.begin(), text.end(), '\n');
  std::vector<double> parse_ms, lower_ms, total_ms;
  size_t vertices = 0;
  size_t stages = 0;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    auto df = kiln::frontend::parse_dockerfile(text, "Dockerfile");
    if (!df) {
      std::fprintf(stderr, "parse failed: %s\n", kiln::error_message(df.takeError()).c_str());
      return 1;
    }
    double parsed = ms_since(start);
    auto lowered = kiln::frontend::lower(*df, {});
    if (!lowered) {
      std::fprintf(stderr, "lower failed: %s\n", kiln::error_message(lowered.takeError()).c_str());
      return 1;
    }
    double total = ms_since(start);
    parse_ms.push_back(parsed);
    lower_ms.push_back(total - parsed);
    total_ms.push_back(total);
    vertices = lowered->definition.vertices().size();
    stages = df->stages.size();
  }
  std::printf("parse_bench: %zu lines, %zu stages, %zu vertices, %d runs\n", line_count, stages,
              vertices, runs);
  std::printf("  parse          median %7.3f ms\n", median(parse_ms));
  std::printf("  lower          median %7.3f ms\n", median(lower_ms));
  std::printf("  parse + lower  median %7.3f ms  (min %.3f, max %.3f; target < 20 ms)\n",
              median(total_ms), *std::min_element(total_ms.begin(), total_ms.end()),
              *std::max_element(total_ms.begin(), total_ms.end()));
  return 0;
}
