//! The browser tests' set-up: Node.js with `playwright-core` from tests/browser, driving
//! Debian's Chromium (no browser download). `.ci/run` installs both.

use std::path::PathBuf;

/// The script `name` of tests/browser, when node, playwright-core and Chromium (at
/// /usr/bin/chromium, or $CHROMIUM) are all here. Without them a test is skipped, with a
/// line saying so, except in CI (`CI` set), where their absence fails it: CI must run it.
pub fn browser_script(name: &str, what: &str) -> Option<PathBuf> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
    let installed = folder.join("node_modules/playwright-core").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
        .is_file();
    if installed && node && chromium {
        return Some(folder.join(name));
    }
    let missing = format!(
        "the {what} browser tests need node, `npm ci --prefix tests/browser` and chromium \
         (`apt-get install chromium`)"
    );
    assert!(std::env::var_os("CI").is_none(), "{missing}");
    eprintln!("skipped: {missing}");
    None
}
