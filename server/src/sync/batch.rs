//! Work that arrives an item at a time from many connections and is done a batch at a time:
//! the sync messages' group commit and their access checks. An item is queued; if fewer than
//! `max_running` tasks are working, a task starts and takes what is queued (up to `max_batch`
//! items), works the batch, and takes again until nothing is queued. So an item that arrives
//! when nothing is under way is worked at once, alone, and under load the queue that builds
//! while a batch is worked becomes the next batch.
//!
//! The items carry their own way to answer (a `oneshot` sender): the work answers each. A
//! task works on even if the connection that started it goes. If a task panics, the count of
//! running tasks is lowered, and when none is left the waiting items are dropped, so their
//! senders tell the waiters rather than leave them waiting.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

/// See the module documentation.
#[derive(Debug)]
pub struct Batches<T> {
    state: Mutex<Queue<T>>,
    max_batch: usize,
    max_running: usize,
}

#[derive(Debug)]
struct Queue<T> {
    waiting: Vec<T>,
    running: usize,
}

/// Items queued and tasks working, read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub waiting: usize,
    pub running: usize,
}

impl<T: Send + 'static> Batches<T> {
    /// Batches of at most `max_batch` items, at most `max_running` worked at once (both at
    /// least one).
    pub fn new(max_batch: usize, max_running: usize) -> Self {
        Self {
            state: Mutex::new(Queue {
                waiting: Vec::new(),
                running: 0,
            }),
            max_batch: max_batch.max(1),
            max_running: max_running.max(1),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue<T>> {
        // The queue stays consistent whatever panicked while it was held.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `item`; if a task may start, starts one that works batches with what `start`
    /// makes until nothing is queued (`start` is called only then: a task already running
    /// works the item with its own work).
    pub fn push<S, W, F>(self: &Arc<Self>, item: T, start: S)
    where
        S: FnOnce() -> W,
        W: FnMut(Vec<T>) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let starts = {
            let mut queue = self.queue();
            queue.waiting.push(item);
            let starts = queue.running < self.max_running;
            if starts {
                queue.running += 1;
            }
            starts
        };
        if starts {
            // Should making the work panic, the count raised above is lowered again.
            let mut leaving = Leaving(Some(self.clone()));
            let work = start();
            leaving.0 = None;
            let this = self.clone();
            tokio::spawn(async move { this.run(work).await });
        }
    }

    pub fn load(&self) -> Load {
        let queue = self.queue();
        Load {
            waiting: queue.waiting.len(),
            running: queue.running,
        }
    }

    async fn run<W, F>(self: Arc<Self>, mut work: W)
    where
        W: FnMut(Vec<T>) -> F,
        F: Future<Output = ()>,
    {
        let mut leaving = Leaving(Some(self.clone()));
        loop {
            let batch: Vec<T> = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Decided under the lock that queues: an item queued after this finds the
                    // count lowered and starts a task itself.
                    queue.running -= 1;
                    leaving.0 = None;
                    return;
                }
                let take = queue.waiting.len().min(self.max_batch);
                queue.waiting.drain(..take).collect()
            };
            work(batch).await;
        }
    }
}

/// Lowers the count of running tasks if a task ends by panicking; the last one drops what is
/// waiting (outside the lock: an item may hold a lock of its own).
struct Leaving<T>(Option<Arc<Batches<T>>>);

impl<T> Drop for Leaving<T> {
    fn drop(&mut self) {
        if let Some(batches) = self.0.take() {
            let dropped = {
                let mut queue = batches.state.lock().unwrap_or_else(|p| p.into_inner());
                queue.running -= 1;
                if queue.running == 0 {
                    std::mem::take(&mut queue.waiting)
                } else {
                    Vec::new()
                }
            };
            drop(dropped);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::{Notify, oneshot};

    use super::*;

    /// An item that reports the size of the batch it was worked in.
    type Item = (u32, oneshot::Sender<usize>);

    async fn answer(batch: Vec<Item>) {
        let size = batch.len();
        for (_, answer) in batch {
            let _ = answer.send(size);
        }
    }

    #[tokio::test]
    async fn an_item_alone_is_worked_at_once_and_what_queues_meanwhile_is_the_next_batch() {
        let batches = Arc::new(Batches::<Item>::new(3, 1));
        let (tx, alone) = oneshot::channel();
        batches.push((0, tx), || answer);
        assert_eq!(alone.await.unwrap(), 1);

        // Hold the only task in its first batch while five more items queue.
        let release = Arc::new(Notify::new());
        let (tx, first) = oneshot::channel();
        let held = release.clone();
        batches.push((1, tx), move || {
            move |batch: Vec<Item>| {
                let held = held.clone();
                async move {
                    if batch.iter().any(|(n, _)| *n == 1) {
                        held.notified().await;
                    }
                    answer(batch).await;
                }
            }
        });
        while batches.load().waiting > 0 {
            tokio::task::yield_now().await;
        }
        let mut later = Vec::new();
        for n in 2..7 {
            let (tx, rx) = oneshot::channel();
            // No second task starts: this work is never used.
            batches.push((n, tx), || -> fn(Vec<Item>) -> std::future::Ready<()> {
                unreachable!("a second task started")
            });
            later.push(rx);
        }
        assert_eq!(
            batches.load(),
            Load {
                waiting: 5,
                running: 1
            }
        );
        release.notify_one();
        assert_eq!(first.await.unwrap(), 1);
        let mut sizes = Vec::new();
        for rx in later {
            sizes.push(rx.await.unwrap());
        }
        // Five queued, batches of at most three, in the order they came.
        assert_eq!(sizes, vec![3, 3, 3, 2, 2]);
        tokio::time::timeout(Duration::from_secs(5), async {
            while batches.load().running > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the task ended once nothing was queued");
    }

    #[tokio::test]
    async fn a_task_that_panics_lets_its_waiters_know() {
        let batches = Arc::new(Batches::<Item>::new(8, 1));
        let release = Arc::new(Notify::new());
        let held = release.clone();
        let (tx, first) = oneshot::channel();
        batches.push((1, tx), move || {
            move |_batch: Vec<Item>| {
                let held = held.clone();
                async move {
                    held.notified().await;
                    panic!("the work failed");
                }
            }
        });
        // The task holds its batch of one; the next item queues behind it.
        while batches.load().waiting > 0 {
            tokio::task::yield_now().await;
        }
        let (tx, queued) = oneshot::channel();
        batches.push((2, tx), || answer);
        assert_eq!(batches.load().waiting, 1);
        release.notify_one();
        // The batch in hand and the item queued behind it are both dropped, not left waiting.
        let within = |rx| tokio::time::timeout(Duration::from_secs(5), rx);
        assert!(within(first).await.expect("told in time").is_err());
        assert!(within(queued).await.expect("told in time").is_err());
        assert_eq!(
            batches.load(),
            Load {
                waiting: 0,
                running: 0
            }
        );
        // And the next item starts a task again.
        let (tx, after) = oneshot::channel();
        batches.push((3, tx), || answer);
        assert_eq!(after.await.unwrap(), 1);
    }
}
