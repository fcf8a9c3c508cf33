//! Unit tests of [`super`] (os-collect-config's options), kept in their own file.
use super::*;

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn run(list: &[&str], env: &[(&str, &str)]) -> Result<Options, OptionsError> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match parse(&args(list), |k| env.get(k).cloned(), None)? {
        Invocation::Run(o) => Ok(*o),
        other => panic!("{other:?}"),
    }
}

#[test]
fn defaults_are_upstreams() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    let o = run(&["--config-file", empty.to_str().unwrap()], &[]).unwrap();
    assert_eq!(o.collectors, DEFAULT_COLLECTORS);
    assert_eq!(o.cachedir, Path::new(DEFAULT_CACHEDIR));
    assert_eq!((o.min_polling_interval, o.polling_interval), (1.0, 30.0));
    assert_eq!(o.deployment_key, ["deployments"]);
    assert_eq!(o.heat_local_path, [Path::new(DEFAULT_HEAT_LOCAL_PATH)]);
    assert!(o.command.is_none() && !o.one_time && !o.force);
}

#[test]
fn files_layer_under_env_under_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.conf");
    let b = dir.path().join("b.conf");
    std::fs::write(
        &a,
        "[DEFAULT]\ncommand = first\ncollectors = ec2\ncollectors = heat\npolling-interval = 7\npolling_interval = 5\n[heat]\nuser_id = u\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "[DEFAULT]\ncommand = second\ncollectors = local\n[local]\npath = /x\npath = /y\n[cfn]\n",
    )
    .unwrap();
    let files = [
        "--config-file",
        a.to_str().unwrap(),
        "--config-file",
        b.to_str().unwrap(),
    ];
    let o = run(&files, &[]).unwrap();
    assert_eq!(o.command.as_deref(), Some("second"));
    // Lists concatenate across files; dashed keys are ignored.
    assert_eq!(o.collectors, ["ec2", "heat", "local"]);
    assert_eq!(o.polling_interval, 5.0);
    assert_eq!(o.local_path, [Path::new("/x"), Path::new("/y")]);
    assert_eq!(o.heat.user_id.as_deref(), Some("u"));
    assert_eq!(o.cfn.path, None);

    let env = [
        ("OS_DEFAULT__COMMAND", "from-env"),
        ("OS_HEAT__USER_ID", "eu"),
    ];
    let o = run(&files, &env).unwrap();
    assert_eq!(o.command.as_deref(), Some("from-env"));
    assert_eq!(o.heat.user_id.as_deref(), Some("eu"));

    let mut cli = files.to_vec();
    cli.extend([
        "-c",
        "cli",
        "--heat-user-id=cu",
        "--one-time",
        "local",
        "heat_local",
    ]);
    let o = run(&cli, &env).unwrap();
    assert_eq!(o.command.as_deref(), Some("cli"));
    assert_eq!(o.heat.user_id.as_deref(), Some("cu"));
    assert_eq!(o.collectors, ["local", "heat_local"]);
    assert!(o.one_time);
}

#[test]
fn flags_of_groups_booleans_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.conf");
    std::fs::write(&conf, "[DEFAULT]\none_time = yes\n").unwrap();
    let c = conf.to_str().unwrap();
    let o = run(
        &[
            "--config-file",
            c,
            "--heat_local-path",
            "/a",
            "--heat_local-path",
            "/b",
            "--cfn-ca_certificate",
            "/ca",
            "--noone-time",
            "--force",
            "--print",
            "-i8",
            "-cecho hi",
            "--splay=2.5",
            "--cfn-path",
            "s.Metadata",
            "--debug",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(o.heat_local_path, [Path::new("/a"), Path::new("/b")]);
    assert_eq!(o.cfn.ca_certificate.as_deref(), Some(Path::new("/ca")));
    // --force implies one-time even against --noone-time.
    assert!(o.force && o.one_time && o.print_only && o.debug);
    assert_eq!((o.polling_interval, o.splay), (8.0, 2.5));
    assert_eq!(o.command.as_deref(), Some("echo hi"));
    assert_eq!(o.cfn.path, Some(vec!["s.Metadata".to_string()]));
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.conf");
    std::fs::write(&conf, "[DEFAULT]\npolling_interval = soon\n").unwrap();
    let c = conf.to_str().unwrap();
    let err = run(&["--config-file", c], &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid value for DEFAULT.polling_interval (from {c}): \"soon\" is not a number")
    );
    let err = run(&["--config-file", c, "-i", "3", "bogus"], &[]).unwrap_err();
    assert!(
        matches!(err, OptionsError::UnknownCollectors { ref unknown, .. } if unknown == &["bogus"])
    );
    assert!(matches!(
        run(&["--frobnicate"], &[]),
        Err(OptionsError::Usage(_))
    ));
    assert!(matches!(
        run(&["--command"], &[]),
        Err(OptionsError::Usage(_))
    ));
    let missing = dir.path().join("missing.conf");
    assert!(matches!(
        run(&["--config-file", missing.to_str().unwrap()], &[]),
        Err(OptionsError::Read { .. })
    ));
    std::fs::write(&conf, "[DEFAULT\n").unwrap();
    assert!(matches!(
        run(&["--config-file", c], &[]),
        Err(OptionsError::Parse { .. })
    ));
}

#[test]
fn values_are_interpolated_as_oslo_does() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.conf");
    std::fs::write(
        &conf,
        "[DEFAULT]\ncachedir = /c\ncommand = echo $$OS_CONFIG_FILES $cachedir ${cachedir}x\n[local]\npath = $cachedir/local\n",
    )
    .unwrap();
    let c = conf.to_str().unwrap();
    let o = run(&["--config-file", c], &[]).unwrap();
    assert_eq!(o.command.as_deref(), Some("echo $OS_CONFIG_FILES /c /cx"));
    assert_eq!(o.local_path, [Path::new("/c/local")]);
    // An unknown name is an error, as upstream (where it is a traceback).
    let err = run(&["--config-file", c, "-c", "echo $HOME"], &[]).unwrap_err();
    assert!(err.to_string().contains("no such option HOME"), "{err}");
    let o = run(&["--config-file", c, "-c", "x $backup_cachedir"], &[]).unwrap();
    assert_eq!(o.command.as_deref(), Some("x /var/run/os-collect-config"));
}

#[test]
fn config_dirs_are_read_sorted_after_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.conf"), "[DEFAULT]\ncommand = b\n").unwrap();
    std::fs::write(dir.path().join("a.conf"), "[DEFAULT]\ncommand = a\n").unwrap();
    std::fs::write(dir.path().join("z.txt"), "[DEFAULT]\ncommand = z\n").unwrap();
    let o = run(&["--config-dir", dir.path().to_str().unwrap()], &[]).unwrap();
    assert_eq!(o.command.as_deref(), Some("b"));
    assert_eq!(o.config_files.len(), 2);
}
