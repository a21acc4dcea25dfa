//! `rvisor`: the OCI runtime's command line.

mod do_cmd;
mod gofer_cmd;
mod syscalls_cmd;

use std::process::ExitCode;

const USAGE: &str = "usage: rvisor [--debug] <command> [args]

commands:
  do [--platform NAME] [--rootfs DIR] [--cwd DIR] [--env K=V]... [--overlay=memory|none]
     -- CMD [ARG...]
              run CMD sandboxed (default root: the host's /, changes kept in memory;
              --overlay=none writes them through the gofer to the host)
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

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut debug = false;
    while let Some(a) = args.first() {
        match a.as_str() {
            "--debug" => debug = true,
            _ => break,
        }
        args.remove(0);
    }
    let filter = if debug { "debug" } else { "warn" };
    let env = std::env::var("RVISOR_LOG").unwrap_or_else(|_| filter.to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(env))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match args.first().map(String::as_str) {
        Some("platforms") => platforms(),
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
            eprintln!("rvisor: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
