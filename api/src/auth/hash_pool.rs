//! The threads that run argon2 (issue 12 item 4): `auth.max_concurrent_hashes` dedicated threads,
//! so at most that many 19 MiB buffers exist at once *and* the memory stays bounded after them.
//! (On the general blocking pool each hash ran on whichever thread was free, and the allocator
//! kept a freed buffer in each thread's arena: 16 arenas × 19 MiB resident long after the
//! logins.) The wait for a slot is bounded by [`crate::auth::login::with_hash_slot`].

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of hashing threads fed from one queue.
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `threads` threads (at least one); they end when the pool is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let next = match queue.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(HashPool { jobs })
    }

    /// Runs `work` on a hashing thread; `None` when the pool is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}
