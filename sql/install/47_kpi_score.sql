-- kpi_score: a weighted, capped attainment score across KPIs (SPEC §6).

CREATE FUNCTION salesperf.kpi_score_trans(internal, numeric, numeric, numeric, numeric)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_trans'
LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_combine'
LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'salesperf_kpi_score_serialize'
LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_deserialize'
LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_final(internal)
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_kpi_score_final'
LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE salesperf.kpi_score(actual numeric, target numeric, weight numeric, cap numeric) (
    SFUNC = salesperf.kpi_score_trans,
    STYPE = internal,
    COMBINEFUNC = salesperf.kpi_score_combine,
    SERIALFUNC = salesperf.kpi_score_serialize,
    DESERIALFUNC = salesperf.kpi_score_deserialize,
    FINALFUNC = salesperf.kpi_score_final,
    FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.kpi_score(numeric, numeric, numeric, numeric) IS
  'Weighted attainment: sum(weight * least(actual / target, cap)) / sum(weight), skipping rows whose target is 0 or NULL. Exact numeric.';

-- The three-argument form uses the default cap of 1.5 (aggregates take no defaults).
CREATE FUNCTION salesperf.kpi_score_trans_default_cap(internal, numeric, numeric, numeric)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_trans_default_cap'
LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE salesperf.kpi_score(actual numeric, target numeric, weight numeric) (
    SFUNC = salesperf.kpi_score_trans_default_cap,
    STYPE = internal,
    COMBINEFUNC = salesperf.kpi_score_combine,
    SERIALFUNC = salesperf.kpi_score_serialize,
    DESERIALFUNC = salesperf.kpi_score_deserialize,
    FINALFUNC = salesperf.kpi_score_final,
    FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.kpi_score(numeric, numeric, numeric) IS
  'kpi_score with the default cap of 1.5 (150% attainment).';
