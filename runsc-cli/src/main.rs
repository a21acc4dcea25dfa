//! `rvisor`: the OCI runtime's command line.

use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: rvisor <command>\n\ncommands:\n  platforms   list the platforms this host can run, and why not the others\n"
}

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("platforms") => platforms(),
        Some("--version") | Some("version") => {
            println!("rvisor version {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("rvisor: unknown command {other:?}\n{}", usage());
            ExitCode::from(2)
        }
        None => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}
