//! `cargo xtask modules`, a check of `cargo xtask test`: the library's module graph has no
//! import circle, and no module imports "upward" through the crate root's re-exports.
//!
//! Nodes are the top-level modules (`src/foo.rs` and `src/foo/` are one node `foo`) and,
//! inside each folder, its submodules among themselves. An edge is a `use` of a path into
//! another node (`crate::..`, `super::..`, `self::..` or a child's name), resolved through
//! the crate root's re-exports to the module that defines the name. `use crate::Name`
//! where `Name` is a re-export in lib.rs is reported too, outside lib.rs. `#[cfg(test)]`
//! items and comments are left out; paths written inline in code are not read.

mod graph;
mod items;
mod tokens;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use graph::Graph;
use items::{items, Items};

/// One source file of the module tree.
struct Module {
    /// `[]` for lib.rs, `["a", "b"]` for `crate::a::b`.
    path: Vec<String>,
    /// Relative to the workspace root, for messages.
    file: PathBuf,
    items: Items,
}

/// Reads the module tree from `src/lib.rs` down.
fn load(root: &Path) -> Result<Vec<Module>> {
    let mut modules = Vec::new();
    let mut todo = vec![(
        Vec::new(),
        PathBuf::from("src/lib.rs"),
        PathBuf::from("src"),
    )];
    while let Some((path, file, children_dir)) = todo.pop() {
        let source = fs::read_to_string(root.join(&file))
            .with_context(|| format!("reading {}", file.display()))?;
        let items = items(&source);
        for decl in items.mods.iter().filter(|m| !m.inline) {
            let dir = children_dir.join(&decl.name);
            let candidates = [
                (children_dir.join(format!("{}.rs", decl.name))),
                dir.join("mod.rs"),
            ];
            // A module whose file is elsewhere (`#[path]`) is not followed.
            if let Some(child) = candidates.into_iter().find(|f| root.join(f).is_file()) {
                let mut child_path = path.clone();
                child_path.push(decl.name.clone());
                todo.push((child_path, child, dir));
            }
        }
        modules.push(Module { path, file, items });
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(modules)
}

/// Modules that reach each other through their imports.
#[derive(Debug)]
struct Circle {
    /// "the top-level modules" or "the submodules of crate::x".
    scope: String,
    /// One circle through them, `[a, b, a]`.
    example: Vec<String>,
    /// All of them (a group can hold several circles).
    members: Vec<String>,
    /// `file:line: a -> b (use ..)` for every import between two of them.
    lines: Vec<String>,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct Findings {
    circles: Vec<Circle>,
    /// `file:line: message`.
    upward: Vec<String>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.circles.is_empty() && self.upward.is_empty()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.circles {
            let _ = writeln!(
                out,
                "import circle among {}: {}",
                c.scope,
                c.example.join(" -> ")
            );
            if c.members.len() + 1 > c.example.len() {
                let _ = writeln!(
                    out,
                    "  these {} reach each other: {}",
                    c.members.len(),
                    c.members.join(", ")
                );
            }
            c.lines.iter().for_each(|l| _ = writeln!(out, "    {l}"));
        }
        if !self.upward.is_empty() {
            let _ = writeln!(out, "upward imports through crate-root re-exports (import from the defining module instead):");
            self.upward
                .iter()
                .for_each(|l| _ = writeln!(out, "    {l}"));
        }
        out
    }
}

/// Resolves an imported path seen in `module` to a path from the crate root; `None` for
/// other crates.
fn resolve(
    module: &[String],
    import: &[String],
    children: &BTreeMap<&[String], Vec<&str>>,
) -> Option<Vec<String>> {
    let (first, rest) = import.split_first()?;
    let mut base = module.to_vec();
    let rest = match first.as_str() {
        "crate" => {
            base.clear();
            rest
        }
        "self" => rest,
        "super" => {
            let ups = 1 + rest.iter().take_while(|s| *s == "super").count();
            base.truncate(base.len().checked_sub(ups)?);
            &rest[ups - 1..]
        }
        // 2018 paths: a child module's name is in scope.
        name if children.get(module).is_some_and(|c| c.contains(&name)) => import,
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Per module path, the names its `use` items bind and the paths they come from.
type Bound<'a> = BTreeMap<&'a [String], BTreeMap<&'a str, Vec<String>>>;

/// Follows re-exports (`pub use x::Y` in a module, the crate root too) to the path of the
/// module that defines the name.
fn defining_path(mut target: Vec<String>, bound: &Bound) -> Vec<String> {
    // A bound limit: re-export chains are short, and a circular one must not hang.
    for _ in 0..8 {
        let hop = (0..target.len()).find_map(|k| {
            let source = bound.get(&target[..k])?.get(target[k].as_str())?;
            Some(
                source
                    .iter()
                    .chain(&target[k + 1..])
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        });
        match hop {
            Some(next) if next != target => target = next,
            _ => break,
        }
    }
    target
}

/// Checks the library under `root/src`.
pub fn findings(root: &Path) -> Result<Findings> {
    let modules = load(root)?;
    let children: BTreeMap<&[String], Vec<&str>> = modules
        .iter()
        .map(|m| {
            (
                m.path.as_slice(),
                m.items.mods.iter().map(|d| d.name.as_str()).collect(),
            )
        })
        .collect();
    // Per module, the names its `use` items bind (children aside): each one's source.
    let bound: Bound = modules
        .iter()
        .map(|m| {
            let kids = &children[m.path.as_slice()];
            let names = m.items.imports.iter().filter_map(|i| {
                let name = i.binds.as_deref().filter(|n| !kids.contains(n))?;
                Some((name, resolve(&m.path, &i.path, &children)?))
            });
            (m.path.as_slice(), names.collect())
        })
        .collect();
    let root_names = &bound[[].as_slice()];

    let mut findings = Findings::default();
    // Per folder (the crate root too): child -> child -> the imports that make the edge.
    #[allow(clippy::type_complexity)]
    let mut edges: BTreeMap<
        Vec<String>,
        BTreeMap<(String, String), Vec<(PathBuf, usize, String)>>,
    > = BTreeMap::new();
    for module in &modules {
        for import in &module.items.imports {
            let Some(target) = resolve(&module.path, &import.path, &children) else {
                continue;
            };
            let at = format!("{}:{}", module.file.display(), import.line);
            let path = import.path.join("::");
            let shown = if import.in_code {
                format!("{path} in code")
            } else {
                format!("use {path}")
            };
            let through_root = target.first().and_then(|n| root_names.get(n.as_str()));
            if let (Some(source), false) = (through_root, module.path.is_empty()) {
                let from = source.join("::");
                let message = format!("{at}: `{path}` is `crate::{from}` re-exported by lib.rs");
                findings.upward.push(message);
            }
            let target = defining_path(target, &bound);
            // Every folder that holds both ends in different children.
            let shared = module
                .path
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            let (Some(from), Some(to)) = (module.path.get(shared), target.get(shared)) else {
                continue;
            };
            let folder = module.path[..shared].to_vec();
            if children
                .get(folder.as_slice())
                .is_some_and(|c| c.contains(&to.as_str()))
            {
                let edge = edges
                    .entry(folder)
                    .or_default()
                    .entry((from.clone(), to.clone()))
                    .or_default();
                edge.push((
                    module.file.clone(),
                    import.line,
                    format!("{at}: {from} -> {to} ({shown})"),
                ));
            }
        }
    }
    for (folder, edges) in &edges {
        let mut graph = Graph::new();
        for (from, to) in edges.keys() {
            graph.entry(from.clone()).or_default().insert(to.clone());
        }
        let scope = match folder.as_slice() {
            [] => "the top-level modules".to_string(),
            path => format!("the submodules of crate::{}", path.join("::")),
        };
        for group in graph::circles(&graph) {
            let mut lines: Vec<_> = edges
                .iter()
                .filter(|((a, b), _)| group.contains(a) && group.contains(b))
                .flat_map(|(_, l)| l.iter().cloned())
                .collect();
            lines.sort();
            let example = graph::example(&graph, &group);
            let lines = lines.into_iter().map(|(_, _, l)| l).collect();
            findings.circles.push(Circle {
                scope: scope.clone(),
                example,
                members: group,
                lines,
            });
        }
    }
    Ok(findings)
}

/// The check: prints what it found; an error when anything was.
pub fn check(root: &Path) -> Result<()> {
    let findings = findings(root)?;
    if findings.is_empty() {
        println!("module graph of src/: no import circle, no upward import");
        return Ok(());
    }
    print!("{}", findings.render());
    bail!(
        "{} import circle(s) and {} upward import(s) in src/",
        findings.circles.len(),
        findings.upward.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("src").join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_clean_tree_passes() {
        let dir = tree(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::A;\npub use b::B;\n"),
            (
                "a.rs",
                "use crate::b::B;\npub struct A;\n#[cfg(test)]\nmod tests { use crate::A; }\n",
            ),
            ("b/mod.rs", "mod x;\nmod y;\npub use x::B;\n"),
            ("b/x.rs", "use super::y::Y;\npub struct B;\n"),
            ("b/y.rs", "pub struct Y;\n"),
        ]);
        let found = findings(dir.path()).unwrap();
        assert!(found.is_empty(), "{}", found.render());
    }

    #[test]
    fn re_exports_of_a_folder_lead_to_their_module() {
        let dir = tree(&[
            ("lib.rs", "mod t;\n"),
            (
                "t/mod.rs",
                "mod a;\nmod b;\npub use a::A;\npub(crate) use b::B;\n",
            ),
            ("t/a.rs", "use super::B;\npub struct A;\n"),
            ("t/b.rs", "use crate::t::A;\npub struct B;\n"),
        ]);
        let lines: Vec<String> = findings(dir.path())
            .unwrap()
            .render()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(
            lines[0],
            "import circle among the submodules of crate::t: a -> b -> a"
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
    }

    #[test]
    fn circles_through_re_exports_and_in_folders() {
        let dir = tree(&[
            (
                "lib.rs",
                "mod a;\nmod b;\nmod c;\npub use a::A;\npub use b::B;\n",
            ),
            ("a.rs", "use crate::{\n    b::B,\n};\npub struct A;\n"),
            ("b/mod.rs", "mod x;\nmod y;\npub use x::B;\nuse crate::A;\n"),
            ("b/x.rs", "use super::y::Y;\npub struct B;\n"),
            (
                "b/y.rs",
                "#[cfg(feature = \"f\")]\nuse crate::b::x::B;\npub struct Y;\n",
            ),
            ("c.rs", "/// use crate::a::A;\n"),
        ]);
        let found = findings(dir.path()).unwrap();
        let text = found.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "import circle among the top-level modules: a -> b -> a",
                "    src/a.rs:2: a -> b (use crate::b::B)",
                "    src/b/mod.rs:4: b -> a (use crate::A)",
                "import circle among the submodules of crate::b: x -> y -> x",
                "    src/b/x.rs:1: x -> y (use super::y::Y)",
                "    src/b/y.rs:2: y -> x (use crate::b::x::B)",
                "upward imports through crate-root re-exports (import from the defining module instead):",
                "    src/b/mod.rs:4: `crate::A` is `crate::a::A` re-exported by lib.rs",
            ]
        );
    }
}
