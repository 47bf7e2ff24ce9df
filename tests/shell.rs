//! Fits the shell: completion scripts, the checked-in man page, examples in `--help`.
mod support;

use support::*;

#[test]
fn bash_accepts_the_completion_script_and_zsh_and_fish_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, script, stderr) = qtscen(&["completions", "bash"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(script.contains("qtscen"), "{script}");
    let path = dir.path().join("qtscen.bash");
    std::fs::write(&path, &script).unwrap();
    let bash = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
    for shell in ["zsh", "fish"] {
        let (code, script, _) = qtscen(&["completions", shell], dir.path());
        assert_eq!(code, 0);
        assert!(script.contains("junit"), "{shell}: {script}");
    }
}

#[test]
fn the_man_pages_are_current_and_render() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = qtscen::cli::man_pages().unwrap();
    if std::env::var_os("QTSCEN_BLESS").is_some() {
        std::fs::create_dir_all(&root).unwrap();
        for (name, page) in &pages {
            std::fs::write(root.join(name), page).unwrap();
        }
    }
    let mut names: Vec<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    on_disk.sort();
    let stale = "man/ is stale: run `QTSCEN_BLESS=1 cargo test --test shell`";
    assert_eq!(on_disk, names, "{stale}");
    for (name, page) in &pages {
        let path = root.join(name);
        assert!(std::fs::read(&path).unwrap() == *page, "{name}: {stale}");
        // groff (what `man -l` runs) formats it without a warning.
        let groff = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("groff runs (apt-get install groff-base)");
        assert!(groff.status.success(), "{name}");
        assert!(
            groff.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&groff.stderr)
        );
    }
    let man = std::process::Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(root.join("qtscen-run.1"))
        .env("MANWIDTH", "80")
        .output()
        .expect("man runs (apt-get install man-db)");
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.status.success(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
    assert!(
        text.contains("--junit") && text.contains("Examples:"),
        "{text}"
    );
}

#[test]
fn every_subcommand_help_ends_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [
        "run",
        "validate",
        "plan",
        "render",
        "demo",
        "schema",
        "completions",
    ] {
        let (code, help, _) = qtscen(&[sub, "--help"], dir.path());
        assert_eq!(code, 0);
        let tail = help.trim_end();
        let at = tail
            .rfind("Example")
            .unwrap_or_else(|| panic!("{sub} --help has no examples:\n{help}"));
        assert!(
            tail[at..]
                .lines()
                .skip(1)
                .all(|l| l.starts_with("  qtscen ")),
            "{sub}: {help}"
        );
    }
}
