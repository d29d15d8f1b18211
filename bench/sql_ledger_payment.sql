\set user random(1, 10000)
\set merchant random(1, 100)
\set amount random(1, 1000)
SELECT pay(md5(random()::text || clock_timestamp()::text || :client_id), :user, :merchant, :amount);
