//! `COMPLIANCE.md` cannot rot: every function and test it names exists, and every rule
//! names a test unless it is listed as not shown yet.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const RULES: u32 = 23;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The backticked `path::name` items of a `- Label:` line.
fn items(line: &str) -> Vec<(String, String)> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|item| item.rsplit_once("::"))
        .map(|(path, name)| (path.to_string(), name.to_string()))
        .collect()
}

/// Whether `code` defines `fn name` under a test attribute (`#[test]`, `#[tokio::test]`,
/// `#[wasm_bindgen_test]`, also inside `proptest!`).
fn defines(code: &str, name: &str, test: bool) -> bool {
    let lines: Vec<&str> = code.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let Some(at) = line.find(&format!("fn {name}")) else { return false };
        let after = line[at + 3 + name.len()..].chars().next();
        if !matches!(after, Some('(' | '<')) {
            return false;
        }
        !test || lines[i.saturating_sub(4)..i].iter().any(|l| l.trim_start().starts_with("#[") && l.contains("test"))
    })
}

/// What is wrong with `matrix`, read against the files under `root`.
fn problems(matrix: &str, root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut tested = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut gaps = BTreeSet::new();
    let mut rule = None;
    let mut in_gaps = false;
    for line in matrix.lines() {
        if let Some(rest) = line.strip_prefix("### Rule ") {
            let n: u32 = rest.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            if !seen.insert(n) {
                problems.push(format!("rule {n} appears twice"));
            }
            rule = Some(n);
        } else if line.starts_with("## ") {
            in_gaps = line == "## Not shown yet";
            rule = None;
        } else if let (true, Some(rest)) = (in_gaps, line.strip_prefix("- Rule ")) {
            gaps.insert(rest.split(':').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0));
        }
        let (label, test) = if line.starts_with("- Enforced:") {
            ("function", false)
        } else if line.starts_with("- Tests:") {
            ("test", true)
        } else {
            continue;
        };
        let found = items(line);
        if test && !found.is_empty() {
            tested.extend(rule);
        }
        for (path, name) in found {
            match std::fs::read_to_string(root.join(&path)) {
                Err(_) => problems.push(format!("rule {rule:?}: no file {path}")),
                Ok(code) if !defines(&code, &name, test) => {
                    problems.push(format!("rule {rule:?}: no {label} {name} in {path}"))
                }
                Ok(_) => {}
            }
        }
    }
    for n in 1..=RULES {
        match (seen.contains(&n), tested.contains(&n), gaps.contains(&n)) {
            (false, _, _) => problems.push(format!("rule {n} has no section")),
            (true, false, false) => problems.push(format!("rule {n} names no test and is not under 'Not shown yet'")),
            (true, true, true) => problems.push(format!("rule {n} names tests but is still under 'Not shown yet'")),
            _ => {}
        }
    }
    problems
}

fn matrix() -> String {
    std::fs::read_to_string(root().join("COMPLIANCE.md")).unwrap()
}

#[test]
fn the_compliance_matrix_names_only_code_and_tests_that_exist() {
    let problems = problems(&matrix(), &root());
    assert!(problems.is_empty(), "COMPLIANCE.md is out of date:\n{}", problems.join("\n"));
}

#[test]
fn the_matrix_check_catches_a_renamed_test_a_missing_function_and_a_rule_without_tests() {
    let good = matrix();
    let renamed = good.replacen("every_box_is_unticked_when_the_page_loads", "every_box_is_renamed", 1);
    assert!(problems(&renamed, &root()).iter().any(|p| p.contains("every_box_is_renamed")));
    let missing = good.replacen("view.rs::markup", "view.rs::no_such_function", 1);
    assert!(problems(&missing, &root()).iter().any(|p| p.contains("no_such_function")));
    let untested: String = good
        .lines()
        .filter(|l| !(l.starts_with("- Tests:") && l.contains("the_retention_purge")))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(problems(&untested, &root()).iter().any(|p| p.starts_with("rule 23 names no test")));
}
