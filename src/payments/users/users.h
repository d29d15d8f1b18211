#pragma once

// Users and their sessions (SPEC.md P1): registration, profile updates, login sessions and
// logout. Emails are unique without regard to ASCII case; the email is kept as typed, for
// display. Sessions are held by the SHA-256 of their token (the token itself is never in the
// state, the journal or a snapshot) and expire through the deadline queue. README.md beside this
// file: commands, result codes in check order, section, invariants.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/binary_codec.h"
#include "base/sha256.h"
#include "base/status.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/deadlines.h"
#include "payments/outcome.h"

namespace bursar::payments::users {

struct User {
    std::string email;  // as registered
    std::string name;
    std::string password_hash;  // argon2id, encoded
    uint64_t created_at = 0;
};

// `email` with ASCII letters in lower case: the key that makes emails unique.
std::string FoldEmail(std::string_view email);

class Users {
  public:
    Outcome Register(const Command& c, uint64_t timestamp);
    Outcome Update(const Command& c, const Caller& caller);
    Outcome CreateSession(const Command& c, DeadlineQueue& deadlines);
    Outcome RevokeSession(const Command& c, const Caller& caller, DeadlineQueue& deadlines);
    // A session's deadline fired.
    void ExpireSession(uint64_t session_number, uint64_t timestamp);

    std::optional<uint64_t> SessionUser(const Hash256& token_hash, uint64_t now) const;
    const User* Find(uint64_t user_id) const;
    bool Exists(uint64_t user_id) const { return user_id != 0 && user_id <= users_.size(); }
    struct Login {
        uint64_t user_id;
        std::string password_hash;
    };
    std::optional<Login> FindLogin(std::string_view email) const;
    uint64_t count() const { return users_.size(); }
    uint64_t session_count() const { return sessions_.size(); }

    static constexpr uint32_t kSectionVersion = 1;
    void Save(std::string* out) const;
    bool Load(std::string_view section, DeadlineQueue& deadlines);
    // Journal v1's users and sessions (the payments domain blob's), read from `r`.
    bool LoadV1Users(BinaryReader& r);
    bool LoadV1Sessions(BinaryReader& r, DeadlineQueue& deadlines);
    Status CheckInvariants() const;
    uint64_t MemoryBytes() const;

  private:
    struct Session {
        uint64_t user_id;
        uint64_t expires_at;
        uint64_t number;  // its deadline's object id: sessions are numbered as they are made
    };
    void Index(uint64_t user_id);
    void AddSession(const Hash256& hash, uint64_t user_id, uint64_t expires_at,
                    DeadlineQueue& deadlines);

    std::vector<User> users_;                                      // user id = index + 1
    std::map<std::string, uint64_t, std::less<>> users_by_email_;  // folded email -> id
    // Emails that an earlier version let differ from another only in case: those users log in
    // with their email exactly as registered (docs/formats/compatibility.md).
    std::map<std::string, uint64_t, std::less<>> users_by_exact_email_;
    std::map<Hash256, Session> sessions_;
    std::map<uint64_t, Hash256> sessions_by_number_;
    uint64_t next_session_number_ = 1;
};

}  // namespace bursar::payments::users
