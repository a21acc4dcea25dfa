//! The images: a busybox root from busybox-static and the Debian root of debian.rs, as OCI archives the daemons import.

use super::*;

/// A busybox root: busybox-static with its applet links, root and nobody, a world-writable
/// /tmp holding a file of the image.
pub(crate) fn busybox_root(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    for d in ["bin", "etc", "tmp", "root", "home"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::copy("/bin/busybox", dir.join("bin/busybox"))
        .expect("busybox-static is installed (apt-get install busybox-static)");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = symlink("busybox", dir.join("bin").join(applet));
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    std::fs::write(dir.join("tmp/from-image"), "image\n").unwrap();
}

/// A tarball of `dir`'s contents.
pub(crate) fn tarball(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["--numeric-owner", "-cf"])
        .arg(out)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar of {}", dir.display());
}

pub(crate) fn sha256(path: &Path) -> String {
    let o = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Moves `file` into the OCI layout's blobs; returns its descriptor fields (digest, size).
pub(crate) fn blob(layout: &Path, file: &Path) -> (String, u64) {
    let sum = sha256(file);
    let size = std::fs::metadata(file).unwrap().len();
    std::fs::rename(file, layout.join("blobs/sha256").join(&sum)).unwrap();
    (format!("sha256:{sum}"), size)
}

/// An OCI image archive of the one-layer image `root`, named `name`, for
/// `ctr image import`.
pub(crate) fn oci_archive(root: &Path, work: &Path, name: &str, out: &Path) {
    let layout = work.join("oci-layout");
    let _ = std::fs::remove_dir_all(&layout);
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let layer = work.join("layer.tar");
    tarball(root, &layer);
    let (layer_digest, layer_size) = blob(&layout, &layer);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let config_file = work.join("config.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let (config_digest, config_size) = blob(&layout, &config_file);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer_size,
        }],
    });
    let manifest_file = work.join("manifest.json");
    std::fs::write(&manifest_file, manifest.to_string()).unwrap();
    let (manifest_digest, manifest_size) = blob(&layout, &manifest_file);
    let tag = name.rsplit(':').next().unwrap_or("latest");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    tarball(&layout, out);
    let _ = std::fs::remove_dir_all(&layout);
}

/// Imports the busybox image and the Debian one.
pub(crate) fn import_images(d: &Dockerd) {
    let root = d.base.join("busybox-root");
    busybox_root(&root);
    let tar = d.base.join("busybox.tar");
    tarball(&root, &tar);
    let o = d.docker(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "busybox:latest",
    ]);
    assert_eq!(o.code, Some(0), "docker import busybox\n{o}");
    let deb = debian_root();
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&deb)
        .args(["--numeric-owner", "--exclude=./.rvisor-complete", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tar");
    let mut import = d.cmd(&["import", "-c", "CMD [\"bash\"]", "-", "debian:bookworm"]);
    import.stdin(Stdio::from(tar.stdout.take().unwrap()));
    let o = import.output().expect("docker import");
    let _ = tar.wait();
    assert!(
        o.status.success(),
        "docker import debian: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
