//! Keeps the layering of the crate docs' map true: a module names only
//! modules of the layers below its own (or itself), in code and in doc
//! links alike, whether by module path (`crate::run::X`) or through a
//! crate-root re-export (`crate::RunError`).

use std::path::Path;

/// Layer of each top-level module, bottom (0) to top.
const LAYERS: &[(&str, u8)] = &[
    ("item", 0),
    ("usage", 0),
    ("schema", 0),
    ("model", 1),
    ("openai", 2),
    ("context", 3),
    ("tool", 4),
    ("mcp", 4),
    ("guardrail", 4),
    ("hooks", 4),
    ("policy", 4),
    ("session", 4),
    ("agent", 5),
    ("run", 6),
    ("runtime", 7),
    ("temporal", 7),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The module each crate-root re-export comes from (`pub use m::{A, B};`
/// in `lib.rs`).
fn root_reexports(lib: &str) -> Vec<(String, String)> {
    let mut names = Vec::new();
    let mut rest = lib;
    while let Some(at) = rest.find("\npub use ") {
        rest = &rest[at + "\npub use ".len()..];
        let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
        let Some((module, items)) = statement.split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.push((item.to_owned(), module.to_owned()));
            }
        }
    }
    names
}

/// The modules named by `crate::x` paths on every line of `source` (code
/// and doc comments; plain `//` comments left out), with their lines; a
/// crate-root name is resolved through `reexports`.
fn named_modules(source: &str, reexports: &[(String, String)]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        let is_doc = trimmed.starts_with("///") || trimmed.starts_with("//!");
        let text = if is_doc {
            trimmed
        } else {
            line.split("//").next().unwrap_or("")
        };
        let mut rest = text;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let module = reexports
                .iter()
                .find(|(item, _)| *item == name)
                .map_or(name, |(_, module)| module.clone());
            found.push((number + 1, module));
        }
    }
    found
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn modules_import_only_from_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("readable lib.rs");
    let reexports = root_reexports(&lib);
    assert!(
        reexports
            .iter()
            .any(|(item, module)| item == "RunError" && module == "run"),
        "lib.rs re-exports not found: {reexports:?}"
    );
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs"))
            .unwrap_or_default();
        let Some(own) = layer(top) else { continue };
        let source = std::fs::read_to_string(file).expect("readable source");
        for (line, named) in named_modules(&source, &reexports) {
            if named == top {
                continue;
            }
            if let Some(other) = layer(&named) {
                if other >= own {
                    violations.push(format!(
                        "{}:{line}: `{top}` (layer {own}) names `crate::{named}` (layer {other})",
                        relative.display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward imports:\n{}",
        violations.join("\n")
    );
    assert!(files.len() > 20, "found only {} source files", files.len());
}
