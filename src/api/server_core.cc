#include "api/server_core.h"

#include <cstdio>
#include <random>
#include <utility>

#include "base/assert.h"

namespace bursar::api::http_internal {
namespace {

std::string RandomHex32() {
    std::random_device random;
    char text[9];
    std::snprintf(text, sizeof(text), "%08x", static_cast<unsigned>(random()));
    return text;
}

}  // namespace

ServerCore::ServerCore(HttpServerOptions server_options, Handler server_handler)
    : options(std::move(server_options)),
      handler(std::move(server_handler)),
      registry(options.connections_max),
      request_id_prefix_(RandomHex32()) {}

void ServerCore::Log(const std::string& line) const {
    if (options.log) options.log(line);
}

std::string ServerCore::NewRequestId() {
    const uint64_t number = next_request_id_.fetch_add(1, std::memory_order_relaxed);
    char suffix[17];
    std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(number));
    return request_id_prefix_ + "-" + suffix;
}

void ServerCore::CountResponse(int status) {
    const int status_class = status / 100;
    BURSAR_ASSERT(status_class >= 1 && status_class <= 5);
    responses_by_class[status_class - 1].fetch_add(1, std::memory_order_relaxed);
}

const UpgradeHandler* ServerCore::FindUpgradeHandler(const std::string& path) const {
    const auto entry = upgrade_handlers.find(path);
    return entry == upgrade_handlers.end() ? nullptr : &entry->second;
}

}  // namespace bursar::api::http_internal
