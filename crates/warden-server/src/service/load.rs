//! Start-up: filling the service with every organization.
//!
//! [`Service::open`] loads everything before it returns: ranges of organization ids read on
//! several connections at once, compiled on the blocking pool, published one range at a time
//! (one copy of the organization map per range, not per organization).
//!
//! [`Service::open_lazily`] (what `warden serve` uses) returns once it knows every
//! organization's id and every token's hash, and loads the organizations in the background the
//! same way. Until then a request for an organization not loaded yet loads that one
//! organization on demand and waits for it; a made-up token is still refused from memory.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::task::JoinSet;
use warden_core::{Catalog, OrgId, OrgState};
use warden_store::Store;

use super::compiled::from_hex32;
use super::context::now;
use super::{CompiledOrg, Service, ServiceError, Settings};

/// Organizations per load query.
const LOAD_CHUNK: usize = 250;
/// Load queries in flight at once.
const LOAD_PARALLELISM: usize = 4;

impl Service {
    /// Loads every organization from the store and compiles its snapshot, then returns.
    pub async fn open(
        store: Store,
        catalog: Arc<Catalog>,
        settings: Settings,
    ) -> Result<Arc<Service>, ServiceError> {
        let service = Service::new(store, catalog, settings);
        service.load_everything().await?;
        Ok(service)
    }

    /// Returns as soon as the service can tell which organizations and tokens exist, and
    /// loads the organizations in the background (on demand first, for those asked for).
    pub async fn open_lazily(
        store: Store,
        catalog: Arc<Catalog>,
        settings: Settings,
    ) -> Result<Arc<Service>, ServiceError> {
        let service = Service::new(store, catalog, settings);
        let index = service.store.token_index().await?;
        if let Ok(mut tokens) = service.token_orgs.write() {
            for (hex, org) in index {
                if let Some(hash) = from_hex32(&hex) {
                    tokens.insert(hash, org);
                }
            }
        }
        service.warming_up.store(true, Ordering::SeqCst);
        let loader = Arc::clone(&service);
        tokio::spawn(async move {
            loop {
                match loader.load_everything().await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "loading the organizations failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
            loader.warming_up.store(false, Ordering::SeqCst);
            tracing::info!(
                organizations = loader.orgs.load().len(),
                "every organization is loaded"
            );
            // Commits made while loading that no notification covered.
            if let Err(e) = loader.sync_from_store().await {
                tracing::warn!(error = %e, "sync from store failed");
            }
        });
        Ok(service)
    }

    /// Whether every organization is loaded (`false` while a lazy open is still loading).
    pub fn is_loaded(&self) -> bool {
        !self.warming_up.load(Ordering::SeqCst)
    }

    /// The organization as served, loading it first if a lazy start has not reached it yet
    /// (`None`: no such organization).
    pub async fn organization(
        &self,
        org: &OrgId,
    ) -> Result<Option<Arc<CompiledOrg>>, ServiceError> {
        match self.compiled(org) {
            Some(compiled) => Ok(Some(compiled)),
            None => self.load_on_demand(org).await,
        }
    }

    /// While warming up: loads `org` now, for a caller that cannot wait for the background.
    pub(crate) async fn load_on_demand(
        &self,
        org: &OrgId,
    ) -> Result<Option<Arc<CompiledOrg>>, ServiceError> {
        if self.is_loaded() {
            return Ok(None);
        }
        self.reload(org).await
    }

    /// Loads every organization in ranges of ids, several ranges at once.
    async fn load_everything(self: &Arc<Self>) -> Result<(), ServiceError> {
        let ids: Vec<OrgId> = self
            .store
            .org_revisions()
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut ranges: Vec<(OrgId, OrgId)> = ids
            .chunks(LOAD_CHUNK)
            .filter_map(|chunk| Some((chunk.first()?.clone(), chunk.last()?.clone())))
            .collect();
        ranges.reverse();
        let mut loads = JoinSet::new();
        loop {
            while loads.len() < LOAD_PARALLELISM {
                let Some((first, last)) = ranges.pop() else {
                    break;
                };
                let service = Arc::clone(self);
                loads.spawn(async move { service.load_range(&first, &last).await });
            }
            match loads.join_next().await {
                Some(Ok(result)) => result?,
                Some(Err(e)) => return Err(ServiceError::Internal(format!("a load failed: {e}"))),
                None => return Ok(()),
            }
        }
    }

    /// Loads, compiles and publishes the organizations from `first` to `last`.
    async fn load_range(&self, first: &OrgId, last: &OrgId) -> Result<(), ServiceError> {
        let states = self.store.load_range(first, last).await?;
        let catalog = Arc::clone(&self.catalog);
        let compiled = tokio::task::spawn_blocking(move || {
            let now = now();
            states
                .into_iter()
                // Loaded in id order, the state's B-trees are half empty: packed, they
                // take about a fifth less memory (`warden_core::packed`).
                .map(|state: OrgState| {
                    CompiledOrg::compile(catalog.clone(), Arc::new(state.packed()), now)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("compiling failed: {e}")))?;
        self.install_many(compiled);
        Ok(())
    }
}
