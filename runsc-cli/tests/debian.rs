//! A Debian bookworm root (`debootstrap --variant=minbase --include=python3`, made once and
//! cached) under `rvisor do --rootfs`: every case must print the same and exit the same as
//! natively, in a chroot of the same root with its own /proc and /tmp.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::debian_root;

/// Shell commands run by Debian's /bin/sh in both places.
const CASES: &[&str] = &[
    // bash scripts
    "bash -c 'f() { local x=$1; echo $((x * 2)); }; for i in 1 2 3; do f $i; done'",
    "bash -c 'a=(one two three); echo ${#a[@]} ${a[1]} ${a[@]:1}; declare -A m=([k]=v); echo ${m[k]}'",
    "bash -c 's=hello-world; echo ${s^^} ${s/world/there} ${#s} ${s:0:5}'",
    "bash -c 'cat <<EOF\nline $((1+1))\nEOF\n'",
    "bash -c 'set -e; false || echo recovered; (exit 3) || echo sub $?'",
    "bash -c 'trap \"echo trapped\" USR1; kill -USR1 $$; echo after'",
    "bash -c 'sleep 0.1 & p=$!; wait $p; echo waited $?; jobs; echo $(( $(echo 6) * 7 ))'",
    "bash -c 'exec 3>/tmp/fd3; echo via3 >&3; exec 3>&-; cat /tmp/fd3'",
    // coreutils and friends
    "sort -t: -k3 -n /etc/passwd | head -3 | cut -d: -f1,3",
    "seq 1 100 | paste -sd+ | tr -d '\\n' | wc -c",
    "printf 'b\\na\\nb\\nc\\n' | sort | uniq -c",
    "md5sum /etc/debian_version /usr/bin/python3.11 | cut -c1-32",
    "sha256sum /etc/os-release | cut -c1-16",
    "date -u -d @86400 +%Y-%m-%dT%H:%M:%S",
    "ls /usr/share/doc | head -5",
    "ls -la /etc/apt | tail -n +2 | awk '{print $1, $NF}'",
    "find /usr/share/doc -maxdepth 1 -name 'lib*' | sort | head -5",
    "stat -c '%s %F %a' /etc/debian_version /usr/bin /tmp",
    "readlink -f /bin/sh /usr/bin/python3; readlink /lib64/ld-linux-x86-64.so.2",
    "mkdir -p /tmp/w/a/b && cd /tmp/w && echo x > a/b/f && cp -r a c && mv c d && \
     ln -s d/b/f l && ls -R . && cat l && rm -r a d l && ls",
    "cd /tmp && seq 1 2000 > n && tar cf t.tar n && gzip t.tar && gunzip t.tar.gz && \
     tar tf t.tar && rm n && tar xf t.tar && wc -l < n && du -b n | cut -f1",
    "echo a b c | xargs -n1 echo item",
    "id; whoami; hostname >/dev/null && echo has-hostname",
    "env -i A=1 B=2 env | sort",
    "head -c 1000 /dev/urandom | wc -c; head -c 8 /dev/zero | od -An -tx1",
    "cat /etc/debian_version | cut -d. -f1",
    "getconf PAGESIZE; nproc --all | grep -c .",
    "expr 7 \\* 6; test -d /usr && echo dir",
    // changes to the root (an overlay: they never reach the host)
    "bash -c 'echo hi > /root/x && cat /root/x && mkdir -p /opt/app/etc && cp /etc/os-release /opt/app/etc/ \
     && ls -R /opt && rm /etc/hostname && ls /etc | grep -c hostname; echo 127.0.0.2 x >> /etc/hosts; tail -1 /etc/hosts'",
    "python3 -c 'import os,shutil; os.makedirs(\"/srv/data/a\"); open(\"/srv/data/a/f\",\"w\").write(\"x\"*100000); \
     shutil.copytree(\"/srv/data\",\"/srv/copy\"); os.rename(\"/srv/copy/a/f\",\"/srv/g\"); \
     print(sorted(os.listdir(\"/srv\")), os.path.getsize(\"/srv/g\")); shutil.rmtree(\"/srv/data\"); print(sorted(os.listdir(\"/srv\")))'",
    "sh -c 'useradd -m tester 2>/dev/null || adduser --disabled-password --gecos \"\" tester >/dev/null 2>&1; \
     id tester | cut -d\" \" -f1; ls /home'",
    // mounts inside the sandbox: util-linux mount, findmnt (parses mountinfo), df, statvfs
    "mkdir -p /mnt/t /mnt/b && mount -t tmpfs -o size=2m,mode=750 t /mnt/t && echo hi > /mnt/t/f && \
     mount --bind /mnt/t /mnt/b && mount -o remount,bind,ro /mnt/b && cat /mnt/b/f && \
     { echo x > /mnt/b/g; } 2>&1 | sed 's/.*: //'; findmnt -n -o TARGET,FSTYPE,VFS-OPTIONS /mnt/b; \
     stat -c '%a %U' /mnt/t; df -k /mnt/t | tail -1 | awk '{print $2, $6}'; \
     python3 -c 'import os; s=os.statvfs(\"/mnt/b\"); print(s.f_flag & 1, s.f_bsize)'; \
     umount /mnt/b /mnt/t && ls /mnt/t | wc -l; mount -t proc p /mnt/t && cat /mnt/t/self/comm; \
     umount /mnt/t; grep -c ' /mnt/t ' /proc/self/mounts",
    // apt and dpkg
    "apt-get --version | head -1",
    "dpkg -l | wc -l",
    "dpkg -s python3 | grep -E '^(Package|Status):'",
    "dpkg -L coreutils | grep -c bin/",
    "apt-cache policy python3 2>/dev/null | head -1",
    // python3: files and directories
    "python3 -c 'import os,tempfile,shutil; d=tempfile.mkdtemp(); os.makedirs(d+\"/x/y\"); \
     open(d+\"/x/y/f\",\"w\").write(\"abc\"); os.rename(d+\"/x/y/f\",d+\"/x/g\"); \
     print(sorted(os.listdir(d+\"/x\")), open(d+\"/x/g\").read(), os.path.getsize(d+\"/x/g\")); \
     shutil.rmtree(d); print(os.path.exists(d))'",
    "python3 -c 'import os; print(sum(len(f) for _,_,f in os.walk(\"/usr/lib/python3.11/json\")))'",
    "python3 -c 'import glob,json,hashlib; print(len(glob.glob(\"/usr/lib/python3.11/*.py\")) > 100, \
     json.dumps({\"a\":[1,2]}), hashlib.sha1(b\"x\").hexdigest())'",
    // subprocess and threads
    "python3 -c 'import subprocess as s; print(s.run([\"sh\",\"-c\",\"echo $0 sub; exit 3\"],\
     capture_output=True,text=True)); print(s.check_output(\"ls / | wc -l\", shell=True).strip())'",
    "python3 -c 'import threading,queue; q=queue.Queue(); ts=[threading.Thread(target=lambda i=i: \
     q.put(sum(range(i*1000)))) for i in range(8)]; [t.start() for t in ts]; [t.join() for t in ts]; \
     print(sorted(q.get() for _ in ts))'",
    "python3 -c 'import concurrent.futures as c; print(list(c.ThreadPoolExecutor(4).map(pow,[2,3],[5,4])))'",
    // unix sockets, multiprocessing, sqlite3 on disk
    "python3 -c 'import socket,os; s=socket.socket(socket.AF_UNIX); s.bind(\"/tmp/sock\"); s.listen(); \
     c=socket.socket(socket.AF_UNIX); c.connect(\"/tmp/sock\"); a,_=s.accept(); c.sendall(b\"hi\"*5000); \
     c.close(); d=b\"\"; \
     exec(\"while True:\\n r=a.recv(65536)\\n if not r: break\\n d+=r\"); print(len(d), os.path.exists(\"/tmp/sock\")); \
     x,y=socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); x.send(b\"dg\"); print(y.recv(10))'",
    "python3 -c 'import socket,os,array; a,b=socket.socketpair(); r,w=os.pipe(); \
     a.sendmsg([b\"fd\"],[(socket.SOL_SOCKET,socket.SCM_RIGHTS,array.array(\"i\",[w]))]); \
     m,anc,f,_=b.recvmsg(10, socket.CMSG_SPACE(4)); fd=array.array(\"i\",anc[0][2])[0]; \
     os.write(fd,b\"through\"); print(m, os.read(r,7))'",
    "python3 -c 'import multiprocessing as m; print(m.Pool(2).map(abs,[-1,-2,3])); \
     q=m.Queue(); p=m.Process(target=q.put, args=(\"from child\",)); p.start(); print(q.get()); p.join(); \
     print(p.exitcode)'",
    "python3 -c 'import sqlite3; c=sqlite3.connect(\"/tmp/db.sqlite\"); c.execute(\"create table t(x)\"); \
     c.executemany(\"insert into t values (?)\", [(i,) for i in range(1000)]); c.commit(); c.close(); \
     d=sqlite3.connect(\"/tmp/db.sqlite\"); print(d.execute(\"select count(*), sum(x) from t\").fetchall())'",
    // mmap, signals and itimers, /proc/self
    "python3 -c 'import mmap; f=open(\"/tmp/m\",\"w+b\"); f.write(b\"x\"*8192); f.flush(); \
     m=mmap.mmap(f.fileno(),8192); m[0:5]=b\"hello\"; m.flush(); print(open(\"/tmp/m\",\"rb\").read(6)); \
     a=mmap.mmap(-1,4096); a[:3]=b\"abc\"; print(a[:3])'",
    "python3 -c 'import signal,time; n=[]; signal.signal(signal.SIGALRM, lambda *a: n.append(1)); \
     signal.setitimer(signal.ITIMER_REAL,0.02,0.02); time.sleep(0.3); \
     signal.setitimer(signal.ITIMER_REAL,0); print(len(n) > 3)'",
    "python3 -c 'import signal,os; signal.signal(signal.SIGUSR1, lambda s,f: print(\"got\",s)); \
     os.kill(os.getpid(), signal.SIGUSR1); print(signal.getsignal(signal.SIGINT))'",
    "python3 -c 'import os; print(os.readlink(\"/proc/self/exe\"), \
     open(\"/proc/self/status\").readline().strip(), os.getpid() == int(os.readlink(\"/proc/self\")), \
     len(open(\"/proc/self/maps\").read()) > 0, sorted(f for f in os.listdir(\"/proc/self/fd\") if int(f) < 3))'",
];

const ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
    ("TMPDIR", "/tmp"),
];

/// The case natively: a chroot into an overlay of the root with a tmpfs upper layer, with a
/// private /proc and /tmp (new mount and pid namespaces, so nothing of it outlives the case
/// or touches the cached root).
fn native(root: &Path, case: &str) -> Output {
    let r = root.display();
    let script = format!(
        "set -e; mount -t tmpfs none /mnt; mkdir /mnt/u /mnt/w /mnt/m; \
         mount -t overlay overlay -o lowerdir={r},upperdir=/mnt/u,workdir=/mnt/w /mnt/m; \
         mount -t proc proc /mnt/m/proc; mount -t tmpfs none /mnt/m/tmp; \
         mount -t tmpfs none /mnt/m/dev/shm 2>/dev/null || true; set +e; \
         exec chroot /mnt/m /bin/sh -c \"$0\""
    );
    Command::new("unshare")
        .args(["--mount", "--pid", "--fork", "--propagation", "private"])
        .args(["sh", "-c", &script, case])
        .env_clear()
        .envs(ENV.iter().copied())
        .current_dir("/")
        .output()
        .unwrap()
}

fn sandboxed(root: &Path, case: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .arg("do")
        .arg("--rootfs")
        .arg(root)
        .args(["--", "/bin/sh", "-c", case])
        .env_clear()
        .envs(ENV.iter().copied())
        .current_dir("/")
        .output()
        .unwrap()
}

fn check(root: &Path, cases: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let n = native(root, case);
        assert!(
            !n.stdout.is_empty() || n.status.code() != Some(0),
            "the case prints something natively: {case}\n{}",
            String::from_utf8_lossy(&n.stderr)
        );
        let s = sandboxed(root, case);
        if n.stdout != s.stdout || n.status.code() != s.status.code() {
            failures.push(format!(
                "{case}\n  native ({:?}): {}\n  rvisor ({:?}): {}{}",
                n.status.code(),
                String::from_utf8_lossy(&n.stdout),
                s.status.code(),
                String::from_utf8_lossy(&s.stdout),
                String::from_utf8_lossy(&s.stderr)
            ));
        }
    }
    failures
}

#[test]
fn debian_programs_behave_as_natively() {
    let root = debian_root();
    let failures = check(&root, CASES);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
