//! The `ddb-harness` command line.
#![forbid(unsafe_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ddb_engine::Engine;
use ddb_harness::background::every;
use ddb_harness::{Faults, Router};

/// mimalloc instead of glibc's allocator: a request allocates and frees many small values
/// (the parsed JSON, the item, the answer), and glibc spent about a tenth of `serve`'s CPU
/// on it under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A DynamoDB emulator and test harness.
#[derive(Debug, Parser)]
#[command(name = "ddb-harness", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the DynamoDB and DynamoDB Streams APIs over HTTP.
    Serve {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1", env = "DDB_HARNESS_HOST")]
        host: IpAddr,
        /// Port to bind (0 picks a free port).
        #[arg(long, default_value_t = 8000, env = "DDB_HARNESS_PORT")]
        port: u16,
        /// Keep data in this directory (created if missing); in memory when absent.
        #[arg(long, env = "DDB_HARNESS_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Seed for generated ids, for reproducible runs.
        #[arg(long)]
        seed: Option<u64>,
        /// Directory standing in for S3 (bucket `b` is `DIR/b/`), read by StartBulkPutItems.
        /// Default: `s3/` in the data dir, or `ddb-harness-s3-<pid>` in the temp dir in memory.
        #[arg(long, env = "DDB_HARNESS_S3_DIR")]
        s3_dir: Option<PathBuf>,
        /// Largest accepted request body in bytes.
        #[arg(long, default_value_t = ddb_harness::protocol::DEFAULT_MAX_BODY)]
        max_body: usize,
        /// Inject faults from this JSON file of rules (see `ddb_harness::Faults::from_json`).
        #[arg(long, env = "DDB_HARNESS_FAULTS")]
        faults: Option<PathBuf>,
        /// Seconds between sweeps that delete expired TTL items (at least 1).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..), env = "DDB_HARNESS_TTL_INTERVAL")]
        ttl_interval: u64,
        /// Never delete expired TTL items (they stay until a request deletes them); overrides
        /// `--ttl-interval`.
        #[arg(long, env = "DDB_HARNESS_NO_TTL_SWEEP")]
        no_ttl_sweep: bool,
        /// Milliseconds a write to a global table takes to reach the other replicas (the
        /// engine applies due replicated writes every 100 ms).
        #[arg(long, default_value_t = 0, env = "DDB_HARNESS_REPLICATION_LAG_MS")]
        replication_lag_ms: u64,
        /// Verify SigV4 signatures against `--credentials` (unknown keys, wrong secrets and
        /// clocks more than 5 minutes off are refused as AWS refuses them).
        #[arg(long, requires = "credentials", env = "DDB_HARNESS_REQUIRE_SIGV4")]
        require_sigv4: bool,
        /// Access keys and secrets for `--require-sigv4`: an AWS shared-credentials INI file
        /// or a JSON object `{"ACCESS_KEY_ID": "secret", ...}`.
        #[arg(long, env = "DDB_HARNESS_CREDENTIALS")]
        credentials: Option<PathBuf>,
        /// The most connections open at once; more clients wait until one closes.
        #[arg(long, default_value_t = ddb_harness::server::Limits::DEFAULT_MAX_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..), env = "DDB_HARNESS_MAX_CONNECTIONS")]
        max_connections: u32,
        /// Seconds one request may take, from its headers to its answer (at least 1).
        #[arg(long, default_value_t = ddb_harness::server::Limits::DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..), env = "DDB_HARNESS_REQUEST_TIMEOUT")]
        request_timeout: u64,
    },
    /// Forward requests to a DynamoDB endpoint and record each exchange in a cassette.
    Proxy {
        /// The endpoint to forward to, e.g. `https://dynamodb.us-east-1.amazonaws.com` (requests
        /// are re-signed with the standard AWS credential chain) or `http://127.0.0.1:8000`.
        #[arg(long)]
        upstream: String,
        /// Directory of cassettes; this session writes `DIR/<session>.json`.
        #[arg(long)]
        record: PathBuf,
        /// Name of the cassette file (without `.json`); `session-<UTC time>` when absent.
        #[arg(long)]
        session: Option<String>,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to bind (0 picks a free port).
        #[arg(long, default_value_t = 8001)]
        port: u16,
        /// Region to sign for (AWS upstreams); defaults to the upstream host's region.
        #[arg(long)]
        region: Option<String>,
        /// What the upstream is, for the cassette header (e.g. `DynamoDB Local 3.3.1`);
        /// `AWS` for `*.amazonaws.com`, otherwise `unknown`, when absent.
        #[arg(long)]
        upstream_version: Option<String>,
    },
    /// Serve recorded responses from a cassette file or a directory of cassettes.
    Replay {
        /// A cassette file or a directory of cassettes.
        dir: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to bind (0 picks a free port).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Requests must come in the recorded order.
        #[arg(long)]
        strict_order: bool,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DDB_HARNESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ddb-harness: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Proxy {
            upstream,
            record,
            session,
            host,
            port,
            region,
            upstream_version,
        } => run_proxy(
            ddb_harness::proxy::ProxyConfig {
                upstream,
                cassette: record.join(format!(
                    "{}.json",
                    session.unwrap_or_else(|| format!(
                        "session-{}",
                        ddb_harness::cassette::now_rfc3339().replace([':', '.'], "-")
                    ))
                )),
                region,
                upstream_version,
            },
            SocketAddr::new(host, port),
        ),
        Command::Replay {
            dir,
            host,
            port,
            strict_order,
        } => run_replay(&dir, SocketAddr::new(host, port), strict_order),
        serve => run_serve(serve),
    }
}

/// `ddb-harness proxy`: records until SIGINT/SIGTERM.
fn run_proxy(config: ddb_harness::proxy::ProxyConfig, addr: SocketAddr) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let upstream = config.upstream.clone();
        let handle = ddb_harness::proxy::start(config, addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "ddb-harness proxy listening on {} -> {upstream}, recording to {}",
            handle.endpoint(),
            handle.cassette().display()
        );
        shutdown_signal().await;
        handle.shutdown().await;
        Ok(())
    })
}

/// `ddb-harness replay`: serves until SIGINT/SIGTERM, then lists unused exchanges.
fn run_replay(dir: &std::path::Path, addr: SocketAddr, strict_order: bool) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let options = ddb_harness::replay::ReplayOptions { strict_order };
        let server = ddb_harness::replay::ReplayServer::start(dir, options, addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "ddb-harness replay listening on {} ({})",
            server.endpoint(),
            dir.display()
        );
        shutdown_signal().await;
        let unused = server.shutdown().await;
        if unused.is_empty() {
            println!("replay: every recorded exchange was used");
        } else {
            println!("replay: {} recorded exchange(s) unused:", unused.len());
            for u in unused {
                println!("  {u}");
            }
        }
        Ok(())
    })
}

/// `ddb-harness serve`.
fn run_serve(command: Command) -> Result<(), String> {
    let Command::Serve {
        host,
        port,
        data_dir,
        seed,
        s3_dir,
        max_body,
        faults,
        ttl_interval,
        no_ttl_sweep,
        replication_lag_ms,
        require_sigv4,
        credentials,
        max_connections,
        request_timeout,
    } = command
    else {
        return Err("not a serve command".into());
    };
    let credentials = match (&credentials, require_sigv4) {
        (Some(path), true) => Some(ddb_harness::protocol::CredentialStore::from_file(path)?),
        (Some(_), false) => {
            return Err("--credentials is only used with --require-sigv4".into());
        }
        _ => None,
    };
    if !host.is_loopback() {
        let auth = if require_sigv4 {
            "SigV4 signatures are verified"
        } else {
            "any client can read and write every table (add --require-sigv4 --credentials FILE)"
        };
        eprintln!(
            "ddb-harness: warning: listening on {host}, reachable from other machines; {auth}"
        );
        tracing::warn!(%host, sigv4 = require_sigv4, "serving on a non-loopback address");
    }
    let faults = match &faults {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Some(Faults::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let mut builder = Engine::builder();
    if let Some(dir) = &data_dir {
        builder = builder.data_dir(dir);
    }
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let s3_dir = s3_dir.unwrap_or_else(|| match &data_dir {
        Some(d) => d.join("s3"),
        None => std::env::temp_dir().join(format!("ddb-harness-s3-{}", std::process::id())),
    });
    builder = builder.s3_dir(&s3_dir);
    let engine = builder.build().map_err(|e| e.to_string())?;
    let engine = Arc::new(engine);
    engine
        .set_replication_lag(std::time::Duration::from_millis(replication_lag_ms))
        .map_err(|e| e.to_string())?;
    // The periodic jobs end when the engine does.
    let jobs = Arc::downgrade(&engine);
    let mut router = Router::new(engine.clone()).with_max_body(max_body);
    if let Some(store) = credentials {
        tracing::info!(access_keys = store.len(), "SigV4 signatures are verified");
        router = router.with_credentials(store);
    }
    let limits = ddb_harness::server::Limits {
        max_connections: max_connections as usize,
        request_timeout: std::time::Duration::from_secs(request_timeout),
    };
    if let Some(faults) = faults {
        tracing::info!(rules = faults.rules().len(), "fault injection is on");
        router = router.with_faults(faults);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let handle =
            ddb_harness::server::bind_with_limits(SocketAddr::new(host, port), router, limits)
                .await
                .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
        let storage = match &data_dir {
            Some(d) => format!("data dir {}", d.display()),
            None => "in memory".to_string(),
        };
        tracing::info!(endpoint = %handle.endpoint(), %storage, "ddb-harness is serving DynamoDB");
        println!("ddb-harness listening on {} ({storage})", handle.endpoint());
        // Every minute, forget streams closed more than 24 hours ago and trim records past the
        // 24-hour retention from idle streams, so stream storage stays bounded.
        tokio::spawn(every(
            jobs.clone(),
            Duration::from_secs(60),
            "stream purge",
            Engine::purge_streams,
            |n| {
                if n > 0 {
                    tracing::info!(streams = n, "forgot streams closed over 24 hours ago");
                }
            },
        ));
        if no_ttl_sweep {
            tracing::info!("TTL sweep is off");
        } else {
            // AWS deletes expired items "within a few days"; a short period (`--ttl-interval`)
            // keeps interactive use predictable. Tests use `Fixture::advance` instead.
            tokio::spawn(every(
                jobs.clone(),
                Duration::from_secs(ttl_interval),
                "TTL sweep",
                Engine::expire_ttl,
                |n| {
                    if n > 0 {
                        tracing::info!(expired = n, "TTL sweep deleted expired items");
                    }
                },
            ));
        }
        tracing::info!(s3_dir = %s3_dir.display(), "bulk operations read this S3 directory");
        tokio::spawn(every(
            jobs.clone(),
            Duration::from_secs(1),
            "bulk operation step",
            Engine::run_pending_bulk,
            drop,
        ));
        tokio::spawn(ddb_harness::background::replicate(jobs));
        shutdown_signal().await;
        tracing::info!("shutting down");
        handle.shutdown().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
