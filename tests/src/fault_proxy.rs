//! A fault-injecting HTTP proxy for the end-to-end tests.
//!
//! This is a deliberate fake: it stands in for a flaky network between the real
//! `updraft-agent` and the real `updraft server`, nothing else. It forwards each request
//! to the server on a fresh connection (with `Connection: close`, so one request per
//! connection) and, for the requests a [`FaultPlan`] picks, answers 503 itself or closes
//! the connection without a reply, either before forwarding or after the server has
//! handled the request (the server got it; the client saw no answer). [`FaultProxy::set_down`]
//! makes every connection close at once, as an unreachable server would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and relay the answer.
    Pass,
    /// Answer `503 Service Unavailable` without forwarding.
    Unavailable,
    /// Close the connection without forwarding or answering.
    CutBefore,
    /// Forward it, let the server answer, then close without relaying the answer.
    CutAfter,
}

/// Which requests get a fault: those whose path starts with `prefix`, each with
/// probability `rate`, drawn from a seeded generator so a run can be repeated.
#[derive(Debug)]
pub struct FaultPlan {
    prefix: String,
    rate: f64,
    rng: u64,
}

impl FaultPlan {
    /// Faults `rate` (0..=1) of the requests under `prefix`, seeded with `seed`.
    pub fn new(prefix: &str, rate: f64, seed: u64) -> Self {
        FaultPlan {
            prefix: prefix.to_string(),
            rate,
            rng: seed,
        }
    }

    /// No faults.
    pub fn none() -> Self {
        FaultPlan::new("", 0.0, 0)
    }

    /// splitmix64: small, seedable, good enough to spread faults.
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, path: &str) -> Fault {
        if self.rate <= 0.0 || !path.starts_with(&self.prefix) {
            return Fault::Pass;
        }
        let roll = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= self.rate {
            return Fault::Pass;
        }
        match self.next() % 3 {
            0 => Fault::Unavailable,
            1 => Fault::CutBefore,
            _ => Fault::CutAfter,
        }
    }
}

/// How many requests got each treatment.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Forwarded and answered.
    pub passed: AtomicU64,
    /// Answered 503 by the proxy.
    pub unavailable: AtomicU64,
    /// Cut before reaching the server.
    pub cut_before: AtomicU64,
    /// Cut after the server handled them.
    pub cut_after: AtomicU64,
    /// Connections dropped while the proxy was down.
    pub refused: AtomicU64,
}

impl FaultCounts {
    fn add(&self, fault: Fault) {
        let counter = match fault {
            Fault::Pass => &self.passed,
            Fault::Unavailable => &self.unavailable,
            Fault::CutBefore => &self.cut_before,
            Fault::CutAfter => &self.cut_after,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests that got a fault (503 or cut).
    pub fn faulted(&self) -> u64 {
        self.unavailable.load(Ordering::Relaxed)
            + self.cut_before.load(Ordering::Relaxed)
            + self.cut_after.load(Ordering::Relaxed)
    }
}

struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    plan: Mutex<FaultPlan>,
    down: AtomicBool,
    counts: FaultCounts,
}

/// A running proxy on 127.0.0.1 (stops with the test's runtime).
#[derive(Clone)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on an ephemeral port; forwards nowhere until [`FaultProxy::set_upstream`].
    pub async fn start(plan: FaultPlan) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(None),
            plan: Mutex::new(plan),
            down: AtomicBool::new(false),
            counts: FaultCounts::default(),
        });
        let serving = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    let _ = handle(client, &shared).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared })
    }

    /// `http://127.0.0.1:<port>`: the URL to give the server as `--public-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards to `base` (`http://host:port`).
    pub fn set_upstream(&self, base: &str) -> anyhow::Result<()> {
        let addr: SocketAddr = base.trim_start_matches("http://").parse()?;
        *lock(&self.shared.upstream) = Some(addr);
        Ok(())
    }

    /// While `down`, every connection is closed at once (the server seems unreachable).
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// What the proxy has done so far.
    pub fn counts(&self) -> &FaultCounts {
        &self.shared.counts
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads one request (head and `Content-Length` body); `None` when the client closed.
async fn read_request(client: &mut TcpStream) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let body_start = end + 4;
            while buf.len() < body_start + len {
                let n = client.read(&mut chunk).await?;
                if n == 0 {
                    anyhow::bail!("client closed mid-body");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(Some((head, buf[body_start..body_start + len].to_vec())));
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The head with any `Connection` header replaced by `Connection: close`.
fn closing(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| {
            !l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case("connection"))
        })
        .collect();
    lines.push("Connection: close");
    lines.join("\r\n") + "\r\n\r\n"
}

async fn handle(mut client: TcpStream, shared: &Shared) -> anyhow::Result<()> {
    if shared.down.load(Ordering::SeqCst) {
        shared.counts.refused.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    if shared.down.load(Ordering::SeqCst) {
        shared.counts.refused.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let fault = lock(&shared.plan).pick(path);
    shared.counts.add(fault);
    match fault {
        Fault::CutBefore => return Ok(()),
        Fault::Unavailable => {
            let reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            client.write_all(reply.as_bytes()).await?;
            client.shutdown().await?;
            return Ok(());
        }
        Fault::Pass | Fault::CutAfter => {}
    }
    let upstream = (*lock(&shared.upstream)).ok_or_else(|| anyhow::anyhow!("no upstream"))?;
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(closing(&head).as_bytes()).await?;
    server.write_all(&body).await?;
    let mut reply = Vec::new();
    server.read_to_end(&mut reply).await?;
    if fault == Fault::CutAfter {
        return Ok(());
    }
    client.write_all(&reply).await?;
    client.shutdown().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_repeatable_and_only_touch_the_prefix() {
        let picks = |seed| {
            let mut plan = FaultPlan::new("/s/", 0.2, seed);
            (0..1000).map(|_| plan.pick("/s/x")).collect::<Vec<_>>()
        };
        assert_eq!(picks(7), picks(7));
        let faulted = picks(7).iter().filter(|f| **f != Fault::Pass).count();
        assert!((120..280).contains(&faulted), "{faulted}");
        let mut plan = FaultPlan::new("/s/", 1.0, 7);
        assert_eq!(plan.pick("/m/x"), Fault::Pass);
    }

    #[test]
    fn forwarded_heads_ask_the_server_to_close() {
        assert_eq!(
            closing("GET / HTTP/1.1\r\nHost: h\r\nconnection: keep-alive"),
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        );
    }
}
