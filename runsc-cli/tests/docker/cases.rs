//! The Docker cases, each run with runc first and then with rvisor.

use super::*;

pub(crate) type Case = fn(&Dockerd, &str) -> Result<(), String>;

pub(crate) const CASES: &[(&str, Case)] = &[
    ("exit code and output", exit_code),
    ("stdin (-i)", stdin),
    ("environment (-e)", env),
    ("working directory (-w)", workdir),
    ("user (-u 1000:1000)", user),
    ("docker exec", exec),
    ("docker top", top),
    ("docker stop: SIGTERM reaches a trap", stop),
    ("docker kill -s", kill_signal),
    ("docker logs: stdout and stderr", logs),
    ("docker rm -f of a running container", rm_force),
    ("terminal (-t)", tty),
    ("20 docker runs in parallel", parallel),
    // Beyond the first list: what most images expect of Docker's spec.
    (
        "Docker's bind mounts: /etc/hostname, /etc/hosts, /etc/resolv.conf",
        etc_files,
    ),
    ("Docker's /dev (a tmpfs) has the standard devices", dev),
    ("Docker's capability set", capabilities),
    ("the image's own /tmp", image_tmp),
    ("host bind mount (-v)", volume),
    ("Debian image: bash and python3", debian),
];

pub(crate) fn exit_code(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    expect(&o, 3, "out\n")?;
    if o.stderr != "err\n" {
        return Err(format!("expected stderr \"err\\n\"\n{o}"));
    }
    Ok(())
}

pub(crate) fn stdin(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm_in(
        rt,
        &["-i"],
        "busybox",
        &["sh", "-c", "tr a-z A-Z; echo end"],
        Some(b"hello stdin\nsecond line\n"),
    );
    expect(&o, 0, "HELLO STDIN\nSECOND LINE\nend\n")
}

pub(crate) fn env(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-e", "FOO=bar baz", "-e", "EMPTY="],
        "busybox",
        &["sh", "-c", "echo \"[$FOO][$EMPTY][$PATH][$HOME]\""],
    );
    expect(
        &o,
        0,
        "[bar baz][][/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin][/root]\n",
    )
}

pub(crate) fn workdir(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-w", "/srv/work"],
        "busybox",
        &["sh", "-c", "pwd; echo x > f && ls"],
    );
    expect(&o, 0, "/srv/work\nf\n")
}

pub(crate) fn user(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-u", "1000:1000"],
        "busybox",
        &[
            "sh",
            "-c",
            "id; echo x > /tmp/mine && stat -c %u:%g /tmp/mine; \
             echo x > /root/f 2>/dev/null || echo denied",
        ],
    );
    expect(&o, 0, "uid=1000 gid=1000 groups=1000\n1000:1000\ndenied\n")
}

pub(crate) fn exec(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; while :; do sleep 0.1; done")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["exec", &c.id, "sh", "-c", "echo from-exec; exit 4"]);
    expect(&o, 4, "from-exec\n")?;
    let o = d.docker_in(&["exec", "-i", &c.id, "cat"], b"piped\n");
    expect(&o, 0, "piped\n")?;
    let o = d.docker(&[
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        &c.id,
        "sh",
        "-c",
        "id -u; pwd",
    ]);
    expect(&o, 0, "1000\n/tmp\n")
}

pub(crate) fn top(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; exec sleep 4242")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["top", &c.id]);
    expect_ok(&o)?;
    let cmds: Vec<&str> = o.stdout.lines().skip(1).collect();
    if cmds.len() == 1 && cmds[0].ends_with("sleep 4242") {
        Ok(())
    } else {
        Err(format!(
            "expected one process, `sleep 4242`, in docker top\n{o}"
        ))
    }
}

pub(crate) fn stop(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(
        rt,
        "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
    )?;
    c.wait_for_output("ready")?;
    let t0 = Instant::now();
    let o = d.docker(&["stop", "-t", "30", &c.id]);
    expect_ok(&o)?;
    let took = t0.elapsed();
    if took > Duration::from_secs(20) {
        return Err(format!(
            "docker stop took {took:?}: SIGTERM did not end the container, SIGKILL did"
        ));
    }
    let code = c.wait()?;
    let logs = c.logs();
    if code != 7 || !logs.stdout.contains("got TERM") {
        return Err(format!(
            "expected exit code 7 and \"got TERM\", got exit code {code}\n{logs}"
        ));
    }
    Ok(())
}

pub(crate) fn kill_signal(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(
        rt,
        "trap 'echo got USR1' USR1; trap 'echo got HUP; exit 9' HUP; echo ready; \
         while :; do sleep 0.1; done",
    )?;
    c.wait_for_output("ready")?;
    expect_ok(&d.docker(&["kill", "-s", "USR1", &c.id]))?;
    c.wait_for_output("got USR1")?;
    expect_ok(&d.docker(&["kill", "-s", "HUP", &c.id]))?;
    let code = c.wait()?;
    if code != 9 {
        return Err(format!(
            "expected exit code 9 after SIGHUP, got {code}\n{}",
            c.logs()
        ));
    }
    Ok(())
}

pub(crate) fn logs(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo to-out; echo to-err >&2; exit 5")?;
    let code = c.wait()?;
    let o = c.logs();
    if code == 5 && o.stdout == "to-out\n" && o.stderr == "to-err\n" {
        Ok(())
    } else {
        Err(format!(
            "expected exit code 5, stdout \"to-out\\n\", stderr \"to-err\\n\"; exit code {code}\n{o}"
        ))
    }
}

pub(crate) fn rm_force(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; while :; do sleep 0.1; done")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["rm", "-f", &c.id]);
    expect_ok(&o)?;
    let o = d.docker(&["ps", "-a", "-q", "--no-trunc"]);
    if o.stdout.contains(&c.id) {
        return Err(format!("the container is still listed\n{o}"));
    }
    let gone = wait_until(Duration::from_secs(10), || {
        processes().iter().all(|p| !p.cgroup.contains(&c.id))
    });
    if !gone {
        return Err("processes of the container survive docker rm -f".into());
    }
    Ok(())
}

pub(crate) fn tty(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(rt, &["-t"], "busybox", &["tty"]);
    if o.code == Some(0) && o.stdout.trim_end() == "/dev/pts/0" {
        Ok(())
    } else {
        Err(format!("expected /dev/pts/0\n{o}"))
    }
}

pub(crate) fn parallel(d: &Dockerd, rt: &str) -> Result<(), String> {
    let outs: Vec<(usize, Out)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                s.spawn(move || {
                    let script = format!("echo par-{i}; exit {}", i % 5);
                    (i, d.run_rm(rt, &[], "busybox", &["sh", "-c", &script]))
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let bad: Vec<String> = outs
        .iter()
        .filter_map(|(i, o)| expect(o, (i % 5) as i32, &format!("par-{i}\n")).err())
        .collect();
    if outs.len() != 20 || !bad.is_empty() {
        return Err(format!(
            "{} of 20 runs went wrong:\n{}",
            bad.len() + 20 - outs.len(),
            bad.join("\n")
        ));
    }
    Ok(())
}

pub(crate) fn etc_files(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["--hostname", "myhost"],
        "busybox",
        &[
            "sh",
            "-c",
            "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; \
             grep -q nameserver /etc/resolv.conf && echo has-nameserver",
        ],
    );
    expect(&o, 0, "myhost\nmyhost\n2\nhas-nameserver\n")
}

pub(crate) fn dev(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &[
            "sh",
            "-c",
            "for n in null zero full random urandom tty; do \
               test -c /dev/$n || echo no char device /dev/$n; \
               ls /dev | grep -qx $n || echo /dev/$n not listed; done; \
             for l in fd stdin stdout stderr ptmx; do test -L /dev/$l || echo no link /dev/$l; done; \
             test -d /dev/pts -a -d /dev/shm -a -d /dev/mqueue || echo missing dirs; \
             echo x > /dev/null; test -c /dev/null || echo /dev/null replaced by a file; \
             echo checked",
        ],
    );
    expect(&o, 0, "checked\n")
}

pub(crate) fn capabilities(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"],
    );
    expect(
        &o,
        0,
        &format!("CapEff:\t{DOCKER_CAPS}\nCapBnd:\t{DOCKER_CAPS}\n"),
    )?;
    let o = d.run_rm(
        rt,
        &["--cap-drop=ALL"],
        "busybox",
        &[
            "sh",
            "-c",
            "grep '^CapEff' /proc/self/status; chown 1 /tmp || echo denied",
        ],
    );
    expect(&o, 0, "CapEff:\t0000000000000000\ndenied\n")
}

pub(crate) fn image_tmp(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "cat /tmp/from-image; stat -c %a /tmp"],
    );
    expect(&o, 0, "image\n1777\n")
}

pub(crate) fn volume(d: &Dockerd, rt: &str) -> Result<(), String> {
    let dir = d.base.join(format!("volume-{rt}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in"), "from-host\n").unwrap();
    let spec = format!("{}:/data", dir.display());
    let o = d.run_rm(
        rt,
        &["-v", &spec],
        "busybox",
        &["sh", "-c", "cat /data/in; echo from-container > /data/out"],
    );
    expect(&o, 0, "from-host\n")?;
    let out = std::fs::read_to_string(dir.join("out")).unwrap_or_default();
    if out != "from-container\n" {
        return Err(format!(
            "the container's write did not reach the host directory: {out:?}"
        ));
    }
    Ok(())
}

pub(crate) fn debian(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "debian:bookworm",
        &[
            "bash",
            "-c",
            "python3 -c 'print(6 * 7)'; cut -d. -f1 /etc/debian_version; \
             a=(x y z); echo ${#a[@]}; dpkg -s python3 | grep -c '^Status: install ok'",
        ],
    );
    expect(&o, 0, "42\n12\n3\n1\n")
}
