// The users' endpoints: register, login, logout, read and update a user.

#include "api/auth.h"
#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddUserRoutes(Router& router) {
    router.Add("POST", "/v1/users/register", Bind(&PlatformApi::Register));
    router.Add("POST", "/v1/users/login", Bind(&PlatformApi::Login));
    router.Add("POST", "/v1/users/logout", Bind(&PlatformApi::Logout));
    router.Add("GET", "/v1/users/{id}", Bind(&PlatformApi::GetUser));
    router.Add("PUT", "/v1/users/{id}", Bind(&PlatformApi::UpdateUser));
}

void PlatformApi::Register(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kRegisterBody);
    if (!fields) return responder(FromApiError(fields.error()));
    Command command;
    command.type = CommandType::kRegisterUser;
    command.email = *fields->String("email");
    if (!ValidEmail(command.email)) {
        return responder(FromError(ErrorCode::kInvalidRequest, "Not an email address.", "email"));
    }
    command.name = *fields->String("name");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (!call) return;
    const std::string password = *fields->String("password");
    // argon2 takes tens of milliseconds: on the worker pool, not on an io thread.
    bool posted = workers_.Post([this, call, command, password]() mutable {
        command.password_hash = HashPassword(password);
        Submit(call, std::move(command));
    });
    if (!posted) Finish(call, EngineRefusal(Status(StatusCode::kBusy, "workers")));
}

void PlatformApi::Login(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kLoginBody);
    if (!fields) return responder(FromApiError(fields.error()));
    Command command;
    command.type = CommandType::kCreateSession;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (!call) return;
    // Read the stored hash through the engine, verify on a worker, then create the session.
    auto login = std::make_shared<std::optional<payments::users::Users::Login>>();
    auto* lookup = new engine::Request;
    lookup->operation = engine::Operation::kQuery;
    lookup->query = [login, email = *fields->String("email")](const payments::Platform& p) {
        *login = p.users().FindLogin(email);
    };
    const std::string password = *fields->String("password");
    lookup->done = [this, call, login, command, password](engine::Request& r) mutable {
        std::unique_ptr<engine::Request> owned(&r);
        if (!r.status.ok()) return Finish(call, EngineRefusal(r.status));
        bool posted = workers_.Post([this, call, login, command, password]() mutable {
            // The same answer whether the email or the password is wrong.
            if (!*login || !VerifyPassword((*login)->password_hash, password)) {
                return Finish(
                    call, FromError(ErrorCode::kUnauthenticated, "Email or password is wrong."));
            }
            command.user_id = (*login)->user_id;
            std::string token = RandomSecret(kSessionPrefix);
            command.secret_hash = HashSecret(token);
            command.expires_at = clock_.RealtimeNs() + options_.session_ttl_ns;
            Submit(call, std::move(command), std::move(token));
        });
        if (!posted) Finish(call, EngineRefusal(Status(StatusCode::kBusy, "workers")));
    };
    Status status = engine_.Submit(lookup);
    if (!status.ok()) {
        delete lookup;
        Finish(call, EngineRefusal(status));
    }
}

void PlatformApi::Logout(HttpRequest&& request, const PathParams&, Responder responder) {
    Command command;
    command.type = CommandType::kRevokeSession;
    auto call = Begin(request, nullptr, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetUser(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (!payments::MayActForUser(*caller, id)) return FromError(ErrorCode::kForbidden);
            const payments::users::User* user = p.users().Find(id);
            if (user == nullptr) return FromError(ErrorCode::kNotFound, "No such user.");
            return Json(200, UserJson(id, *user));
        },
        std::move(responder));
}

void PlatformApi::UpdateUser(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kUpdateUserBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kUpdateUser;
    command.user_id = *id;
    command.name = *fields->String("name");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

}  // namespace bursar::api
