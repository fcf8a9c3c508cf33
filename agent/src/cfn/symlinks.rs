//! `cfn-create-aws-symlinks`: links the cfn tools into `/opt/aws/bin` (where AWS images
//! keep them), as heat-cfntools' script: `-t/--target DIR` (default `/opt/aws/bin`,
//! created if missing), `-s/--source DIR` (links every `cfn-*` file in `DIR`, as
//! upstream), `-f/--force` (replace existing files; otherwise they are kept with a
//! message). Without `-s`, each cfn tool name this binary answers to is linked to the
//! running binary itself, so no `/usr/bin/cfn-*` links are needed first (upstream's default
//! source is `/usr/bin`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// `cfn-create-aws-symlinks [options]`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cfn-create-aws-symlinks",
    version,
    about = "Create symlinks for the cfn-* tools in /opt/aws/bin."
)]
pub struct SymlinkArgs {
    /// Directory to create the links in.
    #[arg(short = 't', long = "target", default_value = "/opt/aws/bin")]
    pub target: PathBuf,
    /// Directory whose `cfn-*` files are linked [default: this binary, once per cfn tool].
    #[arg(short = 's', long = "source")]
    pub source: Option<PathBuf>,
    /// Replace files already in the target directory.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

/// `(link name, what it points to)` for each link to make.
pub fn links(args: &SymlinkArgs, binary: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    match &args.source {
        Some(dir) => {
            let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_string();
                    name.starts_with("cfn-").then(|| (name, e.path()))
                })
                .collect();
            out.sort();
            Ok(out)
        }
        None => Ok(crate::multicall::NAMES
            .iter()
            .filter(|(n, _)| n.starts_with("cfn-"))
            .map(|(n, _)| (n.to_string(), binary.to_path_buf()))
            .collect()),
    }
}

/// Makes the links; prints each as upstream (`source -> target`).
pub fn create(args: &SymlinkArgs, binary: &Path) -> Result<(), String> {
    if args.source.as_deref() == Some(args.target.as_path()) {
        return Err(format!(
            "source and target are the same {}",
            args.target.display()
        ));
    }
    std::fs::create_dir_all(&args.target).map_err(|e| {
        format!(
            "could not create target directory {}: {e}",
            args.target.display()
        )
    })?;
    let list = links(args, binary).map_err(|e| {
        format!(
            "cannot list {}: {e}",
            args.source.as_deref().unwrap_or(Path::new("")).display()
        )
    })?;
    for (name, source) in list {
        let target = args.target.join(&name);
        if target.symlink_metadata().is_ok() {
            if !args.force {
                println!(
                    "{} already exists, will not replace with symlink",
                    target.display()
                );
                continue;
            }
            std::fs::remove_file(&target)
                .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
        }
        println!("{} -> {}", source.display(), target.display());
        std::os::unix::fs::symlink(&source, &target)
            .map_err(|e| format!("cannot link {}: {e}", target.display()))?;
    }
    Ok(())
}

/// Runs as `cfn-create-aws-symlinks` with `args`.
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args: SymlinkArgs = match super::parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let binary = match std::env::current_exe() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cfn-create-aws-symlinks: cannot find this binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    match tokio::task::spawn_blocking(move || create(&args, &binary)).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("cfn-create-aws-symlinks: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cfn-create-aws-symlinks: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_every_cfn_tool_to_the_binary_and_keeps_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("opt/aws/bin");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("cfn-init"), "old").unwrap();
        let args = SymlinkArgs {
            target: target.clone(),
            source: None,
            force: false,
        };
        let binary = dir.path().join("updraft-agent");
        create(&args, &binary).unwrap();
        assert_eq!(std::fs::read_link(target.join("cfn-hup")).unwrap(), binary);
        assert_eq!(
            std::fs::read_link(target.join("cfn-signal")).unwrap(),
            binary
        );
        assert_eq!(
            std::fs::read_to_string(target.join("cfn-init")).unwrap(),
            "old"
        );
        create(
            &SymlinkArgs {
                force: true,
                ..args
            },
            &binary,
        )
        .unwrap();
        assert_eq!(std::fs::read_link(target.join("cfn-init")).unwrap(), binary);
    }

    #[test]
    fn a_source_directory_links_its_cfn_files() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bin");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("cfn-x"), "").unwrap();
        std::fs::write(src.join("other"), "").unwrap();
        let args = SymlinkArgs {
            target: dir.path().join("t"),
            source: Some(src.clone()),
            force: false,
        };
        create(&args, Path::new("/unused")).unwrap();
        assert_eq!(
            std::fs::read_link(dir.path().join("t/cfn-x")).unwrap(),
            src.join("cfn-x")
        );
        assert!(!dir.path().join("t/other").exists());
        let same = SymlinkArgs {
            target: src.clone(),
            source: Some(src),
            force: false,
        };
        assert!(create(&same, Path::new("/x")).is_err());
    }
}
