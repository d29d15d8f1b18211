#include "payments/users/users.h"

#include "base/binary_codec.h"

namespace bursar::payments::users {
namespace {

constexpr uint64_t kUsersMax = 1ull << 40;  // a bound for decoding, far above any real count

Status Broken(const std::string& what) { return Status(StatusCode::kCorruption, "users: " + what); }

}  // namespace

std::string FoldEmail(std::string_view email) {
    std::string folded(email);
    for (char& c : folded) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return folded;
}

void Users::Index(uint64_t user_id) {
    const std::string& email = users_[user_id - 1].email;
    if (!users_by_email_.emplace(FoldEmail(email), user_id).second) {
        users_by_exact_email_.emplace(email, user_id);
    }
}

// Checks, in order: the email is not registered (v2: in any case; v1 commands: exactly, as that
// version did).
Outcome Users::Register(const Command& c, uint64_t timestamp) {
    const bool taken = c.version == 1 ? users_by_exact_email_.contains(c.email) ||
                                            [&] {
                                                auto it = users_by_email_.find(FoldEmail(c.email));
                                                return it != users_by_email_.end() &&
                                                       users_[it->second - 1].email == c.email;
                                            }()
                                      : users_by_email_.contains(FoldEmail(c.email));
    if (taken) return Refused(ResultCode::kEmailAlreadyRegistered);
    users_.push_back(User{c.email, c.name, c.password_hash, timestamp});
    const uint64_t id = users_.size();
    Index(id);
    Outcome outcome;
    outcome.object_id = id;
    outcome.time = timestamp;
    outcome.email = c.email;
    return outcome;
}

// Checks, in order: signed in, the user exists, the caller may act for them.
Outcome Users::Update(const Command& c, const Caller& caller) {
    if (caller.kind == Caller::Kind::kAnonymous) return Refused(ResultCode::kUnauthenticated);
    if (!Exists(c.user_id)) return Refused(ResultCode::kUserNotFound);
    if (!MayActForUser(caller, c.user_id)) return Refused(ResultCode::kForbidden);
    User& user = users_[c.user_id - 1];
    user.name = c.name;
    Outcome outcome;
    outcome.object_id = c.user_id;
    outcome.time = user.created_at;
    outcome.email = user.email;
    return outcome;
}

void Users::AddSession(const Hash256& hash, uint64_t user_id, uint64_t expires_at,
                       DeadlineQueue& deadlines) {
    auto it = sessions_.find(hash);
    if (it != sessions_.end()) {
        deadlines.Remove(
            Deadline{it->second.expires_at, DeadlineModule::kSessions, it->second.number});
        sessions_by_number_.erase(it->second.number);
    }
    const uint64_t number = next_session_number_++;
    sessions_[hash] = Session{user_id, expires_at, number};
    sessions_by_number_[number] = hash;
    deadlines.Add(Deadline{expires_at, DeadlineModule::kSessions, number});
}

// Checks: the user exists (the API verified the password; the user cannot vanish, but the
// command is checked like any other).
Outcome Users::CreateSession(const Command& c, DeadlineQueue& deadlines) {
    if (!Exists(c.user_id)) return Refused(ResultCode::kLoginUserNotFound);
    AddSession(c.secret_hash, c.user_id, c.expires_at, deadlines);
    Outcome outcome;
    outcome.object_id = c.user_id;
    outcome.time = c.expires_at;
    return outcome;
}

// Checks: the caller is a signed-in user (the session revoked is the caller's own).
Outcome Users::RevokeSession(const Command& c, const Caller& caller, DeadlineQueue& deadlines) {
    if (caller.kind != Caller::Kind::kUser) return Refused(ResultCode::kNotSignedIn);
    auto it = sessions_.find(c.principal.credential_hash);
    if (it != sessions_.end()) {
        deadlines.Remove(
            Deadline{it->second.expires_at, DeadlineModule::kSessions, it->second.number});
        sessions_by_number_.erase(it->second.number);
        sessions_.erase(it);
    }
    return Outcome{};
}

void Users::ExpireSession(uint64_t session_number, uint64_t timestamp) {
    auto by_number = sessions_by_number_.find(session_number);
    if (by_number == sessions_by_number_.end()) return;
    auto it = sessions_.find(by_number->second);
    if (it != sessions_.end() && it->second.expires_at <= timestamp) sessions_.erase(it);
    sessions_by_number_.erase(by_number);
}

std::optional<uint64_t> Users::SessionUser(const Hash256& token_hash, uint64_t now) const {
    auto it = sessions_.find(token_hash);
    if (it == sessions_.end() || it->second.expires_at <= now) return std::nullopt;
    return it->second.user_id;
}

const User* Users::Find(uint64_t user_id) const {
    return Exists(user_id) ? &users_[user_id - 1] : nullptr;
}

std::optional<Users::Login> Users::FindLogin(std::string_view email) const {
    auto exact = users_by_exact_email_.find(email);
    uint64_t id = 0;
    if (exact != users_by_exact_email_.end()) {
        id = exact->second;
    } else {
        auto it = users_by_email_.find(FoldEmail(email));
        if (it == users_by_email_.end()) return std::nullopt;
        id = it->second;
    }
    return Login{id, users_[id - 1].password_hash};
}

// The section: users in id order, then sessions in token-hash order (session numbers are not
// state: they only name deadlines, and are given again on load).
void Users::Save(std::string* out) const {
    BinaryWriter w(out);
    w.U64(users_.size());
    for (const User& u : users_) {
        w.String(u.email);
        w.String(u.name);
        w.String(u.password_hash);
        w.U64(u.created_at);
    }
    w.U64(sessions_.size());
    for (const auto& [hash, session] : sessions_) {
        w.Hash(hash);
        w.U64(session.user_id);
        w.U64(session.expires_at);
    }
}

bool Users::LoadV1Users(BinaryReader& r) {
    uint64_t count = 0;
    if (!r.U64(&count) || count > kUsersMax) return false;
    for (uint64_t i = 0; i < count; ++i) {
        User u;
        if (!r.String(&u.email, kEmailBytesMax) || !r.String(&u.name, kNameBytesMax) ||
            !r.String(&u.password_hash, kPasswordHashBytesMax) || !r.U64(&u.created_at)) {
            return false;
        }
        users_.push_back(std::move(u));
        Index(users_.size());
    }
    return true;
}

bool Users::LoadV1Sessions(BinaryReader& r, DeadlineQueue& deadlines) {
    uint64_t count = 0;
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t expires_at = 0, user_id = 0;
        Hash256 hash{};
        if (!r.U64(&expires_at) || !r.Hash(&hash) || !r.U64(&user_id)) return false;
        // v1 kept revoked or replaced sessions in its expiry queue with user 0.
        if (user_id != 0) AddSession(hash, user_id, expires_at, deadlines);
    }
    return true;
}

bool Users::Load(std::string_view section, DeadlineQueue& deadlines) {
    BinaryReader r(section);
    if (!LoadV1Users(r)) return false;  // the same layout as v1's users
    uint64_t count = 0;
    if (!r.U64(&count)) return false;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t expires_at = 0, user_id = 0;
        Hash256 hash{};
        if (!r.Hash(&hash) || !r.U64(&user_id) || !r.U64(&expires_at) || !Exists(user_id)) {
            return false;
        }
        AddSession(hash, user_id, expires_at, deadlines);
    }
    return r.done();
}

Status Users::CheckInvariants() const {
    if (users_by_email_.size() + users_by_exact_email_.size() != users_.size()) {
        return Broken("the email index does not hold every user once");
    }
    for (const auto& [folded, id] : users_by_email_) {
        if (!Exists(id) || FoldEmail(users_[id - 1].email) != folded) {
            return Broken("email index entry " + folded);
        }
    }
    if (sessions_by_number_.size() != sessions_.size()) {
        return Broken("a session without its deadline");
    }
    for (const auto& [hash, session] : sessions_) {
        if (!Exists(session.user_id)) return Broken("a session of no user");
        auto it = sessions_by_number_.find(session.number);
        if (it == sessions_by_number_.end() || it->second != hash) {
            return Broken("a session's number");
        }
    }
    return Status::Ok();
}

uint64_t Users::MemoryBytes() const {
    // A std::map node: its key and value plus about 48 bytes of links and allocator overhead.
    constexpr uint64_t kNodeBytes = 48;
    // Names, emails and password hashes beyond the strings' own buffers, per user.
    constexpr uint64_t kTextBytes = 160;
    return users_.capacity() * (sizeof(User) + kTextBytes) +
           (users_by_email_.size() + users_by_exact_email_.size()) *
               (kNodeBytes + sizeof(std::string) + sizeof(uint64_t)) +
           sessions_.size() * (2 * kNodeBytes + sizeof(Hash256) * 2 + sizeof(Session) + 8);
}

}  // namespace bursar::payments::users
