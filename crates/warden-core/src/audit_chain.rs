//! The audit log as a hash chain (spec section 7.7): each organization's events are numbered
//! 1, 2, 3, ... (`seq`), and each stores the hash of the one before it (`prev_hash`) and its
//! own (`hash`), computed over every stored column of the event. The first event (the
//! organization's creation) links to [`genesis`], a hash of the organization's id; the
//! store keeps each organization's last `seq` and `hash` as its **head**.
//!
//! A row deleted from the middle leaves a gap in `seq` (or, renumbered, a `prev_hash` that
//! links nowhere); a row altered no longer hashes to its `hash`; the last rows deleted leave a
//! chain shorter than its head. [`Verifier`] walks a chain in `seq` order and reports the
//! first such break. Pure: the store reads the rows, this decides.
//!
//! The hash is SHA-256 over an unambiguous encoding: a domain-separation label, then every
//! field in a fixed order, each text as its length (8 bytes, big-endian) and its UTF-8
//! bytes, each number as 8 bytes big-endian, an absent value as one `0` byte and a present
//! one as a `1` byte followed by the value. Values are hashed as stored (the changes as their
//! stored JSON text), so any edit of a column, even one that leaves the JSON's meaning alone,
//! breaks the chain.

use sha2::{Digest, Sha256};

use crate::token::to_hex;
use crate::OrgId;

const GENESIS_LABEL: &str = "warden.audit.genesis.v1";
const EVENT_LABEL: &str = "warden.audit.event.v1";

/// An audit event as its row stores it: every column the chain covers, in its stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub org_id: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    pub error_code: Option<String>,
    pub revision: i64,
    pub request_id: String,
    /// The changes' JSON, as stored.
    pub changes: String,
}

/// One event of a chain with its place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub event: StoredEvent,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// An organization's chain head: its last event's `seq` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// A chain that verified: how many events, and the head's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    pub events: u64,
    pub head: String,
}

/// What is wrong at a broken link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Broken {
    /// The event's stored columns no longer hash to its stored `hash`.
    Altered,
    /// Events are missing before this one: its `seq` skips numbers, or its `prev_hash` is not
    /// the hash of the event before it.
    Missing,
    /// The chain does not end at the organization's head: its last events are missing (or
    /// the head was changed).
    HeadMismatch,
}

impl Broken {
    pub fn as_str(self) -> &'static str {
        match self {
            Broken::Altered => "altered",
            Broken::Missing => "missing",
            Broken::HeadMismatch => "head_mismatch",
        }
    }
}

/// The first break of a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit chain breaks at event {seq} ({}): {detail}", reason.as_str())]
pub struct BrokenLink {
    /// The event at the break: the altered one, the one after a gap, or (head mismatch) the
    /// last one found; `None` when no event is left to name.
    pub event_id: Option<String>,
    /// The break's position: the event's `seq`, or for a head mismatch the head's.
    pub seq: i64,
    pub reason: Broken,
    /// How many events before the break verified.
    pub events_checked: u64,
    /// The break in a sentence.
    pub detail: String,
}

/// The hash the first event of `org` links to.
pub fn genesis(org: &OrgId) -> String {
    let mut h = Sha256::new();
    text(&mut h, GENESIS_LABEL);
    text(&mut h, org.as_str());
    to_hex(&h.finalize())
}

/// The hash of `event` stored at `seq` after the event whose hash is `prev`.
pub fn event_hash(event: &StoredEvent, seq: i64, prev: &str) -> String {
    let mut h = Sha256::new();
    text(&mut h, EVENT_LABEL);
    text(&mut h, &event.id);
    text(&mut h, &event.org_id);
    number(&mut h, event.at);
    text(&mut h, &event.actor);
    text(&mut h, &event.action);
    text(&mut h, &event.target);
    text(&mut h, &event.outcome);
    match &event.error_code {
        None => h.update([0u8]),
        Some(code) => {
            h.update([1u8]);
            text(&mut h, code);
        }
    }
    number(&mut h, event.revision);
    text(&mut h, &event.request_id);
    text(&mut h, &event.changes);
    number(&mut h, seq);
    text(&mut h, prev);
    to_hex(&h.finalize())
}

fn text(h: &mut Sha256, value: &str) {
    let len = u64::try_from(value.len()).unwrap_or(u64::MAX);
    h.update(len.to_be_bytes());
    h.update(value.as_bytes());
}

fn number(h: &mut Sha256, value: i64) {
    h.update(value.to_be_bytes());
}

/// Walks one organization's chain, event by event in `seq` order (so that a long chain can
/// be read a page at a time), then compares its end with the head.
#[derive(Debug, Clone)]
pub struct Verifier {
    org: OrgId,
    /// The hash the next event must link to.
    prev: String,
    next_seq: i64,
    checked: u64,
    last_id: Option<String>,
}

impl Verifier {
    pub fn new(org: &OrgId) -> Verifier {
        Verifier {
            org: org.clone(),
            prev: genesis(org),
            next_seq: 1,
            checked: 0,
            last_id: None,
        }
    }

    /// How many events verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The next event of the chain.
    pub fn push(&mut self, link: &Link) -> Result<(), BrokenLink> {
        let broken = |reason, detail: String| BrokenLink {
            event_id: Some(link.event.id.clone()),
            seq: link.seq,
            reason,
            events_checked: self.checked,
            detail,
        };
        if link.event.org_id != self.org.as_str()
            || event_hash(&link.event, link.seq, &link.prev_hash) != link.hash
        {
            return Err(broken(
                Broken::Altered,
                format!(
                    "event `{}` does not hash to its stored hash: a column was changed",
                    link.event.id
                ),
            ));
        }
        if link.seq != self.next_seq {
            let detail = if link.seq > self.next_seq {
                let last = link.seq.saturating_sub(1);
                if last == self.next_seq {
                    format!("event {last} is missing before event `{}`", link.event.id)
                } else {
                    format!(
                        "events {} to {last} are missing before event `{}`",
                        self.next_seq, link.event.id
                    )
                }
            } else {
                format!(
                    "event `{}` is numbered {} where {} was expected",
                    link.event.id, link.seq, self.next_seq
                )
            };
            return Err(broken(Broken::Missing, detail));
        }
        if link.prev_hash != self.prev {
            return Err(broken(
                Broken::Missing,
                format!(
                    "event `{}` does not link to the event before it: events were removed or \
                     replaced before it",
                    link.event.id
                ),
            ));
        }
        self.prev.clone_from(&link.hash);
        self.next_seq = self.next_seq.saturating_add(1);
        self.checked += 1;
        self.last_id = Some(link.event.id.clone());
        Ok(())
    }

    /// The end of the chain: it must be the organization's head (no head at all for an
    /// organization without events).
    pub fn finish(self, head: Option<&Head>) -> Result<VerifiedChain, BrokenLink> {
        let last_seq = self.next_seq.saturating_sub(1);
        let matches = match head {
            None => self.checked == 0,
            Some(head) => head.seq == last_seq && head.hash == self.prev,
        };
        if matches {
            return Ok(VerifiedChain {
                events: self.checked,
                head: self.prev,
            });
        }
        let detail = match head {
            None => "the organization has events but no chain head".to_string(),
            Some(head) if head.seq > last_seq => {
                if head.seq == last_seq.saturating_add(1) {
                    format!(
                        "the head names event {} but the chain ends at event {last_seq}: the \
                         last event is missing",
                        head.seq
                    )
                } else {
                    format!(
                        "the head names event {} but the chain ends at event {last_seq}: the \
                         last {} events are missing",
                        head.seq,
                        head.seq.saturating_sub(last_seq)
                    )
                }
            }
            Some(head) => format!(
                "the head names event {} with another hash than the chain's last event {last_seq}",
                head.seq
            ),
        };
        Err(BrokenLink {
            event_id: self.last_id,
            seq: head.map_or(last_seq, |h| h.seq),
            reason: Broken::HeadMismatch,
            events_checked: self.checked,
            detail,
        })
    }
}

/// Verifies a whole chain held in memory (see [`Verifier`]).
pub fn verify(
    org: &OrgId,
    links: &[Link],
    head: Option<&Head>,
) -> Result<VerifiedChain, BrokenLink> {
    let mut verifier = Verifier::new(org);
    for link in links {
        verifier.push(link)?;
    }
    verifier.finish(head)
}

/// Appends `event` after `head` (the genesis head of `org` when `None`): the link to store
/// and the new head.
pub fn append(org: &OrgId, head: Option<&Head>, event: StoredEvent) -> (Link, Head) {
    let (seq, prev) = match head {
        Some(head) => (head.seq.saturating_add(1), head.hash.clone()),
        None => (1, genesis(org)),
    };
    let hash = event_hash(&event, seq, &prev);
    let head = Head {
        seq,
        hash: hash.clone(),
    };
    (
        Link {
            event,
            seq,
            prev_hash: prev,
            hash,
        },
        head,
    )
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    fn org() -> OrgId {
        OrgId::from("acme01")
    }

    fn event(n: i64) -> StoredEvent {
        StoredEvent {
            id: format!("evt_{n}"),
            org_id: "acme01".to_string(),
            at: 1_700_000_000_000 + n,
            actor: "user:usr_1".to_string(),
            action: "iam.groups.create".to_string(),
            target: format!("grp_{n}"),
            outcome: "allowed".to_string(),
            error_code: None,
            revision: n,
            request_id: format!("req_{n}"),
            changes: "[]".to_string(),
        }
    }

    /// A chain of `n` events, and its head.
    fn chain(n: i64) -> (Vec<Link>, Head) {
        let mut head: Option<Head> = None;
        let mut links = Vec::new();
        for i in 1..=n {
            let (link, next) = append(&org(), head.as_ref(), event(i));
            links.push(link);
            head = Some(next);
        }
        (links, head.unwrap())
    }

    #[test]
    fn a_chain_as_appended_verifies() {
        let (links, head) = chain(5);
        assert_eq!(links[0].prev_hash, genesis(&org()));
        assert_eq!(links[0].seq, 1);
        assert_eq!(links[4].seq, 5);
        assert_eq!(links[3].hash, links[4].prev_hash);
        assert_eq!(
            verify(&org(), &links, Some(&head)),
            Ok(VerifiedChain {
                events: 5,
                head: head.hash.clone()
            })
        );
        assert_eq!(
            verify(&org(), &[], None),
            Ok(VerifiedChain {
                events: 0,
                head: genesis(&org())
            })
        );
    }

    #[test]
    fn hashes_are_sha256_hex_and_depend_on_the_org() {
        let g = genesis(&org());
        assert_eq!(g.len(), 64);
        assert!(g
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(g, genesis(&OrgId::from("acme02")));
        // The same rows under another organization do not verify.
        let (links, head) = chain(2);
        let err = verify(&OrgId::from("acme02"), &links, Some(&head)).unwrap_err();
        assert_eq!(err.reason, Broken::Altered);
    }

    /// Every column is covered, and the encoding is unambiguous: moving a character from one
    /// field to the next, or an absent error code for an empty one, changes the hash.
    #[test]
    fn every_field_counts_and_boundaries_are_unambiguous() {
        let base = event(1);
        let h = |e: &StoredEvent| event_hash(e, 1, "p");
        let variants: Vec<StoredEvent> = vec![
            StoredEvent {
                id: "evt_2".into(),
                ..base.clone()
            },
            StoredEvent {
                org_id: "acme02".into(),
                ..base.clone()
            },
            StoredEvent {
                at: base.at + 1,
                ..base.clone()
            },
            StoredEvent {
                actor: "system".into(),
                ..base.clone()
            },
            StoredEvent {
                action: "iam.groups.delete".into(),
                ..base.clone()
            },
            StoredEvent {
                target: "grp_2".into(),
                ..base.clone()
            },
            StoredEvent {
                outcome: "denied".into(),
                ..base.clone()
            },
            StoredEvent {
                error_code: Some(String::new()),
                ..base.clone()
            },
            StoredEvent {
                revision: 2,
                ..base.clone()
            },
            StoredEvent {
                request_id: "req_2".into(),
                ..base.clone()
            },
            StoredEvent {
                changes: "[ ]".into(),
                ..base.clone()
            },
            StoredEvent {
                actor: "user:usr_1i".into(),
                action: "am.groups.create".into(),
                ..base.clone()
            },
        ];
        let mut seen = std::collections::HashSet::new();
        seen.insert(h(&base));
        for v in &variants {
            assert!(seen.insert(h(v)), "{v:?} hashes like another");
        }
        assert_ne!(event_hash(&base, 2, "p"), h(&base));
        assert_ne!(event_hash(&base, 1, "q"), h(&base));
    }

    #[test]
    fn an_altered_event_is_named() {
        let (mut links, head) = chain(5);
        links[2].event.target = "grp_x".to_string();
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert_eq!(err.event_id.as_deref(), Some("evt_3"));
        assert_eq!(
            (err.seq, err.reason, err.events_checked),
            (3, Broken::Altered, 2)
        );
        // Its stored prev_hash or seq changed: altered too (both are hashed).
        let (mut links, head) = chain(5);
        links[2].prev_hash = links[0].hash.clone();
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert_eq!((err.seq, err.reason), (3, Broken::Altered));
    }

    #[test]
    fn a_deleted_event_is_found_by_its_successor() {
        let (mut links, head) = chain(5);
        links.remove(2);
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert_eq!(err.event_id.as_deref(), Some("evt_4"));
        assert_eq!(
            (err.seq, err.reason, err.events_checked),
            (4, Broken::Missing, 2)
        );
        assert!(err.detail.contains("event 3 is missing"), "{}", err.detail);
        // Two in a row.
        let (mut links, head) = chain(5);
        links.drain(1..3);
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert!(
            err.detail.contains("events 2 to 3 are missing"),
            "{}",
            err.detail
        );
        // The first one.
        let (mut links, head) = chain(3);
        links.remove(0);
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert_eq!(
            (err.event_id.as_deref(), err.reason),
            (Some("evt_2"), Broken::Missing)
        );
    }

    /// A deleted event whose successors were renumbered and rehashed still breaks the chain
    /// where its successor links to it.
    #[test]
    fn a_renumbered_chain_breaks_at_the_link() {
        let (links, _) = chain(4);
        let mut forged = vec![links[0].clone()];
        let mut head = Head {
            seq: 1,
            hash: links[0].hash.clone(),
        };
        for link in &links[2..] {
            let seq = head.seq + 1;
            // Keeps its stored prev_hash (the deleted event's hash), renumbered and rehashed.
            let hash = event_hash(&link.event, seq, &link.prev_hash);
            forged.push(Link {
                seq,
                hash: hash.clone(),
                ..link.clone()
            });
            head = Head { seq, hash };
        }
        let err = verify(&org(), &forged, Some(&head)).unwrap_err();
        assert_eq!(
            (err.event_id.as_deref(), err.seq, err.reason),
            (Some("evt_3"), 2, Broken::Missing)
        );
    }

    #[test]
    fn a_deleted_last_event_is_a_head_mismatch() {
        let (mut links, head) = chain(5);
        links.pop();
        let err = verify(&org(), &links, Some(&head)).unwrap_err();
        assert_eq!(err.event_id.as_deref(), Some("evt_4"));
        assert_eq!(
            (err.seq, err.reason, err.events_checked),
            (5, Broken::HeadMismatch, 4)
        );
        assert!(
            err.detail.contains("the last event is missing"),
            "{}",
            err.detail
        );
        // Every event gone, the head left.
        let err = verify(&org(), &[], Some(&head)).unwrap_err();
        assert_eq!((err.event_id, err.reason), (None, Broken::HeadMismatch));
        // Events without a head, or a head with another hash.
        let (links, head) = chain(2);
        assert_eq!(
            verify(&org(), &links, None).unwrap_err().reason,
            Broken::HeadMismatch
        );
        let other = Head {
            hash: genesis(&org()),
            ..head
        };
        assert_eq!(
            verify(&org(), &links, Some(&other)).unwrap_err().reason,
            Broken::HeadMismatch
        );
    }

    #[test]
    fn a_chain_verifies_page_by_page_as_a_whole() {
        let (links, head) = chain(7);
        let mut v = Verifier::new(&org());
        for page in links.chunks(3) {
            for link in page {
                v.push(link).unwrap();
            }
        }
        assert_eq!(v.checked(), 7);
        assert_eq!(v.finish(Some(&head)).unwrap().events, 7);
    }
}
