//! The config drive, as os-collect-config 14.1.0 reads it for its `ec2` collector (it is
//! not a collector of its own): the first block device `blkid -o export` reports with
//! `LABEL=config-2` and `TYPE` `vfat` or `iso9660`; its mountpoint from `/proc/mounts`,
//! or a read-only mount on a temporary directory (unmounted lazily afterwards); the
//! document `ec2/latest/meta-data.json`. Any failure yields nothing (logged), so the
//! collector falls back to the metadata service.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The mount table read to find an existing mount.
pub const PROC_MOUNTS: &str = "/proc/mounts";

/// A block device as `blkid -o export` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDevice {
    /// `DEVNAME`.
    pub devname: Option<String>,
    /// `TYPE`.
    pub fs_type: Option<String>,
    /// `LABEL`.
    pub label: Option<String>,
}

impl BlockDevice {
    /// Whether this is a v2 config drive.
    pub fn is_config_drive(&self) -> bool {
        self.label.as_deref() == Some("config-2")
            && matches!(self.fs_type.as_deref(), Some("vfat" | "iso9660"))
    }
}

/// The devices of `blkid -o export` output (blank-line separated `KEY=value` blocks,
/// `\ ` unescaped to a space).
pub fn parse_blkid_export(output: &str) -> Vec<BlockDevice> {
    output
        .split("\n\n")
        .map(|block| {
            let mut device = BlockDevice::default();
            for line in block.lines() {
                let Some((key, value)) = line.split_once('=') else {
                    continue;
                };
                let value = Some(value.replace("\\ ", " "));
                match key {
                    "DEVNAME" => device.devname = value,
                    "TYPE" => device.fs_type = value,
                    "LABEL" => device.label = value,
                    _ => {}
                }
            }
            device
        })
        .collect()
}

/// Where `devname` is mounted according to the mount table `mounts`.
pub fn mountpoint(mounts: &str, devname: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next()? == devname).then(|| fields.next().map(PathBuf::from))?
    })
}

/// The config drive's `meta-data.json`, or `None` (blocking: runs `blkid` and `mount`).
pub fn metadata() -> Option<Value> {
    let output = match Command::new("blkid").args(["-o", "export"]).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            tracing::debug!(status = %out.status, "blkid -o export failed");
            return None;
        }
        Err(err) => {
            tracing::debug!("cannot run blkid: {err}");
            return None;
        }
    };
    let device = parse_blkid_export(&output)
        .into_iter()
        .find(BlockDevice::is_config_drive)?;
    let devname = device.devname?;
    let mounts = std::fs::read_to_string(PROC_MOUNTS).unwrap_or_default();
    if let Some(dir) = mountpoint(&mounts, &devname) {
        tracing::debug!(mountpoint = %dir.display(), "found the mounted config drive");
        return read_metadata(&dir);
    }
    let dir = tempfile::Builder::new()
        .prefix("config-2-")
        .tempdir()
        .map_err(|e| tracing::error!("cannot create a mountpoint: {e}"))
        .ok()?;
    let mounted = Command::new("mount")
        .arg(&devname)
        .arg(dir.path())
        .args(["-o", "ro"])
        .output();
    match mounted {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            tracing::error!(device = %devname, status = %out.status, "cannot mount the config drive");
            return None;
        }
        Err(err) => {
            tracing::error!(device = %devname, "cannot run mount: {err}");
            return None;
        }
    }
    let value = read_metadata(dir.path());
    match Command::new("umount").arg("-l").arg(dir.path()).output() {
        Ok(out) if out.status.success() => {}
        // The directory must stay while something is mounted on it.
        _ => {
            tracing::error!(mountpoint = %dir.path().display(), "cannot unmount the config drive");
            let _ = dir.keep();
        }
    }
    value
}

fn read_metadata(root: &Path) -> Option<Value> {
    let path = root.join("ec2/latest/meta-data.json");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(_) => {
            tracing::warn!(path = %path.display(), "no metadata file on the config drive");
            return None;
        }
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| tracing::error!(path = %path.display(), line = e.line(), "config drive metadata is not JSON"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_config_drive_is_found_in_blkid_output() {
        let out = "DEVNAME=/dev/vda1\nLABEL=cloudimg-rootfs\nTYPE=ext4\n\nDEVNAME=/dev/sr0\nLABEL=config-2\nTYPE=iso9660\n\nDEVNAME=/dev/vdb\nLABEL=config-2\nTYPE=vfat\n";
        let devices = parse_blkid_export(out);
        assert_eq!(devices.len(), 3);
        let first = devices
            .into_iter()
            .find(BlockDevice::is_config_drive)
            .unwrap();
        assert_eq!(first.devname.as_deref(), Some("/dev/sr0"));
        let spaced = parse_blkid_export("LABEL=my\\ disk\nTYPE=ext4");
        assert_eq!(spaced[0].label.as_deref(), Some("my disk"));
        assert!(!spaced[0].is_config_drive());
    }

    #[test]
    fn mountpoints_and_metadata_are_read() {
        let mounts = "/dev/vda1 / ext4 rw 0 0\n/dev/sr0 /mnt/config iso9660 ro 0 0\n";
        assert_eq!(
            mountpoint(mounts, "/dev/sr0"),
            Some(PathBuf::from("/mnt/config"))
        );
        assert_eq!(mountpoint(mounts, "/dev/sr1"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_metadata(dir.path()), None);
        std::fs::create_dir_all(dir.path().join("ec2/latest")).unwrap();
        std::fs::write(
            dir.path().join("ec2/latest/meta-data.json"),
            r#"{"instance-id": "i-1"}"#,
        )
        .unwrap();
        assert_eq!(
            read_metadata(dir.path()),
            Some(json!({"instance-id": "i-1"}))
        );
    }
}
