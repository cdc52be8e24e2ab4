//! Early refusals that reach the client intact through a proxy.
//!
//! A handler may answer before it has read the request's body: a bad API key, a wrong content
//! type, a limit passed, a missing part. hyper then closes the connection with the rest of the
//! body unread, and the kernel answers the sender's next bytes with a reset. A proxy still
//! writing the body (nginx: `writev() failed (32: Broken pipe) while sending request to
//! upstream`) drops the answer it may already hold and gives its client a 502 instead of the
//! refusal.
//!
//! [`layer`] keeps a handle on every request's body. When the answer is ready and the body was
//! not read to its end, it reads and discards the rest first, so the answer goes out on a
//! connection the sender can finish writing to (and that stays open for the next request).
//! Draining is bounded: a body whose remaining length is known to pass `max_bytes`, or that
//! passes it or `max_wait` while being read, is left unread and the answer says
//! `Connection: close`. A request that asked for `Expect: 100-continue` and whose body was never
//! touched is not drained either: the client has not sent it and need not (the answer is final).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header::{CONNECTION, EXPECT};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;

/// How much of an unread body is read and discarded before an answer goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainLimits {
    /// The most bytes read after the handler answered.
    pub max_bytes: u64,
    /// The longest time spent reading them.
    pub max_wait: Duration,
}

impl Default for DrainLimits {
    /// 64 MiB in at most 15 s: more than any upload the services take, except a collection import.
    fn default() -> Self {
        Self { max_bytes: 64 << 20, max_wait: Duration::from_secs(15) }
    }
}

/// The middleware: use with `axum::middleware::from_fn_with_state(limits, layer)`.
pub async fn layer(limits: axum::extract::State<DrainLimits>, request: Request, next: Next) -> Response {
    let limits = limits.0;
    let expects_continue =
        request.headers().get(EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(None));
    let tracked = Tracked { inner: Some(body), finished: false, polled: false, slot: Arc::clone(&slot) };
    let mut response = next.run(Request::from_parts(parts, Body::new(tracked))).await;
    let unread = slot.lock().map(|mut slot| slot.take()).unwrap_or(None);
    if let Some(Unread { body, polled }) = unread {
        let drained = if expects_continue && !polled { false } else { drain(body, limits).await };
        if !drained {
            response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// Reads `body` to its end within `limits`; whether it got there.
async fn drain(mut body: Body, limits: DrainLimits) -> bool {
    if body.size_hint().lower() > limits.max_bytes {
        return false;
    }
    let read_all = async {
        let mut read = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > limits.max_bytes {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(limits.max_wait, read_all).await.unwrap_or(false)
}

/// What a handler left of a body.
struct Unread {
    body: Body,
    /// Whether anything had read from it (then a `100 Continue` went out).
    polled: bool,
}

/// A request body that, when dropped before its end, leaves the rest in `slot`.
struct Tracked {
    inner: Option<Body>,
    finished: bool,
    polled: bool,
    slot: Arc<Mutex<Option<Unread>>>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        this.polled = true;
        let poll = Pin::new(inner).poll_frame(cx);
        // The end, or an error: nothing more can be read.
        if matches!(poll, Poll::Ready(None | Some(Err(_)))) {
            this.finished = true;
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take() {
            if !self.finished && !body.is_end_stream() {
                if let Ok(mut slot) = self.slot.lock() {
                    *slot = Some(Unread { body, polled: self.polled });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::routing::post;
    use axum::Router;
    use futures::stream;
    use tower::ServiceExt;

    use super::*;

    /// A body of `chunks` chunks of 1 KiB, counting how many were read.
    fn counted_body(chunks: usize, read: Arc<AtomicUsize>) -> Body {
        Body::from_stream(stream::iter((0..chunks).map(move |_| {
            read.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 1024]))
        })))
    }

    fn app(limits: DrainLimits) -> Router {
        Router::new()
            .route("/refuse", post(|| async { (axum::http::StatusCode::UNAUTHORIZED, "no") }))
            .route("/read", post(|body: Bytes| async move { body.len().to_string() }))
            .layer(axum::middleware::from_fn_with_state(limits, layer))
    }

    async fn send(limits: DrainLimits, path: &str, chunks: usize) -> (Response, usize) {
        let read = Arc::new(AtomicUsize::new(0));
        let request = Request::post(path).body(counted_body(chunks, Arc::clone(&read))).unwrap();
        let response = app(limits).oneshot(request).await.unwrap();
        (response, read.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn an_early_refusal_reads_the_rest_of_the_body_first() {
        let (response, read) = send(DrainLimits::default(), "/refuse", 100).await;
        assert_eq!(response.status(), 401);
        assert_eq!(read, 100, "every chunk was read before the answer");
        assert!(response.headers().get(CONNECTION).is_none());
    }

    #[tokio::test]
    async fn a_body_the_handler_read_is_not_touched_again() {
        let (response, read) = send(DrainLimits::default(), "/read", 10).await;
        assert_eq!(response.status(), 200);
        assert_eq!(read, 10);
        assert!(response.headers().get(CONNECTION).is_none());
    }

    #[tokio::test]
    async fn a_body_larger_than_the_limit_is_left_and_the_connection_closed() {
        let limits = DrainLimits { max_bytes: 8 * 1024, max_wait: Duration::from_secs(5) };
        let (response, read) = send(limits, "/refuse", 100).await;
        assert_eq!(response.status(), 401);
        assert!(read <= 10, "reading stopped at the limit: {read} chunks");
        assert_eq!(response.headers()[CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_body_of_known_length_over_the_limit_is_not_read_at_all() {
        let limits = DrainLimits { max_bytes: 1000, max_wait: Duration::from_secs(5) };
        let request = Request::post("/refuse").body(Body::from(vec![0u8; 5000])).unwrap();
        let response = app(limits).oneshot(request).await.unwrap();
        assert_eq!(response.headers()[CONNECTION], "close");
    }

    #[tokio::test]
    async fn an_untouched_body_announced_with_expect_continue_is_not_asked_for() {
        let read = Arc::new(AtomicUsize::new(0));
        let request =
            Request::post("/refuse").header(EXPECT, "100-continue").body(counted_body(10, Arc::clone(&read))).unwrap();
        let response = app(DrainLimits::default()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(read.load(Ordering::SeqCst), 0);
        assert_eq!(response.headers()[CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_sender_slower_than_the_wait_is_given_up_on() {
        let limits = DrainLimits { max_bytes: 1 << 20, max_wait: Duration::from_millis(100) };
        let slow = Body::from_stream(stream::unfold(0, |n| async move {
            tokio::time::sleep(Duration::from_millis(60)).await;
            (n < 10).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
        }));
        let response = app(limits).oneshot(Request::post("/refuse").body(slow).unwrap()).await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()[CONNECTION], "close");
    }
}
