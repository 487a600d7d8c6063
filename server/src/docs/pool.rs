//! Where CPU-heavy documentation work runs: Markdown with syntax highlighting, and the
//! parsing and rendering of API specs. Never on the async runtime's workers (a 1 MB
//! page or a 10 MB spec would stall every request sharing the worker), but on tokio's
//! blocking threads, and at most [`RenderPool::size`] at a time (one per CPU): a burst
//! of public page views waits its turn instead of taking every core and every
//! blocking thread. A job keeps its place until it finishes, even when the request
//! that asked for it is gone, so dropped requests cannot lift the bound.

use std::sync::{Arc, OnceLock};

use app::error::AppError;
use tokio::sync::Semaphore;

/// A bound on rendering jobs running at once.
pub struct RenderPool {
    permits: Arc<Semaphore>,
    size: usize,
}

impl RenderPool {
    /// A pool running at most `size` jobs at once (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// How many jobs may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many more jobs could start now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `job` on a blocking thread once a place is free; `what` names it in the log
    /// should it panic.
    pub async fn run<T, F>(&self, what: &'static str, job: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            tracing::error!("the rendering pool is closed");
            AppError::internal()
        })?;
        tokio::task::spawn_blocking(move || {
            let _place = permit;
            job()
        })
        .await
        .map_err(|e| {
            tracing::error!("{what} task failed: {e}");
            AppError::internal()
        })
    }
}

/// The process's pool: one place per CPU.
pub fn pool() -> &'static RenderPool {
    static POOL: OnceLock<RenderPool> = OnceLock::new();
    POOL.get_or_init(|| {
        RenderPool::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    })
}

/// Runs `job` in the process's pool (see [`RenderPool::run`]).
pub async fn run<T, F>(what: &'static str, job: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    pool().run(what, job).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    /// Polls `cond` for up to ten seconds.
    async fn eventually(cond: impl Fn() -> bool) -> bool {
        for _ in 0..1000 {
            if cond() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cond()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_at_most_size_jobs_at_once_and_all_of_them() {
        let pool = Arc::new(RenderPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        // Every job waits for a go; only the jobs that got a place can be waiting.
        let (go, gate) = mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let mut tasks = Vec::new();
        for i in 0..6 {
            let (pool, running, most, gate) =
                (pool.clone(), running.clone(), most.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                pool.run("test", move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let _ = gate.lock().map(|g| g.recv());
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
                .await
            }));
        }
        assert!(eventually(|| running.load(Ordering::SeqCst) == 2).await);
        assert_eq!(pool.available(), 0);
        // Let them through one by one: never more than two at once.
        for _ in 0..6 {
            go.send(()).unwrap();
        }
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap().unwrap());
        }
        done.sort();
        assert_eq!(done, [0, 1, 2, 3, 4, 5]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(pool.available(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_keeps_its_place_until_its_job_ends() {
        let pool = Arc::new(RenderPool::new(1));
        let (go, gate) = mpsc::channel::<()>();
        let started = Arc::new(AtomicUsize::new(0));
        let p = pool.clone();
        let s = started.clone();
        let task = tokio::spawn(async move {
            p.run("test", move || {
                s.fetch_add(1, Ordering::SeqCst);
                let _ = gate.recv();
            })
            .await
        });
        assert!(eventually(|| started.load(Ordering::SeqCst) == 1).await);
        task.abort();
        let _ = task.await;
        assert_eq!(
            pool.available(),
            0,
            "the job still runs, so its place is taken"
        );
        go.send(()).unwrap();
        assert!(eventually(|| pool.available() == 1).await);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_internal_error() {
        let pool = RenderPool::new(1);
        let e = pool
            .run("test", || -> usize { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(e.status(), 500);
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.run("test", || 7).await.unwrap(), 7);
    }

    #[test]
    fn the_process_pool_has_a_place_per_cpu() {
        assert!(pool().size() >= 1);
        assert_eq!(RenderPool::new(0).size(), 1);
    }
}
