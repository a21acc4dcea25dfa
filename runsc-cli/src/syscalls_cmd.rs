//! `rvisor syscalls [sentry|gofer]`: the host syscalls the Sentry and the gofer may make
//! once confined, as their seccomp filters allow them (anything else kills the process).
//! The gofer's list depends on its mode: read-only (the default overlay root) or writable
//! (`rvisor do --overlay=none`), which adds the calls that change files.

use std::fmt::Write as _;
use std::io::Write as _;

use gofer::seccomp::Allowed;

fn list_text(out: &mut String, title: &str, list: &[Allowed]) {
    let _ = writeln!(
        out,
        "{title} ({} syscalls; anything else kills it):",
        list.len()
    );
    list_entries(out, list);
}

fn list_entries(out: &mut String, list: &[Allowed]) {
    for a in list {
        let cond = if a.only.is_some() {
            " [arguments checked]"
        } else {
            ""
        };
        let _ = writeln!(out, "  {:<20} {}{cond}", a.name, a.why);
    }
}

/// Prints the lists asked for (both by default).
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    let (sentry, gofer) = match which {
        "all" => (true, true),
        "sentry" => (true, false),
        "gofer" => (false, true),
        other => anyhow::bail!("unknown list {other:?}: want sentry or gofer"),
    };
    let mut out = String::new();
    if sentry {
        list_text(&mut out, "sentry", sentry::confine::allowed());
        for (name, _) in sentry::confine::REFUSED {
            let _ = writeln!(
                out,
                "  {name:<20} refused with EACCES (never opens a host path)"
            );
        }
        let _ = writeln!(
            out,
            "sentry with --overlay=none adds ({} syscalls):",
            sentry::confine::WRITE_THROUGH.len()
        );
        list_entries(&mut out, sentry::confine::WRITE_THROUGH);
        let _ = writeln!(
            out,
            "sentry on the kvm platform adds ({} syscall, its own arguments):",
            sentry::confine::KVM.len()
        );
        list_entries(&mut out, sentry::confine::KVM);
    }
    if gofer {
        if sentry {
            out.push('\n');
        }
        list_text(&mut out, "gofer, read-only", gofer::seccomp::READ_ONLY);
        let _ = writeln!(
            out,
            "gofer, writable (--overlay=none) adds ({} syscalls):",
            gofer::seccomp::WRITES.len()
        );
        list_entries(&mut out, gofer::seccomp::WRITES);
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}
