// The ledger's endpoints: the transactions list (from the read model) and one transaction.

#include <unordered_map>

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::ErrorCode;

void PlatformApi::AddLedgerRoutes(Router& router) {
    router.Add("GET", "/v1/ledger/transactions", Bind(&PlatformApi::ListTransactions));
    router.Add("GET", "/v1/ledger/transactions/{id}", Bind(&PlatformApi::GetTransaction));
}

namespace {

// `id`'s name, or null when `id` is 0 (none) or unknown.
void WriteName(JsonWriter& json, const std::unordered_map<uint64_t, std::string>& names,
               uint64_t id) {
    const auto found = names.find(id);
    if (id == 0 || found == names.end()) {
        json.Null();
    } else {
        json.String(found->second);
    }
}

// A page of GET /v1/ledger/transactions: the rows of the read model with the names the engine
// holds now.
std::string TransactionPageJson(const std::vector<projection::TransactionRow>& rows, bool more,
                                const PlatformApi::Names& names) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const projection::TransactionRow& row : rows) {
        json.BeginObject();
        json.Key("txn_id").String(payments::FormatTxnId(row.txn_id));
        json.Key("type").String(row.type);
        json.Key("status").String(row.status);
        json.Key("amount_minor").Number(row.amount_minor);
        json.Key("fee_minor").Number(row.fee_minor);
        json.Key("currency").String(row.currency);
        json.Key("user_id").String(payments::FormatUserId(row.user_id));
        json.Key("user_name");
        WriteName(json, names.users, row.user_id);
        json.Key("merchant_id");
        if (row.merchant_id != 0) {
            json.String(payments::FormatMerchantId(row.merchant_id));
        } else {
            json.Null();
        }
        json.Key("merchant_name");
        WriteName(json, names.merchants, row.merchant_id);
        json.Key("to_user_id");
        if (row.to_user_id != 0) {
            json.String(payments::FormatUserId(row.to_user_id));
        } else {
            json.Null();
        }
        json.Key("to_user_name");
        WriteName(json, names.users, row.to_user_id);
        json.Key("created_at").Number(row.created_at_ns / 1'000'000'000);
        json.Key("postings").BeginArray();
        for (const projection::Posting& posting : row.postings) {
            json.BeginObject();
            json.Key("account_id").String(posting.account);
            json.Key("direction").String(posting.direction);
            json.Key("amount_minor").Number(posting.amount_minor);
            json.EndObject();
        }
        json.EndArray().EndObject();
    }
    json.EndArray().Key("nextCursor");
    if (more && !rows.empty()) {
        json.String(payments::FormatTxnId(rows.back().txn_id));
    } else {
        json.Null();
    }
    json.EndObject();
    return json.Take();
}

}  // namespace

void PlatformApi::GetTransaction(HttpRequest&& request, const PathParams& params,
                                 Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("transaction", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::optional<payments::Txn> txn = p.FindTxn(id);
            // Another caller's transaction is answered as missing: existence must not leak.
            if (!txn || !payments::MaySeeTxn(*caller, *txn)) {
                return FromError(ErrorCode::kNotFound, "No such transaction.");
            }
            return Json(200, TransactionJson(*txn));
        },
        std::move(responder));
}

void PlatformApi::ListTransactions(HttpRequest&& request, const PathParams&, Responder responder) {
    projection::ListFilter filter;
    if (auto user = request.QueryParam("user_id"); user && !user->empty()) {
        filter.user_id = payments::ParseUserId(*user);
        if (!filter.user_id) {
            return Refuse(request,
                          FromError(ErrorCode::kInvalidRequest, "Not a user id.", "user_id"),
                          std::move(responder));
        }
    }
    if (auto merchant = request.QueryParam("merchant_id"); merchant && !merchant->empty()) {
        filter.merchant_id = payments::ParseMerchantId(*merchant);
        if (!filter.merchant_id) {
            return Refuse(
                request, FromError(ErrorCode::kInvalidRequest, "Not a merchant id.", "merchant_id"),
                std::move(responder));
        }
    }
    if (auto size = request.QueryParam("size"); size && !size->empty()) {
        auto value = U128FromString(*size);
        if (!value || *value < 1 || *value > projection::kListSizeMax) {
            return Refuse(
                request,
                FromError(ErrorCode::kInvalidRequest, "size must be from 1 to 100.", "size"),
                std::move(responder));
        }
        filter.size = static_cast<uint32_t>(*value);
    }
    if (auto cursor = request.QueryParam("cursor"); cursor && !cursor->empty()) {
        filter.before_txn_id = payments::ParseTxnId(*cursor);
        if (!filter.before_txn_id) {
            return Refuse(request, FromError(ErrorCode::kInvalidRequest, "Not a cursor.", "cursor"),
                          std::move(responder));
        }
    }
    // The caller's position is what was committed when the request arrived: the list waits for
    // the read model to reach it.
    auto shared_filter = std::make_shared<projection::ListFilter>(filter);
    Authenticate(PrincipalOf(request), [this, shared_filter, responder](
                                           const Status& status,
                                           std::optional<payments::Caller> caller, uint64_t seq) {
        if (!status.ok()) return responder(EngineRefusal(status));
        using Kind = payments::Caller::Kind;
        if (!caller || caller->kind == Kind::kAnonymous) {
            return responder(FromError(ErrorCode::kUnauthenticated));
        }
        if (caller->kind == Kind::kUser) {
            if (shared_filter->user_id && *shared_filter->user_id != caller->id) {
                return responder(FromError(ErrorCode::kForbidden));
            }
            shared_filter->user_id = caller->id;
        } else if (caller->kind == Kind::kMerchant) {
            if (shared_filter->merchant_id && *shared_filter->merchant_id != caller->id) {
                return responder(FromError(ErrorCode::kForbidden));
            }
            shared_filter->merchant_id = caller->id;
        }
        bool posted = workers_.Post([this, seq, shared_filter, responder] {
            if (!projector_.WaitFor(seq, options_.read_wait_ms_max)) {
                return responder(FromError(ErrorCode::kUnavailable, "The read model is behind."));
            }
            // One SQLite connection per worker thread.
            thread_local std::unique_ptr<projection::ReadModel> model;
            if (!model) {
                auto opened =
                    projection::ReadModel::Open(projection::ReadModelPath(options_.data_dir));
                if (!opened) return responder(FromError(ErrorCode::kInternal));
                model = std::move(*opened);
            }
            bool more = false;
            auto rows = model->List(*shared_filter, &more);
            if (!rows) return responder(FromError(ErrorCode::kInternal));
            std::vector<uint64_t> user_ids;
            std::vector<uint64_t> merchant_ids;
            for (const projection::TransactionRow& row : *rows) {
                user_ids.push_back(row.user_id);
                if (row.to_user_id != 0) user_ids.push_back(row.to_user_id);
                if (row.merchant_id != 0) merchant_ids.push_back(row.merchant_id);
            }
            auto shared_rows =
                std::make_shared<std::vector<projection::TransactionRow>>(std::move(*rows));
            LookUpNames(std::move(user_ids), std::move(merchant_ids),
                        [shared_rows, more, responder](const Status& status, Names names) {
                            if (!status.ok()) return responder(EngineRefusal(status));
                            responder(Json(200, TransactionPageJson(*shared_rows, more, names)));
                        });
        });
        if (!posted) responder(EngineRefusal(Status(StatusCode::kBusy, "workers")));
    });
}

}  // namespace bursar::api
