-- Pipeline aggregates: sales velocity, weighted pipeline, forecast summary
-- and forecast quantiles (SPEC §9).  Written in C; each has combine,
-- serialize and deserialize functions so parallel plans (and Citus) can
-- split the work.  The support functions take or return `internal`, so SQL
-- cannot call them directly; they refuse to run outside an aggregate.

CREATE TYPE salesperf.velocity AS (
    opportunities  bigint,
    won            bigint,
    lost           bigint,
    win_rate       double precision,
    avg_deal       numeric,
    avg_cycle_days double precision,
    per_day        double precision,
    per_month      double precision
);
COMMENT ON TYPE salesperf.velocity IS
  'Result of salesperf.sales_velocity_detail: the factors of sales velocity and the velocity itself.';
COMMENT ON COLUMN salesperf.velocity.opportunities IS 'N: every row aggregated.';
COMMENT ON COLUMN salesperf.velocity.won IS 'Rows with closed_at set and won = true.';
COMMENT ON COLUMN salesperf.velocity.lost IS 'Rows with closed_at set and won = false.';
COMMENT ON COLUMN salesperf.velocity.win_rate IS 'won / (won + lost); NULL when no row is closed with a known outcome.';
COMMENT ON COLUMN salesperf.velocity.avg_deal IS 'Exact average amount of won rows (NULL amounts ignored); NULL when there is none.';
COMMENT ON COLUMN salesperf.velocity.avg_cycle_days IS 'Average days from opened_at to closed_at over won rows (NULL opened_at ignored).';
COMMENT ON COLUMN salesperf.velocity.per_day IS 'opportunities * win_rate * avg_deal / avg_cycle_days: currency per day; NULL when a factor is undefined or the cycle is 0.';
COMMENT ON COLUMN salesperf.velocity.per_month IS 'per_day * 365.25 / 12.';

CREATE TYPE salesperf.forecast AS (
    closed             numeric,
    commit             numeric,
    best_case          numeric,
    pipeline           numeric,
    omitted            numeric,
    commit_forecast    numeric,
    best_case_forecast numeric,
    open_pipeline      numeric
);
COMMENT ON TYPE salesperf.forecast IS
  'Result of salesperf.forecast_summary: amounts per forecast category and the cumulative forecast totals.';
COMMENT ON COLUMN salesperf.forecast.closed IS 'Sum of amounts in category closed (0 when none).';
COMMENT ON COLUMN salesperf.forecast.commit IS 'Sum of amounts in category commit (0 when none).';
COMMENT ON COLUMN salesperf.forecast.best_case IS 'Sum of amounts in category best_case (0 when none).';
COMMENT ON COLUMN salesperf.forecast.pipeline IS 'Sum of amounts in category pipeline (0 when none).';
COMMENT ON COLUMN salesperf.forecast.omitted IS 'Sum of amounts in category omitted (0 when none).';
COMMENT ON COLUMN salesperf.forecast.commit_forecast IS 'closed + commit.';
COMMENT ON COLUMN salesperf.forecast.best_case_forecast IS 'closed + commit + best_case.';
COMMENT ON COLUMN salesperf.forecast.open_pipeline IS 'commit + best_case + pipeline.';

-- sales_velocity / sales_velocity_detail --------------------------------

CREATE FUNCTION salesperf.sales_velocity_transfn(internal, timestamptz, timestamptz, numeric, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_transfn(internal, timestamptz, timestamptz, numeric, boolean) IS
  'Transition function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_combinefn(internal, internal) IS
  'Combine function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_velocity_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_serialfn(internal) IS
  'Serialize function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_deserialfn(bytea, internal) IS
  'Deserialize function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_finalfn(internal)
RETURNS double precision
AS 'MODULE_PATHNAME', 'salesperf_velocity_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_finalfn(internal) IS
  'Final function of sales_velocity (internal).';

CREATE FUNCTION salesperf.sales_velocity_detail_finalfn(internal)
RETURNS salesperf.velocity
AS 'MODULE_PATHNAME', 'salesperf_velocity_detail_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_detail_finalfn(internal) IS
  'Final function of sales_velocity_detail (internal).';

CREATE AGGREGATE salesperf.sales_velocity(opened_at timestamptz, closed_at timestamptz,
                                          amount numeric, won boolean) (
    SFUNC = salesperf.sales_velocity_transfn,
    STYPE = internal,
    SSPACE = 160,
    FINALFUNC = salesperf.sales_velocity_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.sales_velocity_combinefn,
    SERIALFUNC = salesperf.sales_velocity_serialfn,
    DESERIALFUNC = salesperf.sales_velocity_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.sales_velocity(timestamptz, timestamptz, numeric, boolean) IS
  'Sales velocity in currency per day: N * win_rate * avg won amount / avg cycle days. NULL when a factor is undefined or the cycle is 0.';

CREATE AGGREGATE salesperf.sales_velocity_detail(opened_at timestamptz, closed_at timestamptz,
                                                 amount numeric, won boolean) (
    SFUNC = salesperf.sales_velocity_transfn,
    STYPE = internal,
    SSPACE = 160,
    FINALFUNC = salesperf.sales_velocity_detail_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.sales_velocity_combinefn,
    SERIALFUNC = salesperf.sales_velocity_serialfn,
    DESERIALFUNC = salesperf.sales_velocity_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.sales_velocity_detail(timestamptz, timestamptz, numeric, boolean) IS
  'Sales velocity with its factors, as salesperf.velocity.';

-- weighted_pipeline and forecast_summary ---------------------------------

CREATE FUNCTION salesperf.weighted_pipeline_transfn(internal, numeric, numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_transfn(internal, numeric, numeric) IS
  'Transition function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.pipeline_sums_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_sums_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.pipeline_sums_combinefn(internal, internal) IS
  'Combine function of weighted_pipeline and forecast_summary (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_serialfn(internal) IS
  'Serialize function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_deserialfn(bytea, internal) IS
  'Deserialize function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_finalfn(internal)
RETURNS numeric
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_finalfn(internal) IS
  'Final function of weighted_pipeline (internal).';

CREATE AGGREGATE salesperf.weighted_pipeline(amount numeric, probability numeric) (
    SFUNC = salesperf.weighted_pipeline_transfn,
    STYPE = internal,
    SSPACE = 96,
    FINALFUNC = salesperf.weighted_pipeline_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.pipeline_sums_combinefn,
    SERIALFUNC = salesperf.weighted_pipeline_serialfn,
    DESERIALFUNC = salesperf.weighted_pipeline_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.weighted_pipeline(numeric, numeric) IS
  'Exact sum of amount * probability (probability 0 to 1, amount finite and not negative); NULL when no row has both.';

CREATE FUNCTION salesperf.forecast_summary_transfn(internal, numeric, text)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_transfn(internal, numeric, text) IS
  'Transition function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_serialfn(internal) IS
  'Serialize function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_deserialfn(bytea, internal) IS
  'Deserialize function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_finalfn(internal)
RETURNS salesperf.forecast
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_finalfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_finalfn(internal) IS
  'Final function of forecast_summary (internal).';

CREATE AGGREGATE salesperf.forecast_summary(amount numeric, category text) (
    SFUNC = salesperf.forecast_summary_transfn,
    STYPE = internal,
    SSPACE = 400,
    FINALFUNC = salesperf.forecast_summary_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.pipeline_sums_combinefn,
    SERIALFUNC = salesperf.forecast_summary_serialfn,
    DESERIALFUNC = salesperf.forecast_summary_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_summary(numeric, text) IS
  'Exact amounts per forecast category (closed, commit, best_case, pipeline, omitted) and the cumulative forecast totals; NULL only when there are no rows.';

-- forecast_quantiles ------------------------------------------------------

CREATE FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision,
                                                     double precision, double precision[])
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision, double precision, double precision[]) IS
  'Transition function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision,
                                                     double precision)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision, double precision) IS
  'Transition function of forecast_quantiles with the default quantiles 0.1, 0.5, 0.9 (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_combinefn(internal, internal) IS
  'Combine function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_serialfn(internal) IS
  'Serialize function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_deserialfn(bytea, internal) IS
  'Deserialize function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_finalfn(internal)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_finalfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_finalfn(internal) IS
  'Final function of forecast_quantiles (internal).';

CREATE AGGREGATE salesperf.forecast_quantiles(deal_key text, amount double precision,
                                              probability double precision,
                                              quantiles double precision[]) (
    SFUNC = salesperf.forecast_quantiles_transfn,
    STYPE = internal,
    SSPACE = 140000,
    FINALFUNC = salesperf.forecast_quantiles_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.forecast_quantiles_combinefn,
    SERIALFUNC = salesperf.forecast_quantiles_serialfn,
    DESERIALFUNC = salesperf.forecast_quantiles_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_quantiles(text, double precision, double precision, double precision[]) IS
  'Quantiles of the total won when each deal closes independently with its probability: exact up to 16 deals, else 16384 Monte Carlo trials keyed by deal_key, so the same rows give the same answer for any plan, row order or parallelism. Rows sharing a deal_key win and lose together. About 140 kB of state per group.';

-- CREATE AGGREGATE takes no argument defaults: this overload is the
-- default quantiles '{0.1,0.5,0.9}' (P10, P50, P90).
CREATE AGGREGATE salesperf.forecast_quantiles(deal_key text, amount double precision,
                                              probability double precision) (
    SFUNC = salesperf.forecast_quantiles_transfn,
    STYPE = internal,
    SSPACE = 140000,
    FINALFUNC = salesperf.forecast_quantiles_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.forecast_quantiles_combinefn,
    SERIALFUNC = salesperf.forecast_quantiles_serialfn,
    DESERIALFUNC = salesperf.forecast_quantiles_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_quantiles(text, double precision, double precision) IS
  'forecast_quantiles with the default quantiles 0.1, 0.5, 0.9 (P10, P50, P90).';
