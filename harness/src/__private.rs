//! Support code for `#[ddb_test]`. Not a stable API: only the macro calls it.

use std::future::Future;
use std::path::Path;

use crate::definitions::Syntax;
use crate::fixture::{Fixture, TARGET_ENV, Target};

/// Options the macro parsed; file contents are embedded with `include_str!`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TestOptions {
    /// Tables in the CreateTable shape: (path as written, contents); the path's extension
    /// picks JSON or YAML.
    pub tables: Option<(&'static str, &'static str)>,
    /// Seed items: (path as written, contents), as for `tables`.
    pub items: Option<(&'static str, &'static str)>,
    /// Manual clock start (RFC 3339).
    pub clock: Option<&'static str>,
    /// Id seed.
    pub seed: Option<u64>,
    /// Fault injection rules JSON.
    pub faults: Option<&'static str>,
    /// The test's path (`module::name`); leads table-name prefixes on endpoint targets.
    pub name: Option<&'static str>,
}

/// What a `#[ddb_test]` function may take: the fixture itself, or its client.
#[diagnostic::on_unimplemented(
    message = "`#[ddb_test]` functions take a `ddb_harness::Fixture` or an `aws_sdk_dynamodb::Client`, not `{Self}`"
)]
pub trait TestArg: Sized {
    /// Extracts the argument from the fixture.
    fn from_fixture(fixture: &Fixture) -> Self;
}

impl TestArg for Fixture {
    fn from_fixture(fixture: &Fixture) -> Self {
        fixture.clone()
    }
}

impl TestArg for aws_sdk_dynamodb::Client {
    fn from_fixture(fixture: &Fixture) -> Self {
        fixture.client().clone()
    }
}

/// Fails to compile unless `A` is a valid `#[ddb_test]` argument (used outside `cfg(test)`).
pub fn check_arg<A: TestArg>() {}

/// What a `#[ddb_test]` function may return.
#[diagnostic::on_unimplemented(
    message = "`#[ddb_test]` functions return `()` or `Result<(), E>` with `E: Debug`"
)]
pub trait TestOutput {
    /// Panics (fails the test) on an error.
    fn check(self);
}

impl TestOutput for () {
    fn check(self) {}
}

impl<E: std::fmt::Debug> TestOutput for Result<(), E> {
    fn check(self) {
        if let Err(e) = self {
            panic!("test returned an error: {e:?}");
        }
    }
}

/// Builds the fixture, runs the test body on a fresh single-threaded runtime, checks the result.
pub fn run_test<A, F, Fut>(options: TestOptions, test: F)
where
    A: TestArg,
    F: FnOnce(A) -> Fut,
    Fut: Future + 'static,
    Fut::Output: TestOutput + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime for the test: {e}"));
    let target = Target::from_env().unwrap_or_else(|e| panic!("fixture: {e}"));
    if !target.is_memory() {
        let endpoint = &target;
        let needs = [(options.clock, "`clock`"), (options.faults, "`faults`")];
        if let Some((_, option)) = needs.iter().find(|(v, _)| v.is_some()) {
            println!(
                "test {} skipped: {option} needs the in-memory target, and {TARGET_ENV} is {endpoint}",
                options.name.unwrap_or("?")
            );
            return;
        }
    }
    runtime.block_on(async move {
        let mut builder = Fixture::builder().target(target);
        if let Some(n) = options.name {
            builder = builder.name(n);
        }
        if let Some((path, text)) = options.tables {
            builder = match Syntax::of_path(Path::new(path)) {
                Syntax::Yaml => builder.table_yaml(text),
                Syntax::Json => builder.table_json(text),
            };
        }
        if let Some((path, text)) = options.items {
            builder = match Syntax::of_path(Path::new(path)) {
                Syntax::Yaml => builder.items_yaml(text),
                Syntax::Json => builder.items_json(text),
            };
        }
        if let Some(c) = options.clock {
            builder = builder.clock(c);
        }
        if let Some(s) = options.seed {
            builder = builder.seed(s);
        }
        if let Some(f) = options.faults {
            builder = builder.faults_json(f);
        }
        let fixture = builder
            .build()
            .await
            .unwrap_or_else(|e| panic!("fixture: {e}"));
        // The test runs as a task so that a panic (a failed assertion) comes back here, and
        // tables on a shared target are deleted before the outcome is reported.
        let tasks = tokio::task::LocalSet::new();
        let body = test(A::from_fixture(&fixture));
        let outcome = tasks
            .run_until(async move { tokio::task::spawn_local(body).await })
            .await;
        let cleanup = fixture.cleanup().await;
        match outcome {
            Ok(output) => output.check(),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("test task failed: {e}"),
            },
        }
        if let Err(e) = cleanup {
            panic!("fixture cleanup: {e}");
        }
    });
}
