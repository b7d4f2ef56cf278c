//! A few files in flight at once per host: SFTP answers requests in order of arrival, so
//! while one file's writes wait for the host, another's open and rename go out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use crate::transport::ExecError;

/// Runs `task(0..count)` with at most `width` running at once; the first error stops the
/// rest from starting and is returned once those already running have ended.
pub async fn each<'a, F, Fut>(count: usize, width: usize, task: F) -> Result<(), ExecError>
where
    F: Fn(usize) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<(), ExecError>> + Send + 'a,
{
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<ExecError>> = Mutex::new(None);
    let worker = || async {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count || failure.lock().expect("not poisoned").is_some() {
                break;
            }
            if let Err(e) = task(i).await {
                failure.lock().expect("not poisoned").get_or_insert(e);
                break;
            }
        }
    };
    let mut running: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = (0..width.min(count))
        .map(|_| Box::pin(worker()) as Pin<Box<dyn Future<Output = ()> + Send>>)
        .collect();
    std::future::poll_fn(|cx| {
        running.retain_mut(|w| w.as_mut().poll(cx).is_pending());
        if running.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    drop(running);
    match failure.into_inner().expect("not poisoned") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_every_task_at_most_width_at_once_and_stops_at_the_first_error() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        each(20, 4, |_| async {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            running.fetch_sub(1, Ordering::SeqCst);
            done.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 20);
        assert!(most.load(Ordering::SeqCst) <= 4);
        let started = AtomicUsize::new(0);
        let result = each(100, 2, |i| {
            started.fetch_add(1, Ordering::SeqCst);
            async move {
                if i == 3 {
                    Err(ExecError::Failed("boom".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(matches!(result, Err(ExecError::Failed(m)) if m == "boom"));
        assert!(started.load(Ordering::SeqCst) < 10);
    }
}
