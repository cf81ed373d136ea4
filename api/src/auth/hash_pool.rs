//! The threads that run argon2 (issue 12 item 4): `auth.max_concurrent_hashes` dedicated threads
//! (a rayon pool), so at most that many 19 MiB buffers exist at once *and* the memory stays
//! bounded after them. (On the general blocking pool each hash ran on whichever thread was free,
//! and the allocator kept a freed buffer in each thread's arena: 16 arenas × 19 MiB resident long
//! after the logins.) The wait for a slot is bounded by [`crate::auth::login::with_hash_slot`].

/// A fixed set of hashing threads.
pub struct HashPool {
    threads: rayon::ThreadPool,
}

impl HashPool {
    /// Starts `threads` threads (at least one); they end when the pool is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|n| format!("argon2-{n}"))
            // A panicking check must not abort the process (rayon's default): the caller sees
            // `None` instead.
            .panic_handler(|_| tracing::error!("a password check panicked"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(HashPool { threads })
    }

    /// Runs `work` on a hashing thread; `None` when the work panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.threads.spawn(move || {
            let _ = done.send(work());
        });
        result.await.ok()
    }
}
