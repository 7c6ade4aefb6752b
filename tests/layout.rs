//! The crate's top-level modules must not import each other in a cycle.
//!
//! Reads every file under `src/` (the `hotline` binary aside), takes each
//! `crate::` path outside comments and test code — `use crate::a::B`,
//! `use crate::{a, b::C}` over several lines, `crate::a::f()` in code, and
//! root re-exports such as `crate::Router` resolved through `src/lib.rs` — and
//! fails on any cycle among the top-level modules, naming the modules and the
//! file behind each edge.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Cycles tolerated for now; each entry would be the sorted set of modules
/// of one strongly connected component. It is empty since evaluate stopped
/// importing dispatch, and nothing may be added here: a new cycle is fixed
/// by moving the shared type to a leaf module.
const KNOWN: &[&[&str]] = &[];

/// module -> (module it imports -> first file that does).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without `#[cfg(test)]` items.
fn code_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line == "#[cfg(test)]" {
            i += 1;
            while i < lines.len() && lines[i].trim().starts_with("#[") {
                i += 1;
            }
            // `mod tests;` or a braced item, skipped to its closing brace.
            let mut depth = 0i64;
            let mut opened = false;
            while i < lines.len() {
                let l = strip_comment(lines[i]);
                depth += l.matches('{').count() as i64 - l.matches('}').count() as i64;
                opened |= l.contains('{');
                i += 1;
                if (opened && depth <= 0) || (!opened && l.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        out.push_str(strip_comment(lines[i]));
        out.push('\n');
        i += 1;
    }
    out
}

fn strip_comment(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The first path segment after each `crate::` in `code`: one for
/// `crate::a::B`, one per entry for `crate::{a, b::C}`.
fn crate_roots(code: &str) -> Vec<String> {
    let mut roots = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(pos) = code[from..].find("crate::") {
        let at = from + pos;
        from = at + "crate::".len();
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            // Entries at depth 1 of the braces, up to the matching `}`.
            let mut depth = 1;
            let mut entry_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => entry_start = true,
                    c if entry_start && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                        roots.push(ident_at(&group[i..]));
                        entry_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let ident = ident_at(rest);
            if !ident.is_empty() {
                roots.push(ident);
            }
        }
    }
    roots
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Names re-exported at the crate root (`pub use a::{B, C};` in lib.rs),
/// with the module they come from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let code = code_lines(lib);
    let mut names = BTreeMap::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("pub use ") {
        let stmt = &rest[at + "pub use ".len()..];
        let end = stmt.find(';').unwrap_or(stmt.len());
        let stmt = &stmt[..end];
        let module = ident_at(stmt);
        for word in stmt.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                names.insert(word.to_string(), module.clone());
            }
        }
        rest = &stmt[end..];
    }
    names
}

fn graph() -> Graph {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let reexports = root_reexports(&lib);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&src).ok())
        .filter_map(|rel| rel.components().next())
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|m| m != "lib" && m != "bin")
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        // The binary is not a module; `tests.rs` files are test code.
        if !modules.contains(&top) || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let code = code_lines(&fs::read_to_string(file).unwrap());
        for root in crate_roots(&code) {
            let target = if modules.contains(&root) {
                Some(root)
            } else {
                reexports.get(&root).cloned()
            };
            if let Some(target) = target.filter(|t| *t != top) {
                graph
                    .entry(top.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(w: &mut Walk<'g>, v: &'g str) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        w.on_stack.insert(v);
        for next in w.graph.get(v).into_iter().flat_map(|e| e.keys()) {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            loop {
                let m = w.stack.pop().unwrap();
                w.on_stack.remove(m);
                component.push(m.to_string());
                if m == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                w.found.push(component);
            }
        }
    }
    let mut w = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v.as_str()) {
            visit(&mut w, v);
        }
    }
    w.found.sort();
    w.found
}

/// Each import inside a component, as `a -> b (file)`.
fn describe(graph: &Graph, component: &[String]) -> String {
    let mut out = String::new();
    for a in component {
        for (b, file) in graph.get(a).into_iter().flatten() {
            if component.contains(b) {
                out.push_str(&format!("\n  {a} -> {b} (src/{file})"));
            }
        }
    }
    out
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = graph();
    let new: Vec<String> = cycles(&graph)
        .into_iter()
        .filter(|c| {
            !KNOWN
                .iter()
                .any(|k| k.iter().copied().eq(c.iter().map(String::as_str)))
        })
        .map(|c| format!("cycle among {}:{}", c.join(", "), describe(&graph, &c)))
        .collect();
    assert!(new.is_empty(), "module cycles:\n{}", new.join("\n"));
}

#[test]
fn the_pipeline_modules_sit_in_layers() {
    let graph = graph();
    let imports = |m: &str| -> BTreeSet<&str> {
        graph
            .get(m)
            .into_iter()
            .flat_map(|e| e.keys())
            .map(String::as_str)
            .collect()
    };
    // The scan sees real imports (so the cycle test is not vacuous) ...
    assert!(imports("router").contains("rules"), "{graph:?}");
    assert!(imports("config").contains("locate"), "{graph:?}");
    // ... and the leaves and the lower layers import only below themselves.
    for leaf in ["crs", "priority", "error"] {
        assert_eq!(imports(leaf), BTreeSet::new(), "{leaf} must be a leaf");
    }
    assert_eq!(imports("ticket"), BTreeSet::from(["crs"]));
    for m in ["ticket", "classify", "locate", "rules", "calendar"] {
        assert!(
            !imports(m).contains("config"),
            "{m} imports config: {:?}",
            imports(m)
        );
        assert!(
            !imports(m).contains("router"),
            "{m} imports router: {:?}",
            imports(m)
        );
    }
}

#[test]
fn the_scanner_reads_grouped_nested_and_inline_paths() {
    let code = code_lines(
        "use crate::a::B;\n\
         use crate::{\n    c::D,\n    e::{F, G},\n    H,\n};\n\
         // use crate::commented;\n\
         /// [`X`](crate::doc_link)\n\
         fn f() { crate::inline::call(); let x = mycrate::no; }\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::in_tests;\n    fn g() { if true { crate::deeper(); } }\n}\n\
         #[cfg(test)]\n\
         mod more_tests;\n\
         use crate::after;\n",
    );
    assert_eq!(
        crate_roots(&code),
        ["a", "c", "e", "H", "inline", "after"].map(String::from)
    );
    let lib = "pub use config::{\n    RouterConfig, Sla,\n};\npub use jiff;\npub mod x;\n";
    let names = root_reexports(lib);
    assert_eq!(names.get("Sla").map(String::as_str), Some("config"));
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn cycles_are_found_and_named() {
    let mut graph = Graph::new();
    for (a, b) in [
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("c", "d"),
        ("d", "e"),
        ("e", "d"),
    ] {
        graph
            .entry(a.to_string())
            .or_default()
            .insert(b.to_string(), format!("{a}.rs"));
    }
    let found = cycles(&graph);
    assert_eq!(found, [vec!["a", "b", "c"], vec!["d", "e"]]);
    let text = describe(&graph, &found[1]);
    assert!(
        text.contains("d -> e (src/d.rs)") && text.contains("e -> d (src/e.rs)"),
        "{text}"
    );
    graph.get_mut("e").unwrap().clear();
    assert_eq!(cycles(&graph), [vec!["a", "b", "c"]]);
}
