//! The shape of the code: the verifier's top-level modules import each other without a
//! cycle, and the three layers point down only (`routes` → `consent` → `store`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first path segment of every `crate::…` in `code` (`use crate::{a, b::c}` counts
/// `a` and `b`).
fn crate_refs(code: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `consent_crate::`, say
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item_start) = (0, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        refs.push(ident(group[item_start..i].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        refs.push(ident(group[item_start..i].trim()));
                        item_start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            refs.push(ident(rest));
        }
    }
    refs.retain(|r| !r.is_empty());
    refs
}

/// Top-level module → the top-level modules it uses, with one place where it does.
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        // Only the code that ships: a module's own tests may reach across.
        let code = code.split("#[cfg(test)]").next().unwrap_or("");
        for r in crate_refs(code) {
            if r != module {
                graph.entry(module.clone()).or_default().entry(r).or_insert_with(|| rel.display().to_string());
            }
        }
        graph.entry(module).or_default();
    }
    graph
}

fn cycle_from(
    node: &str,
    graph: &BTreeMap<String, BTreeMap<String, String>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|p| p == node) {
        let mut cycle = path[i..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in graph.get(node).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
        if let Some(c) = cycle_from(&next, graph, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn the_reference_parser_sees_every_form_of_import() {
    let code =
        "use crate::store::{A, B};\nuse crate::{error::ApiError, domain::{X, Y}};\nlet s = crate::i18n::fill(a);";
    assert_eq!(crate_refs(code), ["store", "error", "domain", "i18n"]);
}

#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    let graph = graph();
    assert!(graph.contains_key("routes") && graph.contains_key("store"), "{graph:?}");
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = cycle_from(node, &graph, &mut Vec::new(), &mut done) {
            let edges: Vec<String> =
                cycle.windows(2).map(|w| format!("{} -> {} (in {})", w[0], w[1], graph[&w[0]][&w[1]])).collect();
            panic!("import cycle between top-level modules:\n  {}", edges.join("\n  "));
        }
    }
}

#[test]
fn the_layers_point_down_only() {
    let graph = graph();
    let forbidden = [
        ("store", ["routes", "consent", "mail", "error", "state", "startup", "cli"].as_slice()),
        ("consent", ["routes", "startup", "cli"].as_slice()),
        ("domain", ["routes", "consent", "store", "mail", "error", "state", "config", "notices"].as_slice()),
        ("mail", ["routes", "consent"].as_slice()),
        ("i18n", ["routes", "consent", "store", "mail", "state"].as_slice()),
    ];
    for (module, never) in forbidden {
        for target in never {
            if let Some(at) = graph.get(module).and_then(|m| m.get(*target)) {
                panic!("{module} must not use {target}, but {at} does");
            }
        }
    }
}
