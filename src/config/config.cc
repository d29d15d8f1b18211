#include "config/config.h"

#include <fstream>

#include "base/assert.h"
#include "base/u128.h"
#include "ledger/currency.h"

namespace bursar::config {
namespace {

std::string Trim(const std::string& text) {
    const size_t begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    const size_t end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

Status Check(const Setting& setting, const std::string& value, const std::string& source) {
    auto bad = [&](const std::string& why) {
        return Status(StatusCode::kInvalidArgument, source + ": " + setting.key + " " + why);
    };
    if (setting.maximum != 0) {
        auto number = U128FromString(value);
        if (!number || *number < setting.minimum || *number > setting.maximum) {
            return bad("must be a whole number from " + std::to_string(setting.minimum) + " to " +
                       std::to_string(setting.maximum));
        }
    }
    if (setting.key == "listen") {
        const size_t colon = value.rfind(':');
        auto port =
            colon == std::string::npos ? std::nullopt : U128FromString(value.substr(colon + 1));
        if (colon == 0 || !port || *port > 65535)
            return bad("must be host:port, e.g. 127.0.0.1:8080");
    }
    if (setting.key == "default_currency" && ledger::FindCurrencyByCode(value) == nullptr) {
        return bad("is not a known currency code");
    }
    if (setting.key == "recovery_mode" && value != "strict" && value != "truncate-at-corruption") {
        return bad("must be strict or truncate-at-corruption");
    }
    if (setting.key == "data_dir" && value.empty()) return bad("must not be empty");
    if (setting.key == "journal_preallocate" && value != "true" && value != "false") {
        return bad("must be true or false");
    }
    if (setting.key == "utc_offset" && !ParseUtcOffset(value)) {
        return bad("must be +HH:MM or -HH:MM, from -12:00 to +14:00");
    }
    return Status::Ok();
}

}  // namespace

std::optional<int32_t> ParseUtcOffset(const std::string& text) {
    if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':')
        return std::nullopt;
    for (size_t i : {1, 2, 4, 5}) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const int32_t hours = (text[1] - '0') * 10 + (text[2] - '0');
    const int32_t minutes = (text[4] - '0') * 10 + (text[5] - '0');
    const int32_t total = (hours * 60 + minutes) * (text[0] == '-' ? -1 : 1);
    if (minutes >= 60 || total < -12 * 60 || total > 14 * 60) return std::nullopt;
    return total;
}

const std::vector<Setting>& Settings() {
    static const std::vector<Setting> settings = {
        {"listen", "BURSAR_LISTEN", "127.0.0.1:8080", "address and port of the HTTP API"},
        {"data_dir", "BURSAR_DATA_DIR", "./data", "journal, snapshots, read model, admin token"},
        {"default_currency", "BURSAR_DEFAULT_CURRENCY", "JPY",
         "currency when a request names none"},
        {"utc_offset", "BURSAR_UTC_OFFSET", "+00:00",
         "time zone of the live metrics' days, as an offset from UTC (+09:00 for Tokyo)"},
        {"nats_url", "BURSAR_NATS_URL", "",
         "publish events to NATS JetStream there (e.g. nats://127.0.0.1:4222); empty: off"},
        {"web_dir", "BURSAR_WEB_DIR", "",
         "the dashboard's built files; empty: web/dist of the source tree the binary was built in"},
        {"io_threads", "BURSAR_IO_THREADS", "2", "HTTP io threads", 1, 64},
        {"worker_threads", "BURSAR_WORKER_THREADS", "2", "threads for password hashing and reads",
         1, 64},
        {"session_ttl_seconds", "BURSAR_SESSION_TTL_SECONDS", "86400", "lifetime of a login token",
         60, 30 * 86400},
        {"preauth_expiry_seconds", "BURSAR_PREAUTH_EXPIRY_SECONDS", "604800",
         "expiry of a pre-authorization whose request names none (at most 30 days)", 1, 30 * 86400},
        {"user_single_limit_major", "BURSAR_USER_SINGLE_LIMIT_MAJOR", "1000000",
         "a user's single-payment limit, in major units of the payment's currency (R1)", 1,
         1'000'000'000'000'000ull},
        {"user_daily_limit_major", "BURSAR_USER_DAILY_LIMIT_MAJOR", "5000000",
         "a user's daily limit, in major units of the payment's currency (R1)", 1,
         1'000'000'000'000'000ull},
        {"snapshot_interval_records", "BURSAR_SNAPSHOT_INTERVAL_RECORDS", "4096",
         "journal records between snapshots (0: never)", 0, 1u << 30},
        {"state_memory_max_mib", "BURSAR_STATE_MEMORY_MAX_MIB", "0",
         "memory the ledger's state may hold, in MiB: at it, writes are refused (503 "
         "CAPACITY_EXCEEDED) and reads go on (0: three quarters of the machine's memory)",
         0, 1ull << 26},
        {"journal_preallocate", "BURSAR_JOURNAL_PREALLOCATE", "true",
         "write journal segments ahead as zeros (false on copy-on-write file systems such as "
         "btrfs or zfs, where it does not help)"},
        {"recovery_mode", "BURSAR_RECOVERY_MODE", "strict",
         "strict, or truncate-at-corruption to drop a damaged journal's tail (operators only)"},
        {"body_bytes_max", "BURSAR_BODY_BYTES_MAX", "65536", "largest request body (413 above)",
         1024, 1u << 24},
        {"request_timeout_ms", "BURSAR_REQUEST_TIMEOUT_MS", "30000",
         "time to receive a request and answer it (408 / 504 past it)", 100, 600'000},
        {"connections_max", "BURSAR_CONNECTIONS_MAX", "10000", "open connections (503 above)", 1,
         1'000'000},
        {"stream_queue_messages_max", "BURSAR_STREAM_QUEUE_MESSAGES_MAX", "1024",
         "messages queued for one /v1/stream client before it is closed as too slow (1008)", 1,
         1'000'000},
    };
    return settings;
}

Result<Config> Config::Load(const std::string& file, char** environment) {
    Config config;
    std::map<std::string, const Setting*> by_key, by_env;
    for (const Setting& setting : Settings()) {
        config.values_[setting.key] = setting.default_value;
        by_key[setting.key] = &setting;
        by_env[setting.env] = &setting;
    }
    auto set = [&](const Setting& setting, const std::string& value, const std::string& source) {
        Status status = Check(setting, value, source);
        if (status.ok()) config.values_[setting.key] = value;
        return status;
    };
    if (!file.empty()) {
        std::ifstream input(file);
        if (!input) return Error(StatusCode::kNotFound, "cannot read configuration file " + file);
        int number = 0;
        for (std::string line; std::getline(input, line);) {
            ++number;
            line = Trim(line);
            if (line.empty() || line[0] == '#') continue;
            const std::string where = file + ":" + std::to_string(number);
            const size_t equals = line.find('=');
            if (equals == std::string::npos) {
                return Error(StatusCode::kInvalidArgument, where + ": expected key = value");
            }
            const std::string key = Trim(line.substr(0, equals));
            auto it = by_key.find(key);
            if (it == by_key.end()) {
                return Error(StatusCode::kInvalidArgument, where + ": unknown key '" + key + "'");
            }
            Status status = set(*it->second, Trim(line.substr(equals + 1)), where);
            if (!status.ok()) return Error(status);
        }
    }
    for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string text = *entry;
        if (text.rfind("BURSAR_", 0) != 0 || text.rfind("BURSAR_TEST_", 0) == 0) continue;
        const size_t equals = text.find('=');
        const std::string name = text.substr(0, equals);
        auto it = by_env.find(name);
        if (it == by_env.end()) {
            return Error(StatusCode::kInvalidArgument, "unknown environment variable " + name);
        }
        Status status = set(*it->second, text.substr(equals + 1), name);
        if (!status.ok()) return Error(status);
    }
    return config;
}

const std::string& Config::Get(const std::string& key) const {
    auto it = values_.find(key);
    BURSAR_ASSERT(it != values_.end());
    return it->second;
}

uint64_t Config::Number(const std::string& key) const {
    return static_cast<uint64_t>(*U128FromString(Get(key)));
}

std::string Config::Describe() {
    std::string text;
    for (const Setting& s : Settings()) {
        text += "  " + s.key + " (" + s.env + ", default " + s.default_value +
                "): " + s.description + "\n";
    }
    return text;
}

}  // namespace bursar::config
