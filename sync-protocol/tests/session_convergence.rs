//! Replicas editing one document converge through the session API although the network
//! reorders, duplicates and drops frames: after the chaos, each connection is re-established
//! from its persisted sync state (what a real reconnect does) and frames flow in order until
//! every side is quiet; then all replicas hold the same heads and the same values.

use std::collections::VecDeque;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge};
use proptest::prelude::*;
use sync_protocol::DocumentId;
use sync_protocol::message::{PeerId, WireMessage};
use sync_protocol::session::{Event, PeerSession, SessionConfig};

const REPLICAS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Edit { replica: usize, key: u8, value: i64 },
    Delete { replica: usize, key: u8 },
    Deliver { from: usize, to: usize },
    Duplicate { from: usize, to: usize },
    Drop { from: usize, to: usize },
    Swap { from: usize, to: usize },
}

fn link() -> impl Strategy<Value = (usize, usize)> {
    (0..REPLICAS, 1..REPLICAS).prop_map(|(from, step)| (from, (from + step) % REPLICAS))
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..REPLICAS, 0u8..4, any::<i64>())
            .prop_map(|(replica, key, value)| Action::Edit { replica, key, value }),
        1 => (0..REPLICAS, 0u8..4).prop_map(|(replica, key)| Action::Delete { replica, key }),
        6 => link().prop_map(|(from, to)| Action::Deliver { from, to }),
        1 => link().prop_map(|(from, to)| Action::Duplicate { from, to }),
        1 => link().prop_map(|(from, to)| Action::Drop { from, to }),
        1 => link().prop_map(|(from, to)| Action::Swap { from, to }),
    ]
}

/// Full mesh: replica `i` talks to `j` through `sessions[i][j]`; frames wait in `links[i][j]`.
struct Network {
    id: DocumentId,
    docs: Vec<Automerge>,
    sessions: Vec<Vec<Option<PeerSession>>>,
    links: Vec<Vec<VecDeque<Vec<u8>>>>,
    refused: usize,
}

impl Network {
    fn new() -> Self {
        let docs = (0..REPLICAS)
            .map(|i| Automerge::new().with_actor(ActorId::from(vec![i as u8 + 1; 16])))
            .collect();
        let mut network = Self {
            id: DocumentId::random(),
            docs,
            sessions: Vec::new(),
            links: vec![vec![VecDeque::new(); REPLICAS]; REPLICAS],
            refused: 0,
        };
        network.connect_all(&[]);
        network
    }

    /// (Re)connects every pair, resuming from the given persisted sync states.
    fn connect_all(&mut self, saved: &[(usize, usize, Vec<u8>)]) {
        self.sessions = (0..REPLICAS)
            .map(|i| {
                (0..REPLICAS)
                    .map(|j| {
                        let config = SessionConfig::new(PeerId::new(format!("replica-{i}")));
                        match i.cmp(&j) {
                            std::cmp::Ordering::Equal => None,
                            std::cmp::Ordering::Less => Some(PeerSession::connecting(config)),
                            std::cmp::Ordering::Greater => Some(PeerSession::accepting(config)),
                        }
                    })
                    .collect()
            })
            .collect();
        self.links = vec![vec![VecDeque::new(); REPLICAS]; REPLICAS];
        self.collect_outbound();
        // The handshake itself is delivered reliably.
        while self.deliver_all_in_order() {}
        let id = self.id;
        for (i, j, state) in saved {
            self.session(*i, *j)
                .restore_sync_state(id, state)
                .expect("saved state decodes");
        }
        for i in 0..REPLICAS {
            self.announce(i);
        }
    }

    fn session(&mut self, i: usize, j: usize) -> &mut PeerSession {
        self.sessions[i][j]
            .as_mut()
            .expect("no session with itself")
    }

    fn collect_outbound(&mut self) {
        for i in 0..REPLICAS {
            for j in 0..REPLICAS {
                if let Some(session) = self.sessions[i][j].as_mut() {
                    let frames = session.take_outbound();
                    self.links[i][j].extend(frames.iter().map(WireMessage::encode));
                }
            }
        }
    }

    /// Offers replica `i`'s document to every peer.
    fn announce(&mut self, i: usize) {
        let id = self.id;
        for j in (0..REPLICAS).filter(|j| *j != i) {
            let doc = &self.docs[i];
            self.sessions[i][j]
                .as_mut()
                .expect("session")
                .sync_document(id, doc);
        }
        self.collect_outbound();
    }

    fn deliver(&mut self, from: usize, to: usize) {
        let Some(frame) = self.links[from][to].pop_front() else {
            return;
        };
        let event = self.session(to, from).receive(&frame).expect("valid frame");
        if let Event::Sync(incoming) = event {
            let session = self.sessions[to][from].as_ref().expect("session");
            match session.receive_sync(&incoming, &self.docs[to]) {
                Ok(candidate) => {
                    let accepted = self.session(to, from).accept(candidate).expect("fresh");
                    self.docs[to] = accepted.document;
                }
                // Out-of-order delivery can carry changes whose dependencies were lost; the
                // session refuses them whole and asks the peer to send again what it lacks.
                Err(refusal) => {
                    self.refused += 1;
                    self.session(to, from)
                        .answer_refusal(incoming.document_id, &refusal);
                }
            }
            self.announce(to);
        }
        self.collect_outbound();
    }

    fn deliver_all_in_order(&mut self) -> bool {
        let mut any = false;
        for from in 0..REPLICAS {
            for to in 0..REPLICAS {
                while !self.links[from][to].is_empty() {
                    self.deliver(from, to);
                    any = true;
                }
            }
        }
        any
    }

    fn apply(&mut self, action: &Action) {
        match *action {
            Action::Edit {
                replica,
                key,
                value,
            } => {
                let mut tx = self.docs[replica].transaction();
                tx.put(automerge::ROOT, format!("k{key}"), value)
                    .expect("put");
                tx.commit_with(CommitOptions::default().with_time(0));
                self.announce(replica);
            }
            Action::Delete { replica, key } => {
                let mut tx = self.docs[replica].transaction();
                tx.delete(automerge::ROOT, format!("k{key}"))
                    .expect("delete");
                tx.commit_with(CommitOptions::default().with_time(0));
                self.announce(replica);
            }
            Action::Deliver { from, to } => self.deliver(from, to),
            Action::Duplicate { from, to } => {
                if let Some(frame) = self.links[from][to].front().cloned() {
                    self.links[from][to].push_back(frame);
                }
            }
            Action::Drop { from, to } => {
                self.links[from][to].pop_front();
            }
            Action::Swap { from, to } => {
                if self.links[from][to].len() >= 2 {
                    self.links[from][to].swap(0, 1);
                }
            }
        }
    }

    /// A reconnect: every session persists its sync state, the connections drop (with whatever
    /// frames were in flight), and new sessions resume from the saved states.
    fn reconnect(&mut self) {
        let id = self.id;
        let mut saved = Vec::new();
        for i in 0..REPLICAS {
            for j in (0..REPLICAS).filter(|j| *j != i) {
                if let Some(state) = self.session(i, j).forget_document(id) {
                    saved.push((i, j, state));
                }
            }
        }
        self.connect_all(&saved);
    }

    fn converged(&self) -> bool {
        let heads = self.docs[0].get_heads();
        let value = self.docs[0].hydrate(None);
        self.docs
            .iter()
            .all(|doc| doc.get_heads() == heads && doc.hydrate(None) == value)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn replicas_converge_despite_reordering_duplication_and_loss(
        actions in proptest::collection::vec(action(), 1..60)
    ) {
        let mut network = Network::new();
        for action in &actions {
            network.apply(action);
        }
        let mut rounds = 0;
        while !network.converged() {
            rounds += 1;
            prop_assert!(rounds <= 3, "still apart after {} retry rounds", rounds - 1);
            network.reconnect();
            // Quiet within a bound: an exchange that never ends is a failure, not a hang.
            let mut passes = 0;
            while network.deliver_all_in_order() {
                passes += 1;
                prop_assert!(passes <= 200, "still talking after {} passes", passes);
            }
        }
        let edits = actions.iter().filter(|a| matches!(a, Action::Edit { .. })).count();
        prop_assert!(edits == 0 || !network.docs[0].get_heads().is_empty());
    }
}
