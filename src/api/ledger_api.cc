// The ledger's endpoints: the transactions list (from the read model) and one transaction.

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::ErrorCode;

void PlatformApi::AddLedgerRoutes(Router& router) {
    router.Add("GET", "/v1/ledger/transactions", Bind(&PlatformApi::ListTransactions));
    router.Add("GET", "/v1/ledger/transactions/{id}", Bind(&PlatformApi::GetTransaction));
}

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
    if (auto invalid = ParsePage(request, &filter.size, &filter.before_txn_id)) {
        return Refuse(request, std::move(*invalid), std::move(responder));
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
        OnReadModel(
            seq,
            [this, shared_filter](projection::ReadModel& model, const Responder& answer) {
                bool more = false;
                auto rows = model.List(*shared_filter, &more);
                if (!rows) return answer(FromError(ErrorCode::kInternal));
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
                            [shared_rows, more, answer](const Status& status, Names names) {
                                if (!status.ok()) return answer(EngineRefusal(status));
                                answer(Json(200, TransactionPageJson(*shared_rows, more, names)));
                            });
            },
            responder);
    });
}

}  // namespace bursar::api
