//! The probe's modules import only the layers below them (lib.rs draws the layers): a module
//! that reaches up, or two that import each other, is where a newcomer gets lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom; a module may import its own layer's (without a cycle) and every lower one.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["app", "demo", "serve", "fleet"],
    &["plan", "runner", "report", "output"],
    &["check"],
    &["result", "timing", "advice", "progress"],
    &["net", "scenario", "namespace_from"],
    &[
        "target",
        "seconds",
        "cloud",
        "outcome",
        "error",
        "windows_text",
        "version",
    ],
];

/// Test-only modules, left out.
const TEST_ONLY: &[&str] = &["fuzz"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The first segment of every `crate::X` path in `code`, `crate::{X, Y::z}` groups included.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(ident(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(ident(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(rest));
        }
    }
    names.retain(|n| !n.is_empty() && n != "self");
    names
}

/// `crate::X` imports of every top-level module of `src` (test code left out).
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let first = rel.components().next().expect("a component");
            let top = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" || TEST_ONLY.contains(&top.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String = code
                .lines()
                .map(|l| l.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            for name in crate_paths(&code) {
                if name != top {
                    edges.entry(top.clone()).or_default().insert(name);
                }
            }
        }
    }
    edges
}

#[test]
fn grouped_imports_count() {
    let code = "use crate::{output, report::{a, b}, runner};\nlet x = crate::net::y;";
    assert_eq!(crate_paths(code), ["output", "report", "runner", "net"]);
}

#[test]
fn every_probe_import_points_down_and_none_forms_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../probe/src");
    let edges = imports(&src);
    assert!(edges.len() > 10, "the scan found the modules: {edges:?}");
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        let Some(a) = rank(from) else {
            wrong.push(format!(
                "{from} is in no layer: add it to LAYERS and lib.rs"
            ));
            continue;
        };
        for to in tos {
            match rank(to) {
                None => wrong.push(format!("{to} (imported by {from}) is in no layer")),
                Some(b) if b < a => wrong.push(format!("{from} imports {to}, a layer above it")),
                Some(b) if b == a && edges.get(to).is_some_and(|t| t.contains(from)) => {
                    wrong.push(format!("{from} and {to} import each other"))
                }
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
