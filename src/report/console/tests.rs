//! Unit tests of `console`.
use super::*;

#[test]
fn color_follows_the_flag_then_no_color_then_clicolor_force() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    assert!(use_color(ColorMode::Auto, true, env(&[])));
    assert!(!use_color(ColorMode::Auto, false, env(&[])));
    assert!(!use_color(ColorMode::Auto, true, env(&[("NO_COLOR", "1")])));
    assert!(use_color(ColorMode::Auto, true, env(&[("NO_COLOR", "")])));
    assert!(use_color(
        ColorMode::Auto,
        false,
        env(&[("CLICOLOR_FORCE", "1")])
    ));
    assert!(!use_color(
        ColorMode::Auto,
        false,
        env(&[("CLICOLOR_FORCE", "0")])
    ));
    assert!(!use_color(
        ColorMode::Auto,
        false,
        env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
    ));
    assert!(use_color(
        ColorMode::Always,
        false,
        env(&[("NO_COLOR", "1")])
    ));
    assert!(!use_color(
        ColorMode::Never,
        true,
        env(&[("CLICOLOR_FORCE", "1")])
    ));
}
