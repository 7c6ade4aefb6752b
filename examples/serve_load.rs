//! Load on `hotline serve` over loopback: a bounded number of Open311
//! POSTs over a fixed number of keep-alive connections, then stop; prints
//! throughput, latency percentiles, every non-200 answer, and the server's
//! memory before, right after and a while after the load.
//!
//! ```text
//! cargo build --release --features server --bin hotline --example serve_load
//! target/release/examples/serve_load [--requests 50000] [--connections 16] [--seed 1]
//! target/release/examples/serve_load --url http://127.0.0.1:8311 [--pid PID] …
//! ```
//!
//! Without `--url` it starts `hotline serve` itself (the `hotline` binary
//! next to this example's directory) on a fresh journal in a temporary
//! directory, with the default `SyncPolicy::Always` (every response after
//! its `fdatasync`) and the rate limit off (`--rate 0`: one client key
//! sending thousands a second is the point here), and stops it afterwards.
//! Every request is a generated Beijing ticket (the crate's workload
//! generator): its text as `description`, its coordinates as WGS-84
//! `lat`/`long`, or its address as `address_string`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hotline_router::workload::WorkloadBuilder;
use hotline_router::Router;

/// What to run.
#[derive(Debug, Parser)]
#[command(about = "Bounded Open311 POST load on hotline serve")]
struct Args {
    /// POSTs in all.
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// Concurrent keep-alive connections (one thread each).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seed of the generated tickets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A server already running (default: start one).
    #[arg(long)]
    url: Option<String>,
    /// The running server's process id, to read its memory.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// Seconds to wait after the load before the last memory reading.
    #[arg(long, default_value_t = 10)]
    settle: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut started = None;
    let (url, pid) = match &args.url {
        Some(url) => (url.trim_end_matches('/').to_string(), args.pid),
        None => match start_server() {
            Ok((child, url, dir)) => {
                let pid = child.id();
                started = Some((child, dir));
                (url, Some(pid))
            }
            Err(e) => {
                eprintln!("serve_load: starting hotline serve: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let forms = forms(&args);
    let result = run(&args, &url, pid, forms);
    if let Some((mut child, dir)) = started {
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("serve_load: {e}");
            ExitCode::from(2)
        }
    }
}

/// The request bodies, generated before the clock starts.
fn forms(args: &Args) -> Vec<Vec<(&'static str, String)>> {
    let router = Router::beijing();
    let workload = WorkloadBuilder::new(args.seed).build(&router);
    let mut forms = Vec::with_capacity(args.requests);
    'days: for day in 0.. {
        for generated in workload.day(day) {
            let Some(ticket) = generated.into_ticket() else {
                continue;
            };
            let mut form = vec![("description", ticket.text.clone())];
            match (&ticket.coordinates, &ticket.address) {
                (Some(c), _) if c.is_valid() => {
                    let (lon, lat) = c.to_wgs84();
                    form.push(("lat", format!("{lat:.6}")));
                    form.push(("long", format!("{lon:.6}")));
                }
                (_, Some(address)) => form.push(("address_string", address.clone())),
                _ => form.push(("address_string", "北京市".into())),
            }
            forms.push(form);
            if forms.len() == args.requests {
                break 'days;
            }
        }
    }
    forms
}

fn run(
    args: &Args,
    url: &str,
    pid: Option<u32>,
    forms: Vec<Vec<(&'static str, String)>>,
) -> Result<bool, String> {
    let endpoint = format!("{url}/open311/v2/requests.json");
    let before = pid.and_then(rss_kib);
    let forms = Arc::new(forms);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clock = Instant::now();
    let threads: Vec<_> = (0..args.connections)
        .map(|_| {
            let (forms, next, failures, endpoint) = (
                forms.clone(),
                next.clone(),
                failures.clone(),
                endpoint.clone(),
            );
            std::thread::spawn(move || {
                // One client per thread, pool of one: one keep-alive
                // connection each.
                let client = reqwest::blocking::Client::builder()
                    .pool_max_idle_per_host(1)
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("an HTTP client");
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(form) = forms.get(i) else { break };
                    let sent = Instant::now();
                    let answer = client.post(&endpoint).form(form).send();
                    let outcome = match answer {
                        Ok(r) if r.status().is_success() => {
                            r.text().map(|_| ()).map_err(|e| e.to_string())
                        }
                        Ok(r) => Err(format!("{} {}", r.status(), r.text().unwrap_or_default())),
                        Err(e) => Err(e.to_string()),
                    };
                    latencies.push(sent.elapsed());
                    if let Err(e) = outcome {
                        failures.lock().unwrap().push(e);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(forms.len());
    for t in threads {
        latencies.extend(t.join().map_err(|_| "a load thread panicked")?);
    }
    let elapsed = clock.elapsed();
    let after = pid.and_then(rss_kib);
    std::thread::sleep(Duration::from_secs(args.settle));
    let settled = pid.and_then(rss_kib);

    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let failures = failures.lock().unwrap();
    println!(
        "{} POSTs over {} connections in {:.2} s: {:.0} requests/s",
        latencies.len(),
        args.connections,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(latencies[latencies.len() - 1])
    );
    println!("errors: {}", failures.len());
    for f in failures.iter().take(10) {
        println!("  {f}");
    }
    if let (Some(b), Some(a), Some(s)) = (before, after, settled) {
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB right after, {:.1} MiB {} s later",
            b as f64 / 1024.0,
            a as f64 / 1024.0,
            s as f64 / 1024.0,
            args.settle
        );
    }
    Ok(failures.is_empty())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Resident memory of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Starts `hotline serve` on a fresh journal and a free port; returns once
/// it says where it serves.
fn start_server() -> Result<(Child, String, PathBuf), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let hotline = exe
        .parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("hotline"))
        .ok_or("no target directory")?;
    let dir = std::env::temp_dir().join(format!("hotline-serve-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(&hotline)
        .args(["serve", "--addr", "127.0.0.1:0", "--rate", "0", "--journal"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", hotline.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("hotline: serving on ") {
                    break rest.trim_end_matches('/').to_string();
                }
            }
            _ => {
                let _ = child.kill();
                return Err("hotline serve exited before serving".into());
            }
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((child, url, dir))
}
