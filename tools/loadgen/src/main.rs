//! `onboarding-loadgen`: open-loop HTTP/1.1 load at a fixed rate, for `tools/bench-server.py`.
//!
//! wrk keeps N connections busy back to back (closed loop): it measures the most a server can
//! do, and its latencies at that saturation follow from Little's law (N / throughput). A budget
//! such as "≥ 3,000 req/s with p99 ≤ 20 ms" asks something else: the latency while the server
//! is offered 3,000 req/s. This tool offers exactly that: request k is due at `start + k / rate`,
//! spread over the connections, and its latency is counted from when it was due, not from when
//! it was sent, so a stalled server cannot hide its queue (no coordinated omission, as in wrk2).
//! Tokio's timer has 1 ms granularity, so a latency may be overstated by up to 1 ms, never
//! understated.
//!
//! usage: onboarding-loadgen --addr 127.0.0.1:3000 --method GET --path /api/onboarding/status
//!        --tokens FILE --rate 10000 --connections 64 --seconds 10 [--body FILE] [--once]
//!
//! `--once` gives each token at most one request (fresh users completing once) and stops when
//! the tokens run out. Prints `RESULT …` on one line. With `LOADGEN_TRACE=FILE` in the
//! environment, also writes each request's due time and latency (µs) to FILE, to see when a
//! tail happened.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
struct Args {
    addr: String,
    method: String,
    path: String,
    /// One ready-to-send request per token, built once (not on the load's hot path).
    requests: Vec<Vec<u8>>,
    body: Option<String>,
    rate: f64,
    connections: usize,
    seconds: f64,
    once: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let get = |name: &str, map: &mut std::collections::HashMap<String, String>| {
        map.remove(name).ok_or_else(|| format!("missing --{name}"))
    };
    let mut map = std::collections::HashMap::new();
    let mut once = false;
    while let Some(flag) = argv.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected {flag:?}"))?;
        if name == "once" {
            once = true;
            continue;
        }
        let value = argv
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        map.insert(name.to_owned(), value);
    }
    let number = |s: String, name: &str| {
        s.parse::<f64>()
            .map_err(|_| format!("--{name}: not a number"))
    };
    let read = |path: String| std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"));
    let tokens: Vec<String> = read(get("tokens", &mut map)?)?
        .lines()
        .map(str::to_owned)
        .collect();
    if tokens.is_empty() {
        return Err("no tokens".into());
    }
    let mut args = Args {
        addr: get("addr", &mut map)?,
        method: get("method", &mut map)?,
        path: get("path", &mut map)?,
        requests: Vec::new(),
        body: map.remove("body").map(read).transpose()?,
        rate: number(get("rate", &mut map)?, "rate")?,
        connections: number(get("connections", &mut map)?, "connections")? as usize,
        seconds: number(get("seconds", &mut map)?, "seconds")?,
        once,
    };
    if let Some(extra) = map.keys().next() {
        return Err(format!("unknown flag --{extra}"));
    }
    if args.rate <= 0.0 || args.connections == 0 || args.seconds <= 0.0 {
        return Err("--rate, --connections and --seconds must be positive".into());
    }
    args.requests = tokens.iter().map(|t| request(&args, t)).collect();
    Ok(args)
}

#[derive(Debug, Default)]
struct Tally {
    /// Latency of each answered request, µs from when it was due.
    latencies: Vec<u64>,
    /// (due, µs after the start; latency, µs) of each answered request, for `--trace`.
    trace: Vec<(u64, u64)>,
    ok: u64,
    created: u64,
    other: u64,
    errors: u64,
}

fn request(args: &Args, token: &str) -> Vec<u8> {
    let mut r = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n",
        args.method, args.path, args.addr
    );
    match &args.body {
        Some(body) => {
            r.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
        }
        None if args.method != "GET" => r.push_str("Content-Length: 0\r\n\r\n"),
        None => r.push_str("\r\n"),
    }
    r.into_bytes()
}

/// Reads one response; returns its status. `buf` keeps bytes of the next response (none here:
/// one request at a time per connection).
async fn response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    buf.clear();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("connection closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("head not UTF-8"))?;
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let mut length = None;
    let mut chunked = false;
    for line in head.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    loop {
        let done = if chunked {
            buf[head_end..].ends_with(b"0\r\n\r\n")
        } else {
            buf.len() >= head_end + length.unwrap_or(0)
        };
        if done {
            return Ok(status);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("connection closed mid-body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn connection(args: Arc<Args>, index: usize, start: Instant, end: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(16384);
    for round in 0u64.. {
        let k = round as usize * args.connections + index;
        if args.once && k >= args.requests.len() {
            break;
        }
        let due = start + Duration::from_secs_f64(k as f64 / args.rate);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let result = async {
            if stream.is_none() {
                let s = TcpStream::connect(&args.addr).await?;
                s.set_nodelay(true)?;
                stream = Some(s);
            }
            let s = stream.as_mut().expect("connected above");
            s.write_all(&args.requests[k % args.requests.len()]).await?;
            response(s, &mut buf).await
        }
        .await;
        match result {
            Ok(status) => {
                let latency = due.elapsed().as_micros() as u64;
                tally.latencies.push(latency);
                tally
                    .trace
                    .push(((due - start).as_micros() as u64, latency));
                match status {
                    201 => {
                        tally.ok += 1;
                        tally.created += 1;
                    }
                    200..=299 => tally.ok += 1,
                    _ => tally.other += 1,
                }
            }
            Err(_) => {
                tally.errors += 1;
                stream = None;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("onboarding-loadgen: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(args.seconds);
    let tasks: Vec<_> = (0..args.connections)
        .map(|i| tokio::spawn(connection(args.clone(), i, start, end)))
        .collect();
    let mut all = Tally::default();
    for t in tasks {
        let Ok(t) = t.await else { continue };
        all.latencies.extend(t.latencies);
        all.trace.extend(t.trace);
        all.ok += t.ok;
        all.created += t.created;
        all.other += t.other;
        all.errors += t.errors;
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Ok(path) = std::env::var("LOADGEN_TRACE") {
        all.trace.sort_unstable();
        let lines: String = all
            .trace
            .iter()
            .map(|(d, l)| format!("{d} {l}\n"))
            .collect();
        if let Err(e) = std::fs::write(&path, lines) {
            eprintln!("onboarding-loadgen: {path}: {e}");
        }
    }
    all.latencies.sort_unstable();
    let answered = all.latencies.len() as f64;
    println!(
        "RESULT ok={} other={} created={} errors={} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} duration_s={:.3} answered_rps={:.1}",
        all.ok,
        all.other,
        all.created,
        all.errors,
        percentile(&all.latencies, 50.0),
        percentile(&all.latencies, 99.0),
        percentile(&all.latencies, 100.0),
        elapsed,
        answered / elapsed,
    );
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 99.0), 0.0);
    }

    /// Two responses on one connection, one with Content-Length and a body that arrives in
    /// pieces, one chunked; each read ends exactly at its response's end.
    #[tokio::test]
    async fn reads_whole_responses_one_at_a_time() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 10\r\n\r\n01234")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.write_all(b"56789").await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.write_all(b"HTTP/1.1 412 Precondition Failed\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                .await
                .unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut buf = Vec::new();
        assert_eq!(response(&mut stream, &mut buf).await.unwrap(), 201);
        assert!(buf.ends_with(b"0123456789"));
        assert_eq!(response(&mut stream, &mut buf).await.unwrap(), 412);
        server.await.unwrap();
        assert!(
            response(&mut stream, &mut buf).await.is_err(),
            "a closed connection is an error"
        );
    }
}
