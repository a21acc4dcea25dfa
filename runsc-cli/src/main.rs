//! `rvisor`: the OCI runtime's command line.

mod binds;
mod boot_cmd;
#[allow(dead_code)]
mod cgroup;
mod cli;
mod console;
mod control;
mod create_cmd;
mod do_cmd;
mod events_cmd;
mod exec_cmd;
mod gofer_cmd;
mod hooks;
mod install_cmd;
mod jail;
mod lifecycle;
#[allow(dead_code)]
mod oci;
mod state;
mod syscalls_cmd;

use std::process::ExitCode;

const USAGE: &str = "usage: rvisor [global flags] <command> [args]

global flags (as runc's): --root DIR (default /run/rvisor), --log FILE,
  --log-format text|json, --debug, --systemd-cgroup;
  and --platform seccomp|kvm (default seccomp; see `rvisor platforms`), --overlay memory|none
  (default memory: the container's writes to its root stay in the sandbox; none: they reach
  the bundle's rootfs, as with runc)

container commands (as runc's):
  create --bundle DIR [--pid-file FILE] ID
  start ID
  exec [--process FILE] [--detach] [--pid-file FILE] [-e K=V] [-u UID[:GID]] [--cwd DIR]
       ID [CMD ARG...]
  run [--bundle DIR] [--detach] [--pid-file FILE] ID
  state ID
  kill [--all] ID [SIGNAL]
  delete [--force] ID
  list [--format table|json] [--quiet]
  ps [--format table|json] ID
  pause ID, resume ID
  events [--stats] [--interval 5s] ID
  update [--resources FILE|-] [--memory N[kmg]] [--memory-swap N] [--memory-reservation N]
         [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST]
         [--cpuset-mems LIST] [--pids-limit N] ID
  spec [--bundle DIR]
  features

other commands:
  do [--platform NAME] [--rootfs DIR] [--cwd DIR] [--env K=V]... [--overlay=memory|none]
     -- CMD [ARG...]
              run CMD sandboxed (default root: the host's /, changes kept in memory;
              --overlay=none writes them through the gofer to the host)
  install [--runtime-name NAME] [--config FILE] [-- RUNTIME ARGS...]
              register rvisor in Docker's daemon.json (default /etc/docker/daemon.json)
  uninstall [--runtime-name NAME] [--config FILE]
              remove that runtime from daemon.json
  platforms   list the platforms this host can run, and why not the others
  syscalls [sentry|gofer]
              the host syscalls the Sentry and the gofer may make once confined
  version     print the version
";

fn platforms() -> ExitCode {
    let mut any = false;
    for (name, status) in platform::available() {
        match status {
            Ok(()) => {
                any = true;
                println!("{name}: available");
            }
            Err(why) => println!("{name}: unavailable: {why}"),
        }
    }
    if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs a runc-style command: an error is one line on stderr and in the `--log` file, and
/// exit code 1.
fn runc_style(g: &cli::Global, r: anyhow::Result<i32>) -> ExitCode {
    match r {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            g.report_error(&format!("{e:#}"));
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let g = match cli::global(&mut args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("rvisor: {e:#}");
            return ExitCode::from(1);
        }
    };
    let debug = g.debug;
    let filter = if debug { "debug" } else { "warn" };
    let env = std::env::var("RVISOR_LOG").unwrap_or_else(|_| filter.to_string());
    if args.first().map(String::as_str) == Some("boot") {
        // A sandbox's stderr is its container's: it logs to the runtime's log, if any.
        let file = g.log.as_ref().and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        let b = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(env))
            .with_ansi(false);
        match file {
            // One JSON object per line, as the shim reads the log: its "level" is never
            // "error" for these, so the shim's error is still the CLI's own line.
            Some(f) if g.log_json => b
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(std::sync::Mutex::new(f))
                .init(),
            Some(f) => b.with_writer(std::sync::Mutex::new(f)).init(),
            None => b.with_writer(std::io::sink).init(),
        }
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(env))
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let rest = args.get(1..).unwrap_or(&[]);
    let ok = |r: anyhow::Result<()>| r.map(|()| 0);
    if let Some(
        "state" | "list" | "ps" | "spec" | "features" | "events" | "platforms" | "syscalls"
        | "version" | "--version" | "help" | "--help" | "-h",
    ) = args.first().map(String::as_str)
    {
        // Commands that only print: a reader that goes away (`| head`) ends them quietly,
        // as it ends runc, instead of a panic on EPIPE. (Never the sandbox's own processes:
        // a container's closed stdout must not kill its Sentry.)
        // SAFETY: restores the default action of one signal; no handler is involved.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match args.first().map(String::as_str) {
        Some("create") => runc_style(&g, ok(create_cmd::create_cmd(&g, rest))),
        Some("run") => runc_style(&g, create_cmd::run_cmd(&g, rest)),
        Some("start") => runc_style(&g, ok(lifecycle::start_cmd(&g, rest))),
        Some("exec") => runc_style(&g, exec_cmd::exec_cmd(&g, rest)),
        Some("exec-proxy") => runc_style(&g, exec_cmd::proxy_cmd(&g, rest)),
        Some("state") => runc_style(&g, ok(lifecycle::state_cmd(&g, rest))),
        Some("kill") => runc_style(&g, ok(lifecycle::kill_cmd(&g, rest))),
        Some("delete") => runc_style(&g, ok(lifecycle::delete_cmd(&g, rest))),
        Some("list") => runc_style(&g, ok(lifecycle::list_cmd(&g, rest))),
        Some("ps") => runc_style(&g, ok(lifecycle::ps_cmd(&g, rest))),
        Some("events") => runc_style(&g, ok(events_cmd::events_cmd(&g, rest))),
        Some("update") => runc_style(&g, ok(events_cmd::update_cmd(&g, rest))),
        Some("pause") => runc_style(&g, ok(lifecycle::pause_cmd(&g, rest, true))),
        Some("resume") => runc_style(&g, ok(lifecycle::pause_cmd(&g, rest, false))),
        Some("spec") => runc_style(&g, ok(lifecycle::spec_cmd(rest))),
        Some("features") => {
            println!("{}", oci::features_json());
            ExitCode::SUCCESS
        }
        Some("boot") => match boot_cmd::run(&g, rest) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                eprintln!("rvisor boot: {e:#}");
                ExitCode::from(125)
            }
        },
        Some("platforms") => platforms(),
        Some("install") => match install_cmd::install(rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rvisor install: {e:#}");
                ExitCode::from(1)
            }
        },
        Some("uninstall") => match install_cmd::uninstall(rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rvisor uninstall: {e:#}");
                ExitCode::from(1)
            }
        },
        Some("do") => match do_cmd::run(&args[1..]) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                eprintln!("rvisor do: {e:#}");
                ExitCode::from(125)
            }
        },
        Some("gofer") => match gofer_cmd::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rvisor gofer: {e:#}");
                ExitCode::from(125)
            }
        },
        Some("syscalls") => match syscalls_cmd::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rvisor syscalls: {e:#}");
                ExitCode::from(2)
            }
        },
        Some("--version") | Some("version") => {
            println!("rvisor version {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help") | Some("-h") | Some("help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            // In the log too: the shim shows the last error logged.
            g.report_error(&format!("unknown command {other:?} (see rvisor --help)"));
            ExitCode::from(1)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
