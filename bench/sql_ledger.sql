-- The ledger a team would write without Bursar (bench/baseline-postgres.sh): balances in rows,
-- one transaction per payment with row locks, an idempotency-key table, synchronous commit.
-- Same workload as bench/http.sh: 10 000 funded users, 100 merchants, business tier fee 0.6 %.
CREATE TABLE wallets (user_id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE merchants (merchant_id int PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE platform (id int PRIMARY KEY, fees bigint NOT NULL);
CREATE TABLE entries (
    id bigserial PRIMARY KEY,
    user_id int NOT NULL,
    merchant_id int NOT NULL,
    amount bigint NOT NULL,
    fee bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE idempotency_keys (key text PRIMARY KEY, entry_id bigint, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO wallets SELECT g, 100000000 FROM generate_series(1, 10000) g;
INSERT INTO merchants SELECT g, 0 FROM generate_series(1, 100) g;
INSERT INTO platform VALUES (1, 0);

CREATE FUNCTION pay(p_key text, p_user int, p_merchant int, p_amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_fee bigint := (p_amount * 60 + 5000) / 10000;  -- 0.6 %, half up, as Bursar
    v_entry bigint;
BEGIN
    INSERT INTO idempotency_keys (key) VALUES (p_key);  -- a reused key fails here
    UPDATE wallets SET balance = balance - p_amount WHERE user_id = p_user;  -- CHECK: no overdraft
    UPDATE merchants SET balance = balance + p_amount - v_fee WHERE merchant_id = p_merchant;
    UPDATE platform SET fees = fees + v_fee WHERE id = 1;
    INSERT INTO entries (user_id, merchant_id, amount, fee)
        VALUES (p_user, p_merchant, p_amount, v_fee) RETURNING id INTO v_entry;
    UPDATE idempotency_keys SET entry_id = v_entry WHERE key = p_key;
    RETURN v_entry;
END $$;
