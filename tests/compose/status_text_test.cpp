// compose's events as text: the marks, the one-line statuses and the block
// under "[+] Running N/M".
#include "compose/status_text.h"

#include <catch2/catch.hpp>

using namespace kiln::compose;

TEST_CASE("compose statuses: in progress, marks and single lines", "[compose][status]") {
  CHECK(status_in_progress("Creating"));
  CHECK(status_in_progress("Waiting"));
  CHECK_FALSE(status_in_progress("Running"));
  CHECK_FALSE(status_in_progress("Started"));
  CHECK(std::string(status_mark("Error")) == " ✘ ");
  CHECK(std::string(status_mark("Pulling")) == " ⠿ ");
  CHECK(std::string(status_mark("Running")) == " ✔ ");
  CHECK(plain_status_line("Container", "p-web-1", "Started") == " Container p-web-1  Started\n");
  CHECK(marked_status_line("Image", "app", "Built") == " ✔ Image app  Built\n");
}

TEST_CASE("compose's status block: a header and aligned, marked lines", "[compose][status]") {
  StatusBlock block;
  block.set("Network", "p_default", "Creating");
  CHECK(block.lines() ==
        std::vector<std::string>{"[+] Running 0/1", " ⠿ Network p_default  Creating"});
  block.set("Network", "p_default", "Created");
  block.set("Container", "p-web-1", "Starting");
  block.set("Container", "p-db-1", "Error");
  CHECK(block.lines() ==
        std::vector<std::string>{"[+] Running 2/3", " ✔ Network p_default  Created",
                                 " ⠿ Container p-web-1  Starting", " ✘ Container p-db-1   Error"});
  block.clear();
  CHECK(block.lines() == std::vector<std::string>{"[+] Running 0/0"});
}
