//! `kill -9` under concurrent write load: every write the server acknowledged is there after
//! a restart, five rounds on each backend (group commit acknowledges a write only after the
//! transaction that carries it has committed).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warden_client::model::GroupInput;
use warden_client::Client;

use crate::common::Server;

const ROUNDS: usize = 5;
const WRITERS: usize = 16;

/// Five rounds of: start the server, write from sixteen clients, SIGKILL it mid-load, start
/// it again and look for every acknowledged write.
async fn rounds(location: Vec<String>) {
    let location: Vec<&str> = location.iter().map(String::as_str).collect();
    let mut token = None;
    let mut acknowledged_total = 0;
    for round in 0..ROUNDS {
        let server = Server::start_in(tempfile::tempdir().unwrap(), &location);
        let token: String = token
            .get_or_insert_with(|| {
                crate::common::create_org(&server, "ada@example.com")["token"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .clone();
        let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let client = Client::new(&server.url, Some(token.clone())).unwrap();
            let acknowledged = acknowledged.clone();
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("r{round}-w{w}-{i}");
                    let input = GroupInput {
                        name: name.clone(),
                        description: String::new(),
                    };
                    // The first failure is the kill: the connection is gone.
                    if client.create_group(&input).await.is_err() {
                        return;
                    }
                    acknowledged.lock().unwrap().insert(name);
                }
            }));
        }
        // Vary the moment of the kill from round to round.
        let load = Duration::from_millis(300 + 170 * round as u64);
        tokio::time::sleep(load).await;
        let logs = server.kill9();
        for writer in writers {
            tokio::time::timeout(Duration::from_secs(30), writer)
                .await
                .expect("a writer still waiting 30 s after the kill")
                .unwrap();
        }
        drop(logs);
        let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
        assert!(
            acknowledged.len() >= WRITERS,
            "round {round}: only {} writes acknowledged before the kill",
            acknowledged.len()
        );
        let server = Server::start_in(tempfile::tempdir().unwrap(), &location);
        let client = Client::new(&server.url, Some(token.clone())).unwrap();
        let stored: BTreeSet<String> = client
            .groups()
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|g| g.name)
            .collect();
        let lost: Vec<&String> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} acknowledged writes lost after kill -9: {lost:?}",
            lost.len(),
            acknowledged.len()
        );
        acknowledged_total += acknowledged.len();
        drop(server);
    }
    eprintln!("{acknowledged_total} acknowledged writes over {ROUNDS} kills, none lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    rounds(vec!["--data-dir".into(), data.to_str().unwrap().into()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    warden_testing::with_postgres(|url| async move {
        rounds(vec!["--database-url".into(), url]).await;
    })
    .await;
}
