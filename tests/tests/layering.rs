//! The probe's modules import only the layers below them (lib.rs draws the layers): a module
//! that reaches up, or two that import each other, is where a newcomer gets lost. Three rules,
//! read from the sources (test code left out: `#[cfg(test)]` items and the files of test-only
//! modules):
//!
//! 1. Every `crate::X` and `super::X` path points to the module's own layer (without a circle)
//!    or a lower one.
//! 2. A check does not import a sibling check: under `check/`, a file of check `A` (`a.rs`, or
//!    any file of `a/`, whose submodules may import each other) names no `check::B` of another
//!    check `B`. What checks share lives below them (`net/`, `result/`) or in `check/`'s own
//!    shared files ([`CHECK_SHARED`]).
//! 3. The result document's types are defined in `result/`: no module at or below `result`'s
//!    layer derives `Serialize` except `result/` itself and the vocabulary that flags and
//!    scenario files share with the document ([`VOCABULARY`]). Modules above `result` (reports,
//!    the server) may write documents of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom; a module may import its own layer's (without a cycle) and every lower one.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["cmd"],
    // `watch` is the engine of `probe watch` (its entry is `cmd/watch.rs`, as `runner` is
    // `probe run`'s); it sits beside `matrix`, which reads its event files back
    // (`matrix::watch_log`), and imports nothing above this layer.
    &[
        "plan", "runner", "report", "matrix", "output", "exporter", "watch",
    ],
    &["check"],
    &["result", "timing", "advice", "progress", "writeback"],
    &["net", "scenario", "namespace_from"],
    &[
        "target",
        "seconds",
        "stop_signal",
        "cloud",
        "outcome",
        "error",
        "windows_text",
        "version",
    ],
];

/// Test-only modules, left out.
const TEST_ONLY: &[&str] = &["fuzz"];

/// The files of `check/` that are not checks: what every check may use.
const CHECK_SHARED: &[&str] = &["mod", "session", "facts"];

/// Bottom-layer modules whose words the document shares with flags and scenario files.
const VOCABULARY: &[&str] = &["outcome", "target", "cloud"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// `text` with comments, string literals and character literals blanked out, so that neither
/// a doc comment naming `crate::x` nor a `"{"` in a string is read as code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(b.len(), |n| i + n + 2);
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|c| *c == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            let end = text[body..]
                .find(&close)
                .map_or(b.len(), |n| body + n + close.len());
            out.push_str("\"\"");
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '{'), or a lifetime ('a), which is kept.
            let len = rest[1..].chars().next().map_or(0, char::len_utf8);
            if rest[1..].starts_with('\\') {
                let end = rest[2..].find('\'').map_or(b.len(), |n| i + 2 + n + 1);
                out.push_str("' '");
                i = end;
            } else if rest[1 + len..].starts_with('\'') {
                out.push_str("' '");
                i += 2 + len;
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let c = rest.chars().next().expect("a character");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `code` without its `#[cfg(test)]` items, and the names of the modules declared test-only
/// there (`#[cfg(test)] mod fixture;`: their files are test code too).
fn production(code: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_modules = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let mut item = rest[at + "#[cfg(test)]".len()..].trim_start();
        // Further attributes of the same item.
        while item.starts_with("#[") {
            let end = item.find(']').map_or(item.len(), |n| n + 1);
            item = item[end..].trim_start();
        }
        let words: Vec<&str> = item.split_whitespace().take(3).collect();
        let module = match words.as_slice() {
            ["mod", name, ..] => Some(name),
            [vis, "mod", name] if vis.starts_with("pub") => Some(name),
            _ => None,
        };
        let semicolon = item.find(';').unwrap_or(item.len());
        let brace = item.find('{').unwrap_or(item.len());
        if semicolon < brace {
            if let Some(name) = module {
                test_modules.push(name.trim_end_matches(';').to_string());
            }
            rest = &item[semicolon + 1..];
            continue;
        }
        let mut depth = 0;
        let mut end = item.len();
        for (j, c) in item.char_indices().skip(brace) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_modules)
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The paths after one `prefix::`: `a::b` gives `[a, b]`; a group `{a, b::c}` gives `[a]` and
/// `[b, c]` (two segments at most: all the rules need).
fn paths_after(rest: &str) -> Vec<Vec<String>> {
    let two = |s: &str| -> Vec<String> {
        let first = ident(s);
        let after = s.trim_start()[first.len()..].trim_start();
        let mut path = vec![first];
        if let Some(more) = after.strip_prefix("::") {
            let second = ident(more);
            if !second.is_empty() {
                path.push(second);
            }
        }
        path
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![two(rest)];
    };
    // Top-level items of the group: split at commas outside nested braces.
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (j, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(two(&group[start..j]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(two(&group[start..j]));
                start = j + 1;
            }
            _ => {}
        }
    }
    items
}

/// Every `crate::` and `super::` path of `code` in the module at `module` (its path from the
/// crate root), made absolute.
fn absolute_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        paths.extend(paths_after(&code[i + 7..]));
    }
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // counted with the first `super::` of a chain
        }
        let mut up = 1;
        let mut rest = &code[i + 7..];
        while let Some(more) = rest.strip_prefix("super::") {
            up += 1;
            rest = more;
        }
        let Some(base) = module.len().checked_sub(up) else {
            continue;
        };
        for path in paths_after(rest) {
            let mut full = module[..base].to_vec();
            full.extend(path);
            full.truncate(2);
            paths.push(full);
        }
    }
    paths.retain(|p| p.first().is_some_and(|s| !s.is_empty() && s != "self"));
    paths
}

/// One production source file.
struct Source {
    /// The module's path from the crate root (`check/idle/mod.rs`: `[check, idle]`).
    module: Vec<String>,
    /// Its path under `src`.
    file: PathBuf,
    /// Its code, test items, comments and literals left out.
    code: String,
}

/// Every production file under `src`.
fn sources(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut parsed = Vec::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for path in &files {
        let rel = path.strip_prefix(src).expect("under src").to_path_buf();
        let text = std::fs::read_to_string(path).expect("read a source file");
        let (code, test_modules) = production(&code_only(&text));
        let dir = match rel.file_stem().and_then(|s| s.to_str()) {
            Some("mod" | "lib" | "main") => rel.parent().expect("a parent").to_path_buf(),
            _ => rel.with_extension(""),
        };
        for name in test_modules {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name).join("mod.rs"));
        }
        let module: Vec<String> = dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parsed.push(Source {
            module,
            file: rel,
            code,
        });
    }
    parsed.retain(|s| {
        let top = s.module.first().map(String::as_str);
        !test_only.contains(&s.file)
            && !code_only_test(&s.code)
            && top.is_some_and(|t| !TEST_ONLY.contains(&t))
    });
    parsed
}

/// A file that is test code throughout (`#![cfg(test)]`).
fn code_only_test(code: &str) -> bool {
    code.trim_start().starts_with("#![cfg(test)]")
}

/// `crate::X` and `super::X` imports of every top-level module of `sources`.
fn imports(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue; // lib.rs and main.rs draw the layers
        };
        for path in absolute_paths(&source.code, &source.module) {
            if path[0] != *top {
                edges
                    .entry(top.clone())
                    .or_default()
                    .insert(path[0].clone());
            }
        }
    }
    edges
}

/// The checks: every module of `check/` but its shared files.
fn checks(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src.join("check"))
        .expect("read check/")
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|n| !CHECK_SHARED.contains(&n.as_str()))
        .collect()
}

/// Rule 2: `file imports check::other` for every check importing a sibling.
fn sibling_imports(sources: &[Source], checks: &BTreeSet<String>) -> Vec<String> {
    let mut wrong = Vec::new();
    for source in sources {
        let [top, own, ..] = source.module.as_slice() else {
            continue;
        };
        if top != "check" || !checks.contains(own) {
            continue;
        }
        for path in absolute_paths(&source.code, &source.module) {
            if let [first, other] = path.as_slice() {
                if first == "check" && other != own && checks.contains(other) {
                    wrong.push(format!(
                        "{} (check {own}) imports the check {other}: move what they share below check/",
                        source.file.display()
                    ));
                }
            }
        }
    }
    wrong
}

/// Rule 3: files at or below `result`'s layer, outside `result/` and the vocabulary, that
/// derive `Serialize`.
fn document_types_below_result(sources: &[Source]) -> Vec<String> {
    let result = rank("result").expect("result has a layer");
    let mut wrong = Vec::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue;
        };
        if top == "result" || VOCABULARY.contains(&top.as_str()) {
            continue;
        }
        if rank(top).is_none_or(|r| r < result) {
            continue;
        }
        let derives_serialize = source.code.match_indices("derive(").any(|(i, _)| {
            let list = &source.code[i..];
            let list = &list[..list.find(')').unwrap_or(list.len())];
            list.split(|c: char| c == ',' || c == '(' || c.is_whitespace())
                .any(|w| w == "Serialize" || w.ends_with("::Serialize"))
        });
        if derives_serialize {
            wrong.push(format!(
                "{} derives Serialize below result/: define the document's types in result/ and map to them",
                source.file.display()
            ));
        }
    }
    wrong
}

fn probe_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../probe/src")
}

#[test]
fn grouped_and_relative_imports_count() {
    let code = "use crate::{output, report::{a, b}, runner};\nlet x = crate::net::y;";
    let none: Vec<String> = Vec::new();
    let firsts: Vec<String> = absolute_paths(code, &none)
        .into_iter()
        .map(|p| p[0].clone())
        .collect();
    assert_eq!(firsts, ["output", "report", "runner", "net"]);
    let module = [
        "check".to_string(),
        "idle".to_string(),
        "channel".to_string(),
    ];
    let code = "use super::super::websocket::x; use super::{probe, ladder::Y};";
    assert_eq!(
        absolute_paths(code, &module),
        [
            vec!["check", "websocket"],
            vec!["check", "idle"],
            vec!["check", "idle"],
        ]
    );
}

#[test]
fn test_items_are_left_out_and_what_follows_them_is_not() {
    let code = code_only(
        "#[cfg(test)]\nmod fixture;\n#[cfg(test)]\nmod tests { fn f() { let s = \"{\"; } }\nuse crate::net::x;\n// crate::report\n",
    );
    let (kept, test_modules) = production(&code);
    assert_eq!(test_modules, ["fixture"]);
    assert_eq!(absolute_paths(&kept, &[]), [vec!["net", "x"]]);
}

#[test]
fn every_probe_import_points_down_and_none_forms_a_circle() {
    let sources = sources(&probe_src());
    let edges = imports(&sources);
    assert!(edges.len() > 10, "the scan found the modules: {edges:?}");
    let result_mod = sources
        .iter()
        .find(|s| s.file == Path::new("result/mod.rs"))
        .expect("result/mod.rs is production code");
    assert!(
        absolute_paths(&result_mod.code, &result_mod.module)
            .contains(&vec!["target".to_string(), "TargetKindName".to_string()]),
        "result/mod.rs's imports after its test-only items are read"
    );
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

#[test]
fn no_check_imports_a_sibling_check() {
    let src = probe_src();
    let checks = checks(&src);
    assert!(
        checks.contains("idle") && checks.contains("tls") && !checks.contains("session"),
        "{checks:?}"
    );
    let wrong = sibling_imports(&sources(&src), &checks);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_documents_types_are_defined_in_result() {
    let sources = sources(&probe_src());
    assert!(
        sources
            .iter()
            .any(|s| s.module == ["result"] && s.code.contains("derive(")),
        "the scan reads result/"
    );
    let wrong = document_types_below_result(&sources);
    assert!(wrong.is_empty(), "{wrong:#?}");
}
