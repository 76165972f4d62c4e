//! Prometheus metrics: requests by route and status, latency histogram (actix-web-prom),
//! and the database pool's state read at scrape time.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, Opts, Registry};

use crate::db::Pool;

/// Reports pool size and idle connections whenever `/metrics` is scraped.
struct PoolCollector {
    pool: Pool,
    connections: IntGauge,
    idle: IntGauge,
    max: IntGauge,
}

impl PoolCollector {
    fn new(pool: Pool) -> prometheus::Result<Self> {
        Ok(Self {
            pool,
            connections: IntGauge::with_opts(Opts::new(
                "griddispatch_db_pool_connections",
                "Open database connections in the pool",
            ))?,
            idle: IntGauge::with_opts(Opts::new(
                "griddispatch_db_pool_idle_connections",
                "Idle database connections in the pool",
            ))?,
            max: IntGauge::with_opts(Opts::new(
                "griddispatch_db_pool_max_connections",
                "Configured maximum database connections",
            ))?,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.connections.desc();
        descs.extend(self.idle.desc());
        descs.extend(self.max.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let state = self.pool.state();
        self.connections.set(i64::from(state.connections));
        self.idle.set(i64::from(state.idle_connections));
        self.max.set(i64::from(self.pool.max_size()));
        let mut families = self.connections.collect();
        families.extend(self.idle.collect());
        families.extend(self.max.collect());
        families
    }
}

/// Reports how many photos still wait for their copies (the `photo_jobs` queue) whenever
/// `/metrics` is scraped: a number that keeps growing means the copy workers cannot keep up
/// (or none runs: `photo_copies.workers = 0` on every instance).
struct PhotoCopiesCollector {
    pool: Pool,
    pending: IntGauge,
}

impl Collector for PhotoCopiesCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.pending.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let count = self
            .pool
            .get()
            .ok()
            .and_then(|mut conn| crate::store::photo_jobs::pending_count(&mut conn).ok());
        match count {
            Some(n) => {
                self.pending.set(n);
                self.pending.collect()
            }
            None => Vec::new(),
        }
    }
}

/// Build the metrics middleware (which also serves `/metrics`).
pub fn middleware(pool: Pool) -> anyhow::Result<PrometheusMetrics> {
    let registry = Registry::new();
    registry.register(Box::new(PoolCollector::new(pool.clone())?))?;
    registry.register(Box::new(PhotoCopiesCollector {
        pool,
        pending: IntGauge::with_opts(Opts::new(
            "griddispatch_photo_copies_pending",
            "Photos whose display copy and thumbnail are still to be made",
        ))?,
    }))?;
    PrometheusMetricsBuilder::new("griddispatch")
        .endpoint("/metrics")
        .registry(registry)
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build metrics: {e}"))
}
