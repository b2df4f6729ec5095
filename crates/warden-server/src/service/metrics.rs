//! What the server counts for `GET /metrics` (Prometheus text format, through the Prometheus
//! project's `prometheus-client`): requests by route and status, check decisions, writes and
//! their batches, other replicas' commits caught up with, and, computed at each scrape, the
//! organizations served, their snapshots' sizes and the outbox backlog.
//!
//! No label carries tenant data: routes are path templates (`/v1/groups/{group}`), and
//! per-organization figures are summed.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::{Service, ServiceError};

/// A request's route template, method and status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// A check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: &'static str,
}

/// Seconds, from 100 µs to about 6.5 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 17))
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The server's metrics. Cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub request_seconds: LatencyFamily,
    pub check_decisions: Family<DecisionLabels, Counter>,
    pub(super) writes: Counter,
    pub(super) write_transactions: Counter,
    pub(super) write_seconds: Histogram,
    pub(super) write_queue_depth: Gauge,
    pub(super) catch_ups: Counter,
    pub(super) polls: Counter,
    pub(super) sync_lag_seconds: Histogram,
    organizations: Gauge,
    revisions: Gauge,
    principals: Gauge,
    tokens: Gauge,
    rules: Gauge,
    outbox_backlog: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("warden");
        let requests = Family::<RouteLabels, Counter>::default();
        let request_seconds: LatencyFamily = Family::new_with_constructor(latency);
        let check_decisions = Family::<DecisionLabels, Counter>::default();
        let metrics = Metrics {
            requests,
            request_seconds,
            check_decisions,
            writes: Counter::default(),
            write_transactions: Counter::default(),
            write_seconds: latency(),
            write_queue_depth: Gauge::default(),
            catch_ups: Counter::default(),
            polls: Counter::default(),
            sync_lag_seconds: latency(),
            organizations: Gauge::default(),
            revisions: Gauge::default(),
            principals: Gauge::default(),
            tokens: Gauge::default(),
            rules: Gauge::default(),
            outbox_backlog: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "check_decisions",
            "Authorization checks answered through the API, by decision",
            metrics.check_decisions.clone(),
        );
        registry.register(
            "writes",
            "Writes committed (each its own revision)",
            metrics.writes.clone(),
        );
        registry.register(
            "write_transactions",
            "Transactions that committed writes (group commit: several writes each)",
            metrics.write_transactions.clone(),
        );
        registry.register(
            "write_batch_duration_seconds",
            "Time to run and commit one batch of writes",
            metrics.write_seconds.clone(),
        );
        registry.register(
            "write_queue_depth",
            "Writes waiting for their organization's write lock",
            metrics.write_queue_depth.clone(),
        );
        registry.register(
            "sync_catch_ups",
            "Organizations brought up to date with another server's commits",
            metrics.catch_ups.clone(),
        );
        registry.register(
            "sync_polls",
            "Comparisons of every organization's revision with the store (polling fallback)",
            metrics.polls.clone(),
        );
        registry.register(
            "sync_lag_seconds",
            "From another server's commit to its snapshot being served here",
            metrics.sync_lag_seconds.clone(),
        );
        registry.register(
            "organizations",
            "Organizations served",
            metrics.organizations.clone(),
        );
        registry.register(
            "snapshot_revisions",
            "Sum of the served snapshots' revisions",
            metrics.revisions.clone(),
        );
        registry.register(
            "snapshot_principals",
            "Users and service accounts in the served snapshots",
            metrics.principals.clone(),
        );
        registry.register(
            "snapshot_tokens",
            "API tokens in the served snapshots",
            metrics.tokens.clone(),
        );
        registry.register(
            "snapshot_rules",
            "Access policy rules in the served snapshots",
            metrics.rules.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Side effects (emails) waiting for delivery",
            metrics.outbox_backlog.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// Writes committed since the server started (each its own revision).
    pub fn writes(&self) -> u64 {
        self.writes.get()
    }

    /// Transactions that committed writes; `writes / transactions` is the mean batch.
    pub fn transactions(&self) -> u64 {
        self.write_transactions.get()
    }

    /// Organizations brought up to date with another server's commits.
    pub fn caught_up(&self) -> u64 {
        self.catch_ups.get()
    }

    /// Comparisons of every organization's revision with the store's (polling fallback).
    pub fn polls(&self) -> u64 {
        self.polls.get()
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Service {
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every metric in the Prometheus text format (version 0.0.4), the figures that are
    /// computed rather than counted brought up to date first.
    pub async fn render_metrics(&self) -> Result<String, ServiceError> {
        let m = &self.metrics;
        let (mut revisions, mut principals, mut tokens, mut rules) = (0u64, 0, 0, 0);
        let orgs = self.orgs.load();
        for entry in orgs.values() {
            let compiled = entry.compiled.load();
            let state = compiled.state();
            revisions = revisions.saturating_add(state.revision);
            principals += state.users.len() + state.service_accounts.len();
            tokens += state.tokens.len();
            rules += state
                .policies
                .values()
                .map(|p| p.rules.len())
                .sum::<usize>();
        }
        m.organizations.set(gauge_value(orgs.len()));
        m.revisions
            .set(i64::try_from(revisions).unwrap_or(i64::MAX));
        m.principals.set(gauge_value(principals));
        m.tokens.set(gauge_value(tokens));
        m.rules.set(gauge_value(rules));
        let depth: usize = orgs
            .values()
            .map(|e| e.queue.lock().map_or(0, |q| q.len()))
            .sum();
        m.write_queue_depth.set(gauge_value(depth));
        let backlog = self.store.outbox_backlog().await?;
        m.outbox_backlog
            .set(i64::try_from(backlog).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &m.registry)
            .map_err(|e| ServiceError::Internal(format!("cannot encode the metrics: {e}")))?;
        Ok(text)
    }
}
