//! Reading: organizations are loaded one table at a time (one query per table, whether for
//! one organization or all of them) and the rows distributed by `org_id`.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::AnyPool;
use sqlx::{AnyConnection, Row};
use warden_core::*;

use crate::exec::Run;
use crate::StoreError;

/// A `SELECT` over one table, restricted to one organization or not.
struct Select {
    /// `SELECT ... FROM ...`
    from: &'static str,
    /// The column naming the organization.
    org_column: &'static str,
    order_by: &'static str,
}

impl Select {
    fn sql(&self, one_org: bool) -> String {
        let Select {
            from,
            org_column,
            order_by,
        } = self;
        if one_org {
            format!("{from} WHERE {org_column} = $1 ORDER BY {order_by}")
        } else {
            format!("{from} ORDER BY {order_by}")
        }
    }

    async fn rows(
        &self,
        conn: &mut AnyConnection,
        org: Option<&OrgId>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let sql = self.sql(org.is_some());
        let mut query = sqlx::query(&sql);
        if let Some(org) = org {
            query = query.bind(org.as_str());
        }
        Ok(query.all(&mut *conn).await?)
    }
}

const ORGANIZATIONS: Select = Select {
    from: "SELECT id, name, default_admin, revision, created_at FROM organizations",
    org_column: "id",
    order_by: "id",
};
const USERS: Select = Select {
    from: "SELECT org_id, id, email, first_name, last_name, status, created_at FROM users",
    org_column: "org_id",
    order_by: "id",
};
const SERVICE_ACCOUNTS: Select = Select {
    from: "SELECT org_id, id, name, created_by, active, system_managed, created_at \
           FROM service_accounts",
    org_column: "org_id",
    order_by: "id",
};
const GROUPS: Select = Select {
    from: "SELECT org_id, id, name, description, legacy, created_at FROM groups",
    org_column: "org_id",
    order_by: "id",
};
const MEMBERSHIPS: Select = Select {
    from: "SELECT org_id, group_id, user_id FROM memberships",
    org_column: "org_id",
    order_by: "group_id, user_id",
};
const POLICIES: Select = Select {
    from: "SELECT org_id, id, name, description, legacy_group, created_at, updated_at \
           FROM policies",
    org_column: "org_id",
    order_by: "id",
};
const POLICY_RULES: Select = Select {
    from: "SELECT p.org_id AS org_id, r.policy_id AS policy_id, r.position AS position, \
           r.principal_kind AS principal_kind, r.principal_id AS principal_id, r.roles AS roles \
           FROM policy_rules r JOIN policies p ON p.id = r.policy_id",
    org_column: "p.org_id",
    order_by: "r.policy_id, r.position",
};
const NAMESPACES: Select = Select {
    from: "SELECT org_id, id, name, created_at FROM namespaces",
    org_column: "org_id",
    order_by: "id",
};
const NAMESPACE_GRANTS: Select = Select {
    from: "SELECT org_id, namespace_id, user_id, key FROM namespace_grants",
    org_column: "org_id",
    order_by: "namespace_id, user_id, key",
};
const CLUSTERS: Select = Select {
    from: "SELECT org_id, id, name, api_server_url, ca_bundle, created_at FROM clusters",
    org_column: "org_id",
    order_by: "id",
};
const TOKENS: Select = Select {
    from: "SELECT org_id, id, kind, user_id, name, note, secret_hash, display_prefix, \
           created_by, created_at, expires_at FROM api_tokens",
    org_column: "org_id",
    order_by: "id",
};

const ORG_REVISION: &str = "SELECT revision FROM organizations WHERE id = $1";
const ORG_REVISIONS: &str = "SELECT id, revision FROM organizations ORDER BY id";
const TOKEN_ORG: &str = "SELECT org_id FROM api_tokens WHERE secret_hash = $1";
const TOKEN_LAST_USED: &str = "SELECT id, last_used_at FROM api_tokens \
     WHERE org_id = $1 AND last_used_at IS NOT NULL ORDER BY id";
const AUDIT_COLUMNS: &str = "SELECT id, org_id, at, actor, action, target, outcome, error_code, \
     revision, request_id, changes FROM audit_events";

fn text(row: &AnyRow, column: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(column)?)
}

fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

fn int(row: &AnyRow, column: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(column)?)
}

fn time(row: &AnyRow, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp(int(row, column)?))
}

fn opt_time(row: &AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp))
}

fn unsigned(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let value = int(row, column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {column}: {value}")))
}

/// A BIGINT 0/1 flag.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match int(row, column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(StoreError::Corrupt(format!(
            "{column} must be 0 or 1, found {other}"
        ))),
    }
}

/// The state of the organization a row belongs to.
fn owner<'a>(
    states: &'a mut BTreeMap<OrgId, OrgState>,
    row: &AnyRow,
    table: &str,
) -> Result<&'a mut OrgState, StoreError> {
    let org = OrgId(text(row, "org_id")?);
    match states.get_mut(&org) {
        Some(state) => Ok(state),
        None => Err(StoreError::Corrupt(format!(
            "a row of {table} names organization `{org}`, which does not exist"
        ))),
    }
}

fn principal(kind: &str, id: String) -> Result<PrincipalRef, StoreError> {
    match kind {
        "user" => Ok(PrincipalRef::User(UserId(id))),
        "group" => Ok(PrincipalRef::Group(GroupId(id))),
        "service_account" => Ok(PrincipalRef::ServiceAccount(ServiceAccountId(id))),
        other => Err(StoreError::Corrupt(format!(
            "unknown principal kind `{other}`"
        ))),
    }
}

/// Loads one organization (`Some`) or all of them (`None`), by id.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    org: Option<&OrgId>,
) -> Result<BTreeMap<OrgId, OrgState>, StoreError> {
    let mut states = BTreeMap::new();
    for row in ORGANIZATIONS.rows(conn, org).await? {
        let state = OrgState {
            org: Organization {
                id: OrgId(text(&row, "id")?),
                name: text(&row, "name")?,
                default_admin: UserId(text(&row, "default_admin")?),
                created_at: time(&row, "created_at")?,
            },
            revision: unsigned(&row, "revision")?,
            users: BTreeMap::new(),
            service_accounts: BTreeMap::new(),
            groups: BTreeMap::new(),
            memberships: Default::default(),
            policies: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            namespace_grants: Default::default(),
            clusters: BTreeMap::new(),
            tokens: BTreeMap::new(),
        };
        states.insert(state.org.id.clone(), state);
    }
    if states.is_empty() {
        return Ok(states);
    }

    for row in USERS.rows(conn, org).await? {
        let id = UserId(text(&row, "id")?);
        let status = text(&row, "status")?;
        let user = User {
            email: text(&row, "email")?,
            first_name: text(&row, "first_name")?,
            last_name: text(&row, "last_name")?,
            status: UserStatus::parse(&status).ok_or_else(|| {
                StoreError::Corrupt(format!("user `{id}` has unknown status `{status}`"))
            })?,
            created_at: time(&row, "created_at")?,
            id,
        };
        owner(&mut states, &row, "users")?
            .users
            .insert(user.id.clone(), user);
    }

    for row in SERVICE_ACCOUNTS.rows(conn, org).await? {
        let account = ServiceAccount {
            id: ServiceAccountId(text(&row, "id")?),
            name: text(&row, "name")?,
            created_by: opt_text(&row, "created_by")?.map(UserId),
            active: flag(&row, "active")?,
            system_managed: flag(&row, "system_managed")?,
            created_at: time(&row, "created_at")?,
        };
        owner(&mut states, &row, "service_accounts")?
            .service_accounts
            .insert(account.id.clone(), account);
    }

    for row in GROUPS.rows(conn, org).await? {
        let group = Group {
            id: GroupId(text(&row, "id")?),
            name: text(&row, "name")?,
            description: text(&row, "description")?,
            legacy: flag(&row, "legacy")?,
            created_at: time(&row, "created_at")?,
        };
        owner(&mut states, &row, "groups")?
            .groups
            .insert(group.id.clone(), group);
    }

    for row in MEMBERSHIPS.rows(conn, org).await? {
        let pair = (
            GroupId(text(&row, "group_id")?),
            UserId(text(&row, "user_id")?),
        );
        owner(&mut states, &row, "memberships")?
            .memberships
            .insert(pair);
    }

    for row in POLICIES.rows(conn, org).await? {
        let policy = AccessPolicy {
            id: PolicyId(text(&row, "id")?),
            name: text(&row, "name")?,
            description: text(&row, "description")?,
            legacy_group: opt_text(&row, "legacy_group")?,
            rules: Vec::new(),
            created_at: time(&row, "created_at")?,
            updated_at: time(&row, "updated_at")?,
        };
        owner(&mut states, &row, "policies")?
            .policies
            .insert(policy.id.clone(), policy);
    }

    // Ordered by (policy, position): each rule is appended to its policy, and the positions
    // of a policy must run 0, 1, 2, ... for the order to be the one committed.
    for row in POLICY_RULES.rows(conn, org).await? {
        let policy_id = PolicyId(text(&row, "policy_id")?);
        let position = int(&row, "position")?;
        let roles_json = text(&row, "roles")?;
        let roles: Vec<String> = serde_json::from_str(&roles_json).map_err(|e| {
            StoreError::Corrupt(format!(
                "rule {position} of policy `{policy_id}`: roles are not a JSON array of strings: {e}"
            ))
        })?;
        let rule = Rule {
            principal: principal(&text(&row, "principal_kind")?, text(&row, "principal_id")?)?,
            roles,
        };
        let state = owner(&mut states, &row, "policy_rules")?;
        let policy = state
            .policies
            .get_mut(&policy_id)
            .ok_or_else(|| StoreError::Corrupt(format!("rules of unknown policy `{policy_id}`")))?;
        if usize::try_from(position).ok() != Some(policy.rules.len()) {
            return Err(StoreError::Corrupt(format!(
                "policy `{policy_id}` has rule position {position} where {} was expected",
                policy.rules.len()
            )));
        }
        policy.rules.push(rule);
    }

    for row in NAMESPACES.rows(conn, org).await? {
        let namespace = Namespace {
            id: NamespaceId(text(&row, "id")?),
            name: text(&row, "name")?,
            created_at: time(&row, "created_at")?,
        };
        owner(&mut states, &row, "namespaces")?
            .namespaces
            .insert(namespace.id.clone(), namespace);
    }

    for row in NAMESPACE_GRANTS.rows(conn, org).await? {
        let grant = NamespaceGrant {
            namespace: NamespaceId(text(&row, "namespace_id")?),
            user: UserId(text(&row, "user_id")?),
            key: text(&row, "key")?,
        };
        owner(&mut states, &row, "namespace_grants")?
            .namespace_grants
            .insert(grant);
    }

    for row in CLUSTERS.rows(conn, org).await? {
        let cluster = Cluster {
            id: ClusterId(text(&row, "id")?),
            name: text(&row, "name")?,
            api_server_url: text(&row, "api_server_url")?,
            ca_bundle: text(&row, "ca_bundle")?,
            created_at: time(&row, "created_at")?,
        };
        owner(&mut states, &row, "clusters")?
            .clusters
            .insert(cluster.id.clone(), cluster);
    }

    for row in TOKENS.rows(conn, org).await? {
        let id = TokenId(text(&row, "id")?);
        let kind = text(&row, "kind")?;
        let token = ApiToken {
            kind: TokenKind::parse(&kind).ok_or_else(|| {
                StoreError::Corrupt(format!("token `{id}` has unknown kind `{kind}`"))
            })?,
            user: UserId(text(&row, "user_id")?),
            name: text(&row, "name")?,
            note: text(&row, "note")?,
            secret_hash: text(&row, "secret_hash")?,
            display_prefix: text(&row, "display_prefix")?,
            created_by: UserId(text(&row, "created_by")?),
            created_at: time(&row, "created_at")?,
            expires_at: opt_time(&row, "expires_at")?,
            id,
        };
        owner(&mut states, &row, "api_tokens")?
            .tokens
            .insert(token.id.clone(), token);
    }

    Ok(states)
}

pub(crate) async fn revision(
    conn: &mut AnyConnection,
    org: &OrgId,
) -> Result<Option<u64>, StoreError> {
    sqlx::query(ORG_REVISION)
        .bind(org.as_str())
        .optional(&mut *conn)
        .await?
        .map(|row| unsigned(&row, "revision"))
        .transpose()
}

pub(crate) async fn org_revisions(pool: &AnyPool) -> Result<Vec<(OrgId, u64)>, StoreError> {
    sqlx::query(ORG_REVISIONS)
        .all(pool)
        .await?
        .iter()
        .map(|row| Ok((OrgId(text(row, "id")?), unsigned(row, "revision")?)))
        .collect()
}

pub(crate) async fn org_of_token(
    pool: &AnyPool,
    secret_hash: &str,
) -> Result<Option<OrgId>, StoreError> {
    sqlx::query(TOKEN_ORG)
        .bind(secret_hash)
        .optional(pool)
        .await?
        .map(|row| Ok(OrgId(text(&row, "org_id")?)))
        .transpose()
}

pub(crate) async fn token_last_used(
    pool: &AnyPool,
    org: &OrgId,
) -> Result<Vec<(TokenId, Timestamp)>, StoreError> {
    sqlx::query(TOKEN_LAST_USED)
        .bind(org.as_str())
        .all(pool)
        .await?
        .iter()
        .map(|row| Ok((TokenId(text(row, "id")?), time(row, "last_used_at")?)))
        .collect()
}

pub(crate) async fn list_audit(
    pool: &AnyPool,
    org: &OrgId,
    limit: u32,
    before: Option<(Timestamp, &str)>,
) -> Result<Vec<AuditEvent>, StoreError> {
    let limit = i64::from(limit);
    let rows = match before {
        Some((at, id)) => {
            // Keyset pagination on (at, id), the order of the listing: events sharing a
            // millisecond with the page boundary are neither skipped nor repeated.
            let sql = format!(
                "{AUDIT_COLUMNS} WHERE org_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
                 ORDER BY at DESC, id DESC LIMIT $4"
            );
            sqlx::query(&sql)
                .bind(org.as_str())
                .bind(at.0)
                .bind(id)
                .bind(limit)
                .all(pool)
                .await?
        }
        None => {
            let sql =
                format!("{AUDIT_COLUMNS} WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2");
            sqlx::query(&sql)
                .bind(org.as_str())
                .bind(limit)
                .all(pool)
                .await?
        }
    };
    rows.iter().map(audit_event).collect()
}

fn audit_event(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    let id = text(row, "id")?;
    let changes = serde_json::from_str(&text(row, "changes")?).map_err(|e| {
        StoreError::Corrupt(format!("changes of audit event `{id}` are not JSON: {e}"))
    })?;
    Ok(AuditEvent {
        org_id: OrgId(text(row, "org_id")?),
        at: time(row, "at")?,
        actor: text(row, "actor")?,
        action: text(row, "action")?,
        target: text(row, "target")?,
        outcome: text(row, "outcome")?,
        error_code: opt_text(row, "error_code")?,
        revision: unsigned(row, "revision")?,
        request_id: text(row, "request_id")?,
        changes,
        id,
    })
}
