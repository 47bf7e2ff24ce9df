-- The `zakaz` database the QTickets loader writes to, with the real pipeline's tables
-- and columns (../shared/real-pipeline.md): the bootstrap tables, then the utm
-- migration. Written for ClickHouse 18.16 (Debian 12's package) and newer: no
-- `CREATE OR REPLACE VIEW`, no `MODIFY TTL`, no `ADD COLUMN IF NOT EXISTS`.
-- `scripts/clickhouse-local.sh schema` sends each statement as its own HTTP request
-- (18.16 takes one query per request): statements end with `;` at the end of a line,
-- and `--` comment lines are dropped before sending.
--
-- `LowCardinality` is experimental on 18.16: the session needs
-- `allow_experimental_low_cardinality_type=1` (the script passes it in the URL; the
-- local server's default profile also sets it).
--
-- Markers the script reads:
--   `--@with_loaded_at ` starts an optional column line: with `schema PORT 1` the
--   prefix is stripped and the column is created; otherwise the line stays a comment.
--   `--@migration` on its own line marks the next statement as part of the utm
--   migration, which `scripts/bootstrap_clickhouse.sh` does not apply: with
--   `schema PORT 0 bootstrap` those statements are left out (the real loader then
--   fails with `No such column utm_source`).

CREATE DATABASE IF NOT EXISTS zakaz;

-- Raw orders as fetched from the API, one row per order version. `_dedup_key` (md5 of
-- the order id) identifies the logical row; ReplacingMergeTree keeps the highest `_ver`.
-- No `_loaded_at` in the real pipeline (the optional line below is for tests).
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
PARTITION BY tuple()
ORDER BY (_dedup_key);

-- Events (from GET /events): one row per event, the latest `_ver` wins.
CREATE TABLE IF NOT EXISTS zakaz.dim_events
(
    event_id String,
    event_name String,
    city LowCardinality(String),
    start_date Nullable(Date),
    end_date Nullable(Date),
    tickets_total UInt32 DEFAULT 0,
    tickets_left UInt32 DEFAULT 0,
    _ver UInt64,
    _loaded_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(_ver)
PARTITION BY tuple()
ORDER BY (event_id);

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
ORDER BY (event_id, sales_date, city);

-- The latest seat inventory per event (from GET /events/{id}/seats).
CREATE TABLE IF NOT EXISTS zakaz.fact_qtickets_inventory_latest
(
    snapshot_ts DateTime,
    event_id String,
    event_name String,
    city LowCardinality(String),
    tickets_total Nullable(UInt32),
    tickets_left Nullable(UInt32),
    _ver UInt64
)
ENGINE = ReplacingMergeTree(_ver)
PARTITION BY tuple()
ORDER BY (event_id, city);

-- One row per loader run; `status` is ok | error. The real loader leaves `run_id`
-- empty (all zeros) and puts its counters and window in `metrics` (JSON).
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

-- The utm migration: utm columns and the raw payload on the staging table, and the
-- utm-aware daily fact.
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN utm_source LowCardinality(String) AFTER city;
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN utm_medium LowCardinality(String) AFTER utm_source;
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN utm_campaign String AFTER utm_medium;
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN utm_content String AFTER utm_campaign;
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN utm_term String AFTER utm_content;
--@migration
ALTER TABLE zakaz.stg_qtickets_api_orders_raw ADD COLUMN payload_json String AFTER currency;
--@migration
CREATE TABLE IF NOT EXISTS zakaz.fact_qtickets_sales_utm_daily
(
    sales_date Date,
    event_id String,
    city LowCardinality(String),
    utm_source LowCardinality(String),
    utm_medium LowCardinality(String),
    utm_campaign String,
    utm_content String,
    utm_term String,
    tickets_sold UInt32,
    revenue Float64,
    _ver UInt64
)
ENGINE = ReplacingMergeTree(_ver)
PARTITION BY toYYYYMM(sales_date)
ORDER BY (sales_date, event_id, city, utm_source, utm_campaign, utm_medium, utm_content, utm_term);
