-- The `zakaz` database the QTickets loader writes to (see docs: qtickets-api.md,
-- "The pipeline around it"). Written for ClickHouse 18.16 (Debian 12's package) and
-- newer. `scripts/clickhouse-local.sh schema` sends each statement as its own HTTP
-- request (18.16 takes one query per request): statements end with `;` at the end of
-- a line, and `--` comment lines are dropped before sending.
--
-- `LowCardinality` is experimental on 18.16: the session needs
-- `allow_experimental_low_cardinality_type=1` (the script passes it in the URL; the
-- local server's default profile also sets it).
--
-- A line starting with `--@with_loaded_at ` is an optional column: with
-- `schema PORT 1` the script strips that prefix and the column is created;
-- otherwise the line stays a comment.

CREATE DATABASE IF NOT EXISTS zakaz;

-- Raw orders as fetched from the API; one row per (order, basket line) version.
-- `_dedup_key` (32 hex chars) identifies the logical row; ReplacingMergeTree keeps the
-- highest `_ver` per sorting key, so the key is `_dedup_key` prefixed by `order_id`
-- (functionally determined by it) to make lookups by order cheap.
CREATE TABLE IF NOT EXISTS zakaz.stg_qtickets_api_orders_raw
(
    order_id String,
    event_id String,
    city LowCardinality(String),
    sale_ts DateTime,
    tickets_sold UInt32,
    revenue Float64,
    currency LowCardinality(String),
    _ver UInt64,
    _dedup_key FixedString(32)
    --@with_loaded_at , _loaded_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(_ver)
ORDER BY (order_id, _dedup_key);

-- Daily sales per event and city; a reload writes a higher `_ver` for the same key.
CREATE TABLE IF NOT EXISTS zakaz.fact_qtickets_sales_daily
(
    sales_date Date,
    event_id String,
    city LowCardinality(String),
    tickets_sold UInt32,
    revenue Float64,
    _ver UInt64
)
ENGINE = ReplacingMergeTree(_ver)
PARTITION BY toYYYYMM(sales_date)
ORDER BY (sales_date, event_id, city);

-- One row per loader run; `status` is ok | error | running.
CREATE TABLE IF NOT EXISTS zakaz.meta_job_runs
(
    job LowCardinality(String),
    run_id UUID,
    started_at DateTime,
    finished_at DateTime,
    status LowCardinality(String),
    rows_processed UInt64,
    message String,
    metrics String
)
ENGINE = MergeTree
ORDER BY (job, started_at);
