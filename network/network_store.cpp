#include "network/network_store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "network/netns.h"
#include "network/outbound.h"
#include "support/atomic_file.h"
#include "support/error.h"
#include "support/file_lock.h"
#include "support/fs.h"

namespace kiln::network {
namespace {

using Json = nlohmann::json;

std::string ip_text(uint32_t addr) {
  in_addr a{htonl(addr)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

std::optional<uint32_t> parse_ip(llvm::StringRef text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.str().c_str(), &a) != 1) {
    return std::nullopt;
  }
  return ntohl(a.s_addr);
}

std::string random_id() {
  static const char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string id;
  for (int i = 0; i < 64; ++i) {
    id += kHex[device() % 16];
  }
  return id;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_name(llvm::StringRef name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Json record_to_json(const NetworkRecord& r) {
  return {{"Id", r.id},         {"Name", r.name},       {"Driver", r.driver},
          {"Subnet", r.subnet}, {"Gateway", r.gateway}, {"CreatedNs", r.created_ns},
          {"Labels", r.labels}};
}

NetworkRecord record_from_json(const Json& j) {
  NetworkRecord r;
  r.id = j.value("Id", "");
  r.name = j.value("Name", "");
  r.driver = j.value("Driver", "bridge");
  r.subnet = j.value("Subnet", "");
  r.gateway = j.value("Gateway", "");
  r.created_ns = j.value("CreatedNs", int64_t{0});
  r.labels = j.value("Labels", std::map<std::string, std::string>{});
  return r;
}

Json endpoint_to_json(const Endpoint& e) {
  const EndpointRequest& q = e.request;
  return {{"ContainerID", q.container_id},
          {"Name", q.container_name},
          {"Aliases", q.aliases},
          {"Hostname", q.hostname},
          {"ExtraHosts", q.extra_hosts},
          {"Netns", q.netns},
          {"HostsFile", q.hosts_file},
          {"Interface", q.interface},
          {"DefaultRoute", q.default_route},
          {"IPAddress", e.ip},
          {"IPPrefixLen", e.prefix_len},
          {"Veth", e.veth}};
}

Endpoint endpoint_from_json(const Json& j) {
  Endpoint e;
  EndpointRequest& q = e.request;
  q.container_id = j.value("ContainerID", "");
  q.container_name = j.value("Name", "");
  q.aliases = j.value("Aliases", std::vector<std::string>{});
  q.hostname = j.value("Hostname", "");
  q.extra_hosts = j.value("ExtraHosts", std::vector<std::string>{});
  q.netns = j.value("Netns", "");
  q.hosts_file = j.value("HostsFile", "");
  q.interface = j.value("Interface", "eth0");
  q.default_route = j.value("DefaultRoute", true);
  e.ip = j.value("IPAddress", "");
  e.prefix_len = j.value("IPPrefixLen", 24);
  e.veth = j.value("Veth", "");
  return e;
}

// endpoints.json: the attached containers and the last address handed out
// (addresses go round, so a restarted container gets a new one, as in docker).
struct EndpointTable {
  uint32_t last = 0;
  std::vector<Endpoint> endpoints;
};

EndpointTable load_table(const std::string& path) {
  EndpointTable t;
  auto text = fs::read_file(path);
  if (!text) {
    llvm::consumeError(text.takeError());
    return t;
  }
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object()) {
    return t;
  }
  t.last = j.value("Last", uint32_t{0});
  for (const auto& e : j.value("Endpoints", Json::array())) {
    t.endpoints.push_back(endpoint_from_json(e));
  }
  return t;
}

llvm::Error save_table(const std::string& path, const EndpointTable& t) {
  Json list = Json::array();
  for (const auto& e : t.endpoints) {
    list.push_back(endpoint_to_json(e));
  }
  Json j = {{"Last", t.last}, {"Endpoints", list}};
  return write_file_atomic(path, j.dump(2) + "\n");
}

// Replaces a bind-mounted file's content in place (a rename would leave the
// container's mount on the old file).
void write_in_place(const std::string& path, llvm::StringRef content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return;
  }
  ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
  if (n == static_cast<ssize_t>(content.size())) {
    if (::ftruncate(fd, static_cast<off_t>(content.size())) != 0) {
      // best effort
    }
  }
  ::close(fd);
}

}  // namespace

llvm::Expected<std::pair<uint32_t, int>> parse_subnet(llvm::StringRef text) {
  auto [addr, len_text] = text.split('/');
  auto ip = parse_ip(addr);
  int len = 0;
  if (!ip || len_text.getAsInteger(10, len) || len < 8 || len > 30) {
    return llvm::make_error<UsageError>("invalid subnet " + quote(text) +
                                        " (expected A.B.C.D/LEN, LEN from 8 to 30)");
  }
  uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return std::make_pair(*ip & mask, len);
}

std::string hosts_content(const Endpoint& self, const std::vector<Endpoint>& peers) {
  const EndpointRequest& q = self.request;
  std::string out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::string names = q.hostname;
  for (const std::string& n : {q.container_name}) {
    if (!n.empty() && n != q.hostname) {
      names += " " + n;
    }
  }
  out += self.ip + "\t" + names + "\n";
  for (llvm::StringRef extra : q.extra_hosts) {
    auto [name, ip] = extra.split(':');
    out += ip.str() + "\t" + name.str() + "\n";
  }
  std::set<std::string> seen;
  for (const Endpoint& p : peers) {
    if (p.request.container_id == q.container_id || !seen.insert(p.request.container_id).second) {
      continue;
    }
    std::string line = p.ip + "\t" + p.request.container_name;
    for (const auto& alias : p.request.aliases) {
      line += " " + alias;
    }
    line += " " + p.request.container_id.substr(0, 12);
    out += line + "\n";
  }
  return out;
}

llvm::Expected<NetworkStore> NetworkStore::open(llvm::StringRef root) {
  std::string dir = root.str() + "/networks";
  if (auto err = fs::make_dirs(dir, 0700)) {
    return std::move(err);
  }
  return NetworkStore(dir);
}

llvm::Expected<std::vector<NetworkRecord>> NetworkStore::list() const {
  std::vector<NetworkRecord> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) {
    return make_io_error("read", dir_, errno);
  }
  while (dirent* entry = ::readdir(d)) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    auto text = fs::read_file(net_dir(entry->d_name) + "/network.json");
    if (!text) {
      llvm::consumeError(text.takeError());
      continue;
    }
    Json j = Json::parse(*text, nullptr, false);
    if (j.is_object()) {
      out.push_back(record_from_json(j));
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const NetworkRecord& a, const NetworkRecord& b) { return a.name < b.name; });
  return out;
}

llvm::Expected<NetworkRecord> NetworkStore::get(llvm::StringRef name_or_id) const {
  auto all = list();
  if (!all) {
    return all.takeError();
  }
  const NetworkRecord* prefix_match = nullptr;
  int prefix_matches = 0;
  for (const auto& r : *all) {
    if (r.name == name_or_id || r.id == name_or_id) {
      return r;
    }
    if (!name_or_id.empty() && llvm::StringRef(r.id).startswith(name_or_id)) {
      prefix_match = &r;
      prefix_matches++;
    }
  }
  if (prefix_matches == 1) {
    return *prefix_match;
  }
  return llvm::make_error<UsageError>("network " + name_or_id.str() + " not found");
}

llvm::Expected<NetworkRecord> NetworkStore::create(
    llvm::StringRef name, llvm::StringRef subnet,
    const std::map<std::string, std::string>& labels) const {
  if (!valid_name(name)) {
    return llvm::make_error<UsageError>("invalid network name " + quote(name) +
                                        ": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  }
  if (name == "host" || name == "none" || name == "bridge" || name == "default") {
    return llvm::make_error<UsageError>("network name " + quote(name) +
                                        " is reserved for docker's predefined networks");
  }
  auto lock = FileLock::acquire(dir_ + "/.lock");
  if (!lock) {
    return lock.takeError();
  }
  auto all = list();
  if (!all) {
    return all.takeError();
  }
  for (const auto& r : *all) {
    if (r.name == name) {
      return llvm::make_error<UsageError>("network with name " + name.str() + " already exists");
    }
  }
  auto overlaps = [&](uint32_t base, int len) -> const NetworkRecord* {
    for (const auto& r : *all) {
      auto other = parse_subnet(r.subnet);
      if (!other) {
        llvm::consumeError(other.takeError());
        continue;
      }
      int shorter = std::min(len, other->second);
      uint32_t mask = ~uint32_t{0} << (32 - shorter);
      if ((base & mask) == (other->first & mask)) {
        return &r;
      }
    }
    return nullptr;
  };
  NetworkRecord record;
  record.id = random_id();
  record.name = name.str();
  record.created_ns = now_ns();
  record.labels = labels;
  uint32_t base = 0;
  int len = 24;
  if (!subnet.empty()) {
    auto parsed = parse_subnet(subnet);
    if (!parsed) {
      return parsed.takeError();
    }
    std::tie(base, len) = *parsed;
    if (const NetworkRecord* other = overlaps(base, len)) {
      return llvm::make_error<UsageError>("invalid pool request: subnet " + subnet.str() +
                                          " overlaps network " + other->name + "'s " +
                                          other->subnet);
    }
  } else {
    uint32_t first = (10u << 24) | (89u << 16);
    for (uint32_t n = 0; n < 256; ++n) {
      if (!overlaps(first | (n << 8), 24)) {
        base = first | (n << 8);
        break;
      }
    }
    if (base == 0) {
      return make_error("no free subnet in 10.89.0.0/16 for network " + quote(name));
    }
  }
  record.subnet = ip_text(base) + "/" + std::to_string(len);
  record.gateway = ip_text(base + 1);
  std::string dir = net_dir(name);
  if (auto err = fs::make_dirs(dir, 0700)) {
    return std::move(err);
  }
  if (auto err = write_file_atomic(dir + "/network.json", record_to_json(record).dump(2) + "\n")) {
    return std::move(err);
  }
  return record;
}

llvm::Expected<NetworkRecord> NetworkStore::get_or_create_default(llvm::StringRef name) const {
  auto found = get(name);
  if (found || name != kDefaultNetwork) {
    return found;
  }
  llvm::consumeError(found.takeError());
  auto created = create(name, "", {});
  if (!created) {
    // Another process may have made it meanwhile.
    llvm::consumeError(created.takeError());
    return get(name);
  }
  return created;
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (llvm::StringRef label : flags) {
    auto [key, value] = label.split('=');
    out[key.str()] = value.str();
  }
  return out;
}

llvm::Error NetworkStore::remove_user_network(llvm::StringRef name_or_id) const {
  if (name_or_id == kDefaultNetwork) {
    return make_error(name_or_id + " is a pre-defined network and cannot be removed");
  }
  return remove(name_or_id);
}

llvm::Error NetworkStore::remove(llvm::StringRef name_or_id) const {
  auto record = get(name_or_id);
  if (!record) {
    return record.takeError();
  }
  auto global = FileLock::acquire(dir_ + "/.lock");
  if (!global) {
    return global.takeError();
  }
  std::string dir = net_dir(record->name);
  auto lock = FileLock::acquire(dir + "/lock");
  if (!lock) {
    return lock.takeError();
  }
  EndpointTable table = load_table(dir + "/endpoints.json");
  if (!table.endpoints.empty()) {
    return make_error("error while removing network: network " + record->name + " id " +
                      record->id + " has active endpoints");
  }
  stop_outbound(dir + "/netns", dir + "/pasta.pid");
  remove_netns(dir + "/netns");
  return fs::remove_all(dir);
}

llvm::Expected<std::vector<Endpoint>> NetworkStore::endpoints(llvm::StringRef name) const {
  auto record = get(name);
  if (!record) {
    return record.takeError();
  }
  return load_table(net_dir(record->name) + "/endpoints.json").endpoints;
}

llvm::Expected<Endpoint> NetworkStore::attach(llvm::StringRef name,
                                              const EndpointRequest& request) const {
  auto record = get(name);
  if (!record) {
    return record.takeError();
  }
  std::string dir = net_dir(record->name);
  auto lock = FileLock::acquire(dir + "/lock");
  if (!lock) {
    return lock.takeError();
  }
  std::string table_path = dir + "/endpoints.json";
  EndpointTable table = load_table(table_path);
  for (const auto& e : table.endpoints) {
    if (e.request.container_id == request.container_id) {
      return llvm::make_error<UsageError>("endpoint with name " + request.container_name +
                                          " already exists in network " + record->name);
    }
  }
  auto subnet = parse_subnet(record->subnet);
  if (!subnet) {
    return subnet.takeError();
  }
  auto [base, len] = *subnet;
  std::string netns = dir + "/netns";
  if (!netns_mounted(netns)) {
    // The network's namespace exists only while containers use it.
    stop_outbound(netns, dir + "/pasta.pid");
    remove_netns(netns);
    if (auto err = create_netns(netns)) {
      return std::move(err);
    }
    std::string setup = "link set lo up\nlink add br0 type bridge\naddr add " + record->gateway +
                        "/" + std::to_string(len) + " dev br0\nlink set br0 up\n";
    if (auto err = ip_batch(netns, setup)) {
      remove_netns(netns);
      return std::move(err);
    }
    if (auto err = start_outbound(netns, dir + "/pasta.pid")) {
      stop_outbound(netns, dir + "/pasta.pid");
      remove_netns(netns);
      return std::move(err);
    }
  }
  // The next free address after the last one handed out.
  uint32_t size = uint32_t{1} << (32 - len);
  std::set<uint32_t> used;
  for (const auto& e : table.endpoints) {
    if (auto ip = parse_ip(e.ip)) {
      used.insert(*ip);
    }
  }
  uint32_t gateway = base + 1;
  uint32_t start = table.last >= base && table.last < base + size ? table.last - base : 1;
  uint32_t chosen = 0;
  for (uint32_t i = 1; i < size; ++i) {
    uint32_t offset = (start + i) % size;
    uint32_t candidate = base + offset;
    if (offset == 0 || offset == size - 1 || candidate == gateway || used.count(candidate)) {
      continue;
    }
    chosen = candidate;
    break;
  }
  if (chosen == 0) {
    return make_error("no available IPv4 addresses on network " + record->name + " (" +
                      record->subnet + ")");
  }
  Endpoint endpoint;
  endpoint.request = request;
  endpoint.ip = ip_text(chosen);
  endpoint.prefix_len = len;
  endpoint.veth = "v" + request.container_id.substr(0, 12);
  std::string bridge_side = "link add " + endpoint.veth + " type veth peer name " +
                            request.interface + " netns " + request.netns + "\nlink set " +
                            endpoint.veth + " master br0\nlink set " + endpoint.veth + " up\n";
  if (auto err = ip_batch(netns, bridge_side)) {
    return std::move(err);
  }
  std::string container_side = "link set lo up\naddr add " + endpoint.ip + "/" +
                               std::to_string(len) + " dev " + request.interface + "\nlink set " +
                               request.interface + " up\n";
  if (request.default_route) {
    container_side += "route add default via " + record->gateway + "\n";
  }
  if (auto err = ip_batch(request.netns, container_side)) {
    llvm::consumeError(ip_batch(netns, "link del " + endpoint.veth + "\n"));
    return std::move(err);
  }
  table.last = chosen;
  table.endpoints.push_back(endpoint);
  if (auto err = save_table(table_path, table)) {
    return std::move(err);
  }
  refresh_hosts(table.endpoints);
  return endpoint;
}

llvm::Error NetworkStore::detach(llvm::StringRef name, llvm::StringRef container_id) const {
  auto record = get(name);
  if (!record) {
    return record.takeError();
  }
  std::string dir = net_dir(record->name);
  auto lock = FileLock::acquire(dir + "/lock");
  if (!lock) {
    return lock.takeError();
  }
  std::string table_path = dir + "/endpoints.json";
  EndpointTable table = load_table(table_path);
  auto it = std::find_if(table.endpoints.begin(), table.endpoints.end(),
                         [&](const Endpoint& e) { return e.request.container_id == container_id; });
  if (it == table.endpoints.end()) {
    return llvm::Error::success();
  }
  std::string netns = dir + "/netns";
  Endpoint gone = *it;
  table.endpoints.erase(it);
  if (auto err = save_table(table_path, table)) {
    return err;
  }
  if (table.endpoints.empty()) {
    stop_outbound(netns, dir + "/pasta.pid");
    remove_netns(netns);
  } else {
    if (netns_mounted(netns)) {
      // Gone already when the container's namespace ended first.
      llvm::consumeError(ip_batch(netns, "link del " + gone.veth + "\n"));
    }
    refresh_hosts(table.endpoints);
  }
  return llvm::Error::success();
}

void NetworkStore::detach_everywhere(llvm::StringRef container_id) const {
  auto all = list();
  if (!all) {
    llvm::consumeError(all.takeError());
    return;
  }
  for (const auto& r : *all) {
    EndpointTable table = load_table(net_dir(r.name) + "/endpoints.json");
    for (const auto& e : table.endpoints) {
      if (e.request.container_id == container_id) {
        llvm::consumeError(detach(r.name, container_id));
        break;
      }
    }
  }
}

void NetworkStore::rename_everywhere(llvm::StringRef container_id, llvm::StringRef new_name) const {
  auto all = list();
  if (!all) {
    llvm::consumeError(all.takeError());
    return;
  }
  for (const auto& r : *all) {
    std::string dir = net_dir(r.name);
    auto lock = FileLock::acquire(dir + "/lock");
    if (!lock) {
      llvm::consumeError(lock.takeError());
      continue;
    }
    EndpointTable table = load_table(dir + "/endpoints.json");
    bool changed = false;
    for (auto& e : table.endpoints) {
      if (e.request.container_id == container_id) {
        e.request.container_name = new_name.str();
        changed = true;
      }
    }
    if (!changed) {
      continue;
    }
    if (auto err = save_table(dir + "/endpoints.json", table)) {
      llvm::consumeError(std::move(err));
      continue;
    }
    refresh_hosts(table.endpoints);
  }
}

void NetworkStore::refresh_hosts(const std::vector<Endpoint>& changed) const {
  // Every container of the changed network gets a hosts file from all of its
  // networks (read without their locks: endpoints.json is replaced atomically).
  auto all = list();
  std::vector<EndpointTable> tables;
  if (all) {
    for (const auto& r : *all) {
      tables.push_back(load_table(net_dir(r.name) + "/endpoints.json"));
    }
  } else {
    llvm::consumeError(all.takeError());
  }
  for (const Endpoint& self : changed) {
    std::vector<Endpoint> peers;
    for (const auto& t : tables) {
      bool member = std::any_of(t.endpoints.begin(), t.endpoints.end(), [&](const Endpoint& e) {
        return e.request.container_id == self.request.container_id;
      });
      if (member) {
        peers.insert(peers.end(), t.endpoints.begin(), t.endpoints.end());
      }
    }
    // The changed network's own table may not be on disk yet in this order.
    peers.insert(peers.end(), changed.begin(), changed.end());
    if (!self.request.hosts_file.empty()) {
      write_in_place(self.request.hosts_file, hosts_content(self, peers));
    }
  }
}

}  // namespace kiln::network
