//! Keeps the layering of the crate docs' map true: a module names only
//! modules of the layers below its own (or itself).

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
    ("guardrail", 4),
    ("hooks", 4),
    ("session", 4),
    ("agent", 5),
    ("run", 6),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// `crate::x` paths named on the code lines (not comments) of `source`.
fn named_modules(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
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
        for (line, named) in named_modules(&source) {
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
