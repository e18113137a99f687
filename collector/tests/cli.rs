//! The real binary's admin commands and configuration precedence: flags
//! over `PALAUTE_*` variables over the config file.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palaute-collector"));
    command.args(args).env_remove("PALAUTE_DATA").env_remove("PALAUTE_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn site_commands_and_where_settings_come_from() {
    let root = tempfile::tempdir().unwrap();
    let (from_file, from_env, from_flag) =
        (root.path().join("file"), root.path().join("env"), root.path().join("flag"));
    let config = root.path().join("palaute.toml");
    std::fs::write(&config, format!("data = {:?}\n", from_file.display().to_string())).unwrap();
    let config_arg = config.to_str().unwrap();

    // The config file alone.
    let added = stdout(&run(&["site", "add", "shop", "--origin", "https://shop.example", "--config", config_arg], &[]));
    let token = added.lines().last().unwrap();
    assert!(token.starts_with("pal_") && token.len() == 68, "the token alone on the last line: {added}");
    assert!(from_file.join("palaute.db").is_file());

    // PALAUTE_DATA beats the file; --data beats both.
    stdout(&run(
        &["site", "add", "blog", "--origin", "https://blog.example", "--config", config_arg],
        &[("PALAUTE_DATA", &from_env)],
    ));
    assert!(from_env.join("palaute.db").is_file());
    let flag = from_flag.to_str().unwrap();
    stdout(&run(
        &["site", "add", "docs", "--origin", "https://docs.example", "--data", flag],
        &[("PALAUTE_DATA", &from_env)],
    ));
    assert!(from_flag.join("palaute.db").is_file());

    let listed = stdout(&run(&["site", "list", "--config", config_arg], &[]));
    assert!(listed.starts_with("shop\thttps://shop.example\t"), "{listed}");
    assert!(!listed.contains("blog"), "blog went to the PALAUTE_DATA store: {listed}");

    // Rotation prints a new token last; removal; errors exit non-zero.
    let rotated = stdout(&run(&["token", "rotate", "shop", "--config", config_arg], &[]));
    let new_token = rotated.lines().last().unwrap();
    assert!(new_token.starts_with("pal_") && new_token != token);
    stdout(&run(&["site", "remove", "shop", "--config", config_arg], &[]));
    // Failures exit non-zero with a plain message (not an HTTP answer's words).
    for (args, message) in [
        (vec!["site", "remove", "shop", "--config", config_arg], "error: no site shop\n"),
        (vec!["token", "rotate", "nobody", "--config", config_arg], "error: no site nobody\n"),
        (vec!["alert", "remove", "7", "--config", config_arg], "error: no alert hook 7\n"),
        (
            vec!["site", "add", "bad id", "--origin", "https://x.example", "--data", flag],
            "error: site id \"bad id\": 1-64",
        ),
        (
            vec!["site", "add", "x", "--origin", "not-an-origin", "--data", flag],
            "error: origin \"not-an-origin\": expected",
        ),
        (
            vec!["alert", "add", "--site", "x", "--url", "ftp://x", "--data", flag],
            "error: url \"ftp://x\": an http or https URL",
        ),
    ] {
        let output = run(&args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.starts_with(message), "{args:?}: {stderr}");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = run(&["serve", "--listen", &address, "--data", flag], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("error: cannot listen on {address}: ");
    assert!(!output.status.success() && stderr.contains(&expected), "{stderr}");
    assert!(!stderr.contains("invalid request"), "{stderr}");
}

#[test]
fn generate_then_report() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let generated = stdout(&run(&["generate", "--site", "demo", "--views", "3000", "--days", "3", "--data", dir], &[]));
    assert!(generated.contains("3000 page views of demo over 72 hours written"), "{generated}");
    // Three days of hours that are over were rolled up (the current one is not).
    let hours: usize = generated.split("; ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((71..=73).contains(&hours), "{generated}");

    let report = stdout(&run(&["report", "--site", "demo", "--since", "4d", "--data", dir], &[]));
    assert!(report.starts_with("palaute report: demo, "), "{report}");
    assert!(report.contains("page views 3000 "), "{report}");
    for heading in [
        "LCP",
        "INP",
        "CLS",
        "routes losing the most visitors to slowness",
        "elements visitors fight with",
        "satisfaction by load time",
        "CSAT",
    ] {
        assert!(report.contains(heading), "{heading} in {report}");
    }
    // The generated elements visitors fight with, most frustrated first, five at most.
    let elements: Vec<&str> =
        report.lines().skip_while(|l| !l.starts_with("element ")).skip(1).take_while(|l| !l.is_empty()).collect();
    assert!((2..=5).contains(&elements.len()) && report.contains("button#apply-coupon"), "{report}");
    // Every generated page's route is listed, worst first.
    let pages: Vec<&str> =
        report.lines().skip_while(|l| !l.starts_with("route ")).skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(pages.len(), 8, "{report}");
    let lost: Vec<u64> = pages.iter().map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap()).collect();
    assert!(lost.windows(2).all(|w| w[0] >= w[1]), "{lost:?}");

    let empty = stdout(&run(&["report", "--site", "nobody", "--data", dir], &[]));
    assert!(empty.contains("page views 0 "), "{empty}");
    let bad = run(&["report", "--site", "demo", "--since", "yesterday", "--data", dir], &[]);
    assert!(!bad.status.success());
}
