//! Statements are run through [`Executor`]'s methods, which return boxed `Send` futures.
//!
//! sqlx's `Query::execute(executor)` (and `fetch_*`) is an `async fn` generic over the
//! executor. An `async fn` of ours that awaits it on a `&mut AnyConnection` is not provably
//! `Send` (rustc: "implementation of `Executor` is not general enough"), so none of the
//! [`Store`](crate::Store) futures could be spawned on a multi-threaded runtime or used in an
//! axum handler. `Executor::execute(executor, query)` has no such problem.

use std::future::Future;
use std::pin::Pin;

use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Executor};

type Boxed<'e, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'e>>;

pub(crate) trait Run<'q> {
    /// `Query::execute`, as a boxed `Send` future.
    fn run<'e, E>(self, executor: E) -> Boxed<'e, AnyQueryResult>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>;

    /// `Query::fetch_all`, as a boxed `Send` future.
    fn all<'e, E>(self, executor: E) -> Boxed<'e, Vec<AnyRow>>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>;

    /// `Query::fetch_optional`, as a boxed `Send` future.
    fn optional<'e, E>(self, executor: E) -> Boxed<'e, Option<AnyRow>>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>;
}

impl<'q> Run<'q> for Query<'q, Any, AnyArguments<'q>> {
    fn run<'e, E>(self, executor: E) -> Boxed<'e, AnyQueryResult>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>,
    {
        executor.execute(self)
    }

    fn all<'e, E>(self, executor: E) -> Boxed<'e, Vec<AnyRow>>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>,
    {
        executor.fetch_all(self)
    }

    fn optional<'e, E>(self, executor: E) -> Boxed<'e, Option<AnyRow>>
    where
        'q: 'e,
        E: Executor<'e, Database = Any>,
    {
        executor.fetch_optional(self)
    }
}
