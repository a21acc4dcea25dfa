//! /proc/PID and /proc/PID/task/TID.

use std::fmt::Write as _;
use std::sync::Arc;

use super::{system, Found, Node, ProcessView, DT_DIR, DT_LNK, DT_REG};
use crate::errno::Errno;
use crate::fs::OpenFile;
use crate::kernel::Task;
use crate::mm::{Backing, MemoryManager};

/// Entries of a process (and thread) directory.
const ENTRIES: &[(&[u8], u8)] = &[
    (b"cgroup", DT_REG),
    (b"cmdline", DT_REG),
    (b"comm", DT_REG),
    (b"cwd", DT_LNK),
    (b"environ", DT_REG),
    (b"exe", DT_LNK),
    (b"fd", DT_DIR),
    (b"fdinfo", DT_DIR),
    (b"gid_map", DT_REG),
    (b"limits", DT_REG),
    (b"maps", DT_REG),
    (b"mountinfo", DT_REG),
    (b"mounts", DT_REG),
    (b"net", DT_DIR),
    (b"oom_adj", DT_REG),
    (b"oom_score", DT_REG),
    (b"oom_score_adj", DT_REG),
    (b"root", DT_LNK),
    (b"setgroups", DT_REG),
    (b"smaps", DT_REG),
    (b"stat", DT_REG),
    (b"statm", DT_REG),
    (b"status", DT_REG),
    (b"task", DT_DIR),
    (b"uid_map", DT_REG),
];

fn file(s: impl Into<Vec<u8>>) -> Result<Found, Errno> {
    Ok(Found::new(Node::File(s.into()), 0, 0o444))
}

fn dir(e: Vec<(Vec<u8>, u8)>) -> Result<Found, Errno> {
    Ok(Found::new(Node::Dir(e), 0, 0o555))
}

fn link(s: &[u8]) -> Result<Found, Errno> {
    Ok(Found::new(Node::Link(s.to_vec()), 0, 0o777))
}

/// The node at `rest` under /proc/`pid` (a process or, under task/, one of its threads).
pub fn node(t: &Task, v: &ProcessView, pid: i32, rest: &[&[u8]]) -> Result<Found, Errno> {
    match rest {
        [] => dir(ENTRIES.iter().map(|(n, d)| (n.to_vec(), *d)).collect()),
        [b"task"] => {
            let tids: Vec<(Vec<u8>, u8)> = threads(v)
                .iter()
                .map(|t| (t.to_string().into_bytes(), DT_DIR))
                .collect();
            dir(tids)
        }
        [b"task", tid, more @ ..] => {
            let tid: i32 = parse(tid)?;
            if !threads(v).contains(&tid) {
                return Err(Errno::ENOENT);
            }
            match more {
                [] => dir(ENTRIES
                    .iter()
                    .filter(|(n, _)| *n != b"task")
                    .map(|(n, d)| (n.to_vec(), *d))
                    .collect()),
                [b"task", ..] => Err(Errno::ENOENT),
                _ => leaf(t, v, tid, more),
            }
        }
        _ => leaf(t, v, pid, rest),
    }
}

fn parse(s: &[u8]) -> Result<i32, Errno> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(Errno::ENOENT)
}

/// oom_score_adj (-1000..=1000), or the older oom_adj (-17..=15, scaled), of the process:
/// what it is, and a write sets it. Without CAP_SYS_RESOURCE (the opener's), oom_score_adj
/// may not go below the last value set with it (Linux's oom_score_adj_min), oom_adj not
/// below the value now.
fn oom_adjust(t: &Task, v: &ProcessView, legacy: bool) -> Result<Found, Errno> {
    let adj = v.tg.lock().oom_score_adj;
    let shown = match (legacy, adj) {
        (false, a) => a,
        (true, 1000) => 15,
        (true, a) => a * 17 / 1000,
    };
    let may_lower = t.creds.has_cap(crate::kernel::creds::CAP_SYS_RESOURCE);
    let tg = Arc::downgrade(&v.tg);
    let set: super::Setter = Arc::new(move |data: &[u8]| {
        let n: i32 = std::str::from_utf8(data)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or(Errno::EINVAL)?;
        let new = match (legacy, n) {
            (false, n) if (-1000..=1000).contains(&n) => n,
            (true, 15) => 1000,
            (true, -17) => -1000,
            (true, n) if (-17..15).contains(&n) => n * 1000 / 17,
            _ => return Err(Errno::EINVAL),
        };
        let tg = tg.upgrade().ok_or(Errno::ESRCH)?;
        let mut st = tg.lock();
        // The old file compares with the value itself; the new one with the floor.
        let floor = if legacy {
            st.oom_score_adj
        } else {
            st.oom_score_adj_min
        };
        if new < floor && !may_lower {
            return Err(Errno::EACCES);
        }
        st.oom_score_adj = new;
        if may_lower && !legacy {
            st.oom_score_adj_min = new;
        }
        Ok(())
    });
    let shown = format!("{shown}\n").into_bytes();
    Ok(Found::new(Node::Tunable(shown, set), 0, 0o644))
}

/// uid_map, gid_map or setgroups of the sandbox's user namespace (user_namespaces(7)):
/// written once, before the first process ran, so every write is EPERM, as Linux answers
/// a second write.
fn id_map(shown: String) -> Result<Found, Errno> {
    let set: super::Setter = Arc::new(|_: &[u8]| Err(Errno::EPERM));
    Ok(Found::new(Node::Tunable(shown.into_bytes(), set), 0, 0o644))
}

/// setgroups of the sandbox's user namespace: "allow" (its gid_map was written by a
/// privileged runtime). Writing "allow" again succeeds; "deny" is EPERM once a gid_map is
/// written; anything else is EINVAL.
fn setgroups() -> Result<Found, Errno> {
    let set: super::Setter = Arc::new(|data: &[u8]| {
        let is = |word: &[u8]| {
            data.strip_prefix(word)
                .is_some_and(|rest| rest.iter().all(u8::is_ascii_whitespace))
        };
        if is(b"allow") {
            Ok(())
        } else if is(b"deny") {
            Err(Errno::EPERM)
        } else {
            Err(Errno::EINVAL)
        }
    });
    Ok(Found::new(
        Node::Tunable(b"allow\n".to_vec(), set),
        0,
        0o644,
    ))
}

fn threads(v: &ProcessView) -> Vec<i32> {
    v.tg.lock().threads.keys().copied().collect()
}

fn descriptors(v: &ProcessView) -> Vec<(i32, Arc<OpenFile>)> {
    v.fds
        .as_ref()
        .map(|f| f.lock().unwrap_or_else(|e| e.into_inner()).entries())
        .unwrap_or_default()
}

/// fd/ or fdinfo/: one entry of type `dt` per descriptor, listed when read.
fn live_fd_dir(v: &ProcessView, dt: u8) -> Result<Found, Errno> {
    let fds = v.fds.as_ref().map(Arc::downgrade);
    let list: super::Lister = Box::new(move || {
        let Some(fds) = fds.as_ref().and_then(std::sync::Weak::upgrade) else {
            return Vec::new();
        };
        let table = fds.lock().unwrap_or_else(|e| e.into_inner());
        table
            .entries()
            .iter()
            .map(|(n, _)| (n.to_string().into_bytes(), dt))
            .collect()
    });
    Ok(Found::new(Node::LiveDir(list), 0, 0o500))
}

/// What readlink shows for a descriptor: its path, with " (deleted)" once a regular file
/// or directory has no links left (unlinked, or made by O_TMPFILE or memfd_create).
fn fd_target(f: &OpenFile) -> Vec<u8> {
    let st = f.ops.stat().ok();
    if let Some(p) = f.path.get() {
        let gone = st.is_some_and(|s| {
            s.nlink == 0 && matches!(s.mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR)
        });
        return if gone {
            [&p[..], b" (deleted)"].concat()
        } else {
            p.clone()
        };
    }
    let ino = st.map_or(0, |s| s.ino);
    match st.map_or(0, |s| s.mode & libc::S_IFMT) {
        libc::S_IFIFO => format!("pipe:[{ino}]").into_bytes(),
        libc::S_IFSOCK => format!("socket:[{ino}]").into_bytes(),
        libc::S_IFCHR => b"/dev/null".to_vec(),
        _ => b"anon_inode:[unknown]".to_vec(),
    }
}

fn leaf(t: &Task, v: &ProcessView, id: i32, rest: &[&[u8]]) -> Result<Found, Errno> {
    match rest {
        [b"fd"] => live_fd_dir(v, DT_LNK),
        [b"fd", n] => {
            let n = parse(n)?;
            let (_, f) = descriptors(v)
                .into_iter()
                .find(|(fd, _)| *fd == n)
                .ok_or(Errno::ENOENT)?;
            let mut found = Found::new(Node::Fd(fd_target(&f), f), 0, 0o700);
            found.perm = 0o700;
            Ok(found)
        }
        [b"fdinfo"] => live_fd_dir(v, DT_REG),
        [b"fdinfo", n] => {
            let n = parse(n)?;
            let (_, f) = descriptors(v)
                .into_iter()
                .find(|(fd, _)| *fd == n)
                .ok_or(Errno::ENOENT)?;
            let pos = *f.offset.lock().unwrap_or_else(|e| e.into_inner());
            let flags = f.flags.load(std::sync::atomic::Ordering::Relaxed);
            let ino = f.ops.stat().map_or(0, |s| s.ino);
            file(format!(
                "pos:\t{pos}\nflags:\t{flags:07o}\nmnt_id:\t1\nino:\t{ino}\n"
            ))
        }
        [b"net", more @ ..] => system::net(more),
        [name] => leaf_file(t, v, id, name),
        _ => Err(Errno::ENOENT),
    }
}

fn comm_str(v: &ProcessView) -> String {
    let n = v.comm.iter().position(|&b| b == 0).unwrap_or(16);
    String::from_utf8_lossy(&v.comm[..n]).into_owned()
}

fn leaf_file(t: &Task, v: &ProcessView, id: i32, name: &[u8]) -> Result<Found, Errno> {
    match name {
        b"cwd" => link(&v.cwd),
        b"exe" => link(&v.exe),
        b"root" => link(b"/"),
        b"comm" => file(format!("{}\n", comm_str(v))),
        b"cmdline" => file(arg_bytes(v, true)),
        b"environ" => {
            let mut f = Found::new(Node::File(arg_bytes(v, false)), 0, 0o400);
            f.perm = 0o400;
            Ok(f)
        }
        b"status" => file(status(t, v, id)),
        b"stat" => file(stat(t, v, id)),
        b"statm" => {
            let (size, rss, text, data) = mem_pages(v);
            file(format!("{size} {rss} 0 {text} 0 {data} 0\n"))
        }
        b"maps" => file(maps(v, false)),
        b"smaps" => file(maps(v, true)),
        b"mounts" => file(system::mounts(&t.mounts())),
        b"mountinfo" => file(system::mountinfo(&t.mounts())),
        b"limits" => file(limits(v)),
        b"cgroup" => file("0::/\n"),
        b"oom_score" => file("0\n"),
        b"oom_score_adj" => oom_adjust(t, v, false),
        b"oom_adj" => oom_adjust(t, v, true),
        b"uid_map" => id_map(t.kernel.ids.uid.proc_lines()),
        b"gid_map" => id_map(t.kernel.ids.gid.proc_lines()),
        b"setgroups" => setgroups(),
        _ => Err(Errno::ENOENT),
    }
}

/// The argv (or envp) strings from the process's initial stack.
fn arg_bytes(v: &ProcessView, args: bool) -> Vec<u8> {
    let Some(mm) = &v.mm else {
        return Vec::new();
    };
    let mut mm = mm.lock().unwrap_or_else(|e| e.into_inner());
    let (start, end) = if args { mm.arg_range } else { mm.env_range };
    let len = end.saturating_sub(start).min(1 << 20) as usize;
    let mut b = vec![0u8; len];
    if mm.copy_in(start, &mut b).is_err() {
        return Vec::new();
    }
    b
}

/// (size, resident, text, data) in pages.
fn mem_pages(v: &ProcessView) -> (u64, u64, u64, u64) {
    let Some(mm) = &v.mm else {
        return (0, 0, 0, 0);
    };
    let mm = mm.lock().unwrap_or_else(|e| e.into_inner());
    let size = mm.mapped_bytes() / 4096;
    let rss = mm.resident_pages() as u64;
    let (mut text, mut data) = (0, 0);
    for vma in mm.vmas() {
        let pages = (vma.end - vma.start) / 4096;
        if vma.prot.exec {
            text += pages;
        } else if vma.prot.write && !vma.shared() {
            data += pages;
        }
    }
    (size, rss, text, data)
}

fn state_letter(v: &ProcessView) -> (&'static str, &'static str) {
    let st = v.tg.lock();
    if st.exit_status.is_some() {
        ("Z", "zombie")
    } else if st.stopped {
        ("T", "stopped")
    } else {
        ("S", "sleeping")
    }
}

fn status(t: &Task, v: &ProcessView, id: i32) -> String {
    let (pgid, sid, ppid, nthreads, nnp) = {
        let st = v.tg.lock();
        (
            st.pgid,
            st.sid,
            st.parent.as_ref().map_or(0, |p| p.tgid),
            st.threads.len().max(1),
            st.no_new_privs,
        )
    };
    let (letter, word) = if id == t.tid {
        ("R", "running")
    } else {
        state_letter(v)
    };
    let c = &v.creds;
    let (size, rss, text, data) = mem_pages(v);
    let kb = |p: u64| p * 4;
    let groups: Vec<String> = c.groups.iter().map(u32::to_string).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{letter} ({word})\nTgid:\t{}\nNgid:\t0\nPid:\t{id}\n\
         PPid:\t{ppid}\nTracerPid:\t0\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t64\n\
         Groups:\t{}\nNStgid:\t{}\nNSpid:\t{id}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\n",
        comm_str(v),
        v.umask,
        v.tg.tgid,
        c.ruid,
        c.euid,
        c.suid,
        c.fsuid,
        c.rgid,
        c.egid,
        c.sgid,
        c.fsgid,
        groups.join(" "),
        v.tg.tgid,
    );
    let _ = write!(
        s,
        "VmPeak:\t{0} kB\nVmSize:\t{0} kB\nVmLck:\t0 kB\nVmPin:\t0 kB\nVmHWM:\t{1} kB\n\
         VmRSS:\t{1} kB\nRssAnon:\t{1} kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\nVmData:\t{2} kB\n\
         VmStk:\t132 kB\nVmExe:\t{3} kB\nVmLib:\t0 kB\nVmPTE:\t0 kB\nVmSwap:\t0 kB\n",
        kb(size),
        kb(rss),
        kb(data),
        kb(text),
    );
    let ignored_caught = {
        let st = v.tg.lock();
        let mut ign = 0u64;
        let mut cgt = 0u64;
        for (i, a) in st.actions.iter().enumerate() {
            if a.handler == crate::kernel::SIG_IGN {
                ign |= 1 << i;
            } else if a.handler != crate::kernel::SIG_DFL {
                cgt |= 1 << i;
            }
        }
        (ign, cgt)
    };
    let shared = v.tg.sig.pending.load(std::sync::atomic::Ordering::Relaxed);
    let _ = write!(
        s,
        "Threads:\t{nthreads}\nSigQ:\t0/63704\nSigPnd:\t{:016x}\nShdPnd:\t{shared:016x}\n\
         SigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCapInh:\t{:016x}\n\
         CapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\n\
         NoNewPrivs:\t{}\nSeccomp:\t0\nSeccomp_filters:\t0\n\
         Speculation_Store_Bypass:\tthread vulnerable\nCpus_allowed:\t3\n\
         Cpus_allowed_list:\t0-1\nMems_allowed:\t1\nMems_allowed_list:\t0\n\
         voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
        v.pending,
        v.sigmask,
        ignored_caught.0,
        ignored_caught.1,
        c.caps.inheritable,
        c.caps.permitted,
        c.caps.effective,
        c.caps.bounding,
        c.caps.ambient,
        u8::from(nnp),
    );
    s
}

fn stat(t: &Task, v: &ProcessView, id: i32) -> String {
    let (pgid, sid, ppid, nthreads, cpu) = {
        let st = v.tg.lock();
        (
            st.pgid,
            st.sid,
            st.parent.as_ref().map_or(0, |p| p.tgid),
            st.threads.len().max(1),
            st.cpu_base,
        )
    };
    let letter = if id == t.tid { "R" } else { state_letter(v).0 };
    let (size, rss, _, _) = mem_pages(v);
    let (start_code, end_code, start_stack, brk_start, brk, args, env) = match &v.mm {
        Some(mm) => {
            let mm = mm.lock().unwrap_or_else(|e| e.into_inner());
            let code = mm
                .vmas()
                .find(|x| x.prot.exec)
                .map_or((0, 0), |x| (x.start, x.end));
            (
                code.0,
                code.1,
                mm.stack_top,
                mm.brk_start,
                mm.brk,
                mm.arg_range,
                mm.env_range,
            )
        }
        None => (0, 0, 0, 0, 0, (0, 0), (0, 0)),
    };
    let ticks = cpu.as_millis() as u64 / 10;
    format!(
        "{id} ({}) {letter} {ppid} {pgid} {sid} 0 -1 4194304 0 0 0 0 {ticks} 0 0 0 20 0 \
         {nthreads} 0 0 {} {rss} 18446744073709551615 {start_code} {end_code} {start_stack} \
         0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 {brk_start} {brk} {} {} {} {} 0\n",
        comm_str(v),
        size * 4096,
        args.0,
        args.1,
        env.0,
        env.1,
    )
}

fn perms(vma: &crate::mm::Vma) -> String {
    format!(
        "{}{}{}{}",
        if vma.prot.read { 'r' } else { '-' },
        if vma.prot.write { 'w' } else { '-' },
        if vma.prot.exec { 'x' } else { '-' },
        if vma.shared() { 's' } else { 'p' },
    )
}

fn maps(v: &ProcessView, smaps: bool) -> String {
    let Some(mm) = &v.mm else {
        return String::new();
    };
    let mm = mm.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = String::new();
    for vma in mm.vmas() {
        let (offset, name) = match &vma.backing {
            Backing::Anon => (0, vma.label.map(str::to_string).unwrap_or_default()),
            Backing::File { file, offset } => (*offset, file.name()),
            Backing::Shared { offset, file, .. } => (
                *offset,
                file.as_ref()
                    .map(|f| f.name())
                    .or(vma.label.map(str::to_string))
                    .unwrap_or_else(|| "/dev/zero (deleted)".into()),
            ),
        };
        let stack = if vma.grows_down { "[stack]" } else { "" };
        let name = if name.is_empty() {
            stack.to_string()
        } else {
            name
        };
        let line = format!(
            "{:08x}-{:08x} {} {:08x} 00:00 0",
            vma.start,
            vma.end,
            perms(vma),
            offset
        );
        if name.is_empty() {
            let _ = writeln!(s, "{line}");
        } else {
            let _ = writeln!(s, "{line:<73}{name}");
        }
        if smaps {
            smaps_entry(&mut s, &mm, vma);
        }
    }
    s
}

fn smaps_entry(s: &mut String, mm: &MemoryManager, vma: &crate::mm::Vma) {
    let size = (vma.end - vma.start) / 1024;
    let resident = (vma.start..vma.end)
        .step_by(4096)
        .filter(|&a| mm.resident(a))
        .count() as u64
        * 4;
    let anon = if vma.shared() { 0 } else { resident };
    let _ = write!(
        s,
        "Size:           {size:>8} kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n\
         Rss:            {resident:>8} kB\nPss:            {resident:>8} kB\n\
         Shared_Clean:          0 kB\nShared_Dirty:          0 kB\n\
         Private_Clean:         0 kB\nPrivate_Dirty:  {resident:>8} kB\n\
         Referenced:     {resident:>8} kB\nAnonymous:      {anon:>8} kB\nLazyFree:              0 kB\n\
         AnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\nFilePmdMapped:         0 kB\n\
         Shared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\nSwap:                  0 kB\n\
         SwapPss:               0 kB\nLocked:                0 kB\nTHPeligible:    0\n\
         VmFlags: {}{}{}{}\n",
        if vma.prot.read { "rd " } else { "" },
        if vma.prot.write { "wr " } else { "" },
        if vma.prot.exec { "ex " } else { "" },
        if vma.shared() { "sh mr mw me ms" } else { "mr mw me" },
    );
}

fn limits(v: &ProcessView) -> String {
    const NAMES: [(&str, usize, &str); 16] = [
        ("Max cpu time", 0, "seconds"),
        ("Max file size", 1, "bytes"),
        ("Max data size", 2, "bytes"),
        ("Max stack size", 3, "bytes"),
        ("Max core file size", 4, "bytes"),
        ("Max resident set", 5, "bytes"),
        ("Max processes", 6, "processes"),
        ("Max open files", 7, "files"),
        ("Max locked memory", 8, "bytes"),
        ("Max address space", 9, "bytes"),
        ("Max file locks", 10, "locks"),
        ("Max pending signals", 11, "signals"),
        ("Max msgqueue size", 12, "bytes"),
        ("Max nice priority", 13, ""),
        ("Max realtime priority", 14, ""),
        ("Max realtime timeout", 15, "us"),
    ];
    let r = v.tg.lock().rlimits;
    let show = |x: u64| {
        if x == u64::MAX {
            "unlimited".to_string()
        } else {
            x.to_string()
        }
    };
    let mut s = format!(
        "{:<26}{:<21}{:<21}{:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    for (name, i, unit) in NAMES {
        let _ = writeln!(
            s,
            "{name:<26}{:<21}{:<21}{unit:<10}",
            show(r[i].0),
            show(r[i].1)
        );
    }
    s
}
