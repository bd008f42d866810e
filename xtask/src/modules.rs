//! `cargo xtask modules`, a check of `cargo xtask test`: the library's module graph has no
//! import circle, and no module imports "upward" through the crate root's re-exports.
//!
//! Nodes are the top-level modules (`src/foo.rs` and `src/foo/` are one node `foo`) and,
//! inside each folder, its submodules among themselves. An edge is a `use` of a path into
//! another node (`crate::..`, `super::..`, `self::..` or a child's name), or a `crate::` /
//! `super::` path written in code, resolved through re-exports to the module that defines
//! the name. `use crate::Name` where `Name` is a re-export in lib.rs is reported too,
//! outside lib.rs. `#[cfg(test)]` and `#[cfg(doc)]` items are left out: a test module sees
//! everything, and imports for doc links are no dependency.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use petgraph::algo::{astar, tarjan_scc};
use petgraph::graphmap::DiGraphMap;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Meta, Token, UseTree};

/// One imported path of a `use` item (`use a::{b::C, d as e}` gives `a::b::C` and `a::d`),
/// or a `crate::` / `super::` path written in code.
struct Import {
    path: Vec<String>,
    /// The name it binds (the last segment, or its `as` rename); `None` for a glob or a
    /// path in code.
    binds: Option<String>,
    line: usize,
    in_code: bool,
}

/// One source file of the module tree: what it declares and imports.
#[derive(Default)]
struct Module {
    /// `[]` for lib.rs, `["a", "b"]` for `crate::a::b`.
    path: Vec<String>,
    /// Relative to the workspace root, for messages.
    file: PathBuf,
    /// `mod name;` (false) or `mod name { .. }` (true, read as part of this file).
    mods: Vec<(String, bool)>,
    imports: Vec<Import>,
}

/// True when a `#[cfg(..)]` among `attrs` holds only in tests or docs.
fn test_only(attrs: &[Attribute]) -> bool {
    fn implied(meta: &Meta) -> bool {
        let Meta::List(list) = meta else {
            return meta.path().is_ident("test") || meta.path().is_ident("doc");
        };
        let args = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
        let mut args = args.unwrap_or_default().into_iter();
        match list.path.get_ident().map(ToString::to_string).as_deref() {
            Some("all") => args.any(|m| implied(&m)),
            Some("any") => args.len() > 0 && args.all(|m| implied(&m)),
            _ => false,
        }
    }
    let cfg = |a: &Attribute| a.path().is_ident("cfg") && a.parse_args().is_ok_and(|m| implied(&m));
    attrs.iter().any(cfg)
}

fn line(span: Span) -> usize {
    span.start().line
}

impl Module {
    fn import(&mut self, path: Vec<String>, binds: Option<String>, at: Span, in_code: bool) {
        let line = line(at);
        self.imports.push(Import {
            path,
            binds,
            line,
            in_code,
        });
    }

    /// Reads a use tree (`a::b::{c, d::*, e as f, self}`) below `prefix`.
    fn use_tree(&mut self, tree: &UseTree, prefix: &mut Vec<String>) {
        let (ident, binds) = match tree {
            UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix);
                prefix.pop();
                return;
            }
            UseTree::Group(g) => return g.items.iter().for_each(|t| self.use_tree(t, prefix)),
            UseTree::Glob(g) => return self.import(prefix.clone(), None, g.star_token.span, false),
            UseTree::Name(n) => (&n.ident, None),
            UseTree::Rename(r) => (&r.ident, Some(r.rename.to_string())),
        };
        let mut path = prefix.clone();
        // `self` in a group names the group's own path.
        if ident != "self" || path.is_empty() {
            path.push(ident.to_string());
        }
        let binds = binds.or_else(|| path.last().cloned());
        self.import(path, binds, ident.span(), false);
    }

    /// `crate::a::b` or `super::a` in a macro's tokens; `$crate` belongs to the caller.
    fn macro_paths(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let texts: Vec<String> = tokens.iter().map(ToString::to_string).collect();
        let colons = |k: usize| texts.get(k..k + 2).is_some_and(|w| w == [":", ":"]);
        for (i, token) in tokens.iter().enumerate() {
            if let TokenTree::Group(g) = token {
                self.macro_paths(g.stream());
            } else if ["crate", "super"].contains(&texts[i].as_str())
                && colons(i + 1)
                && (i == 0 || texts[i - 1] != "$")
            {
                let mut path = vec![texts[i].clone()];
                let mut k = i;
                while colons(k + 1) && matches!(tokens.get(k + 3), Some(TokenTree::Ident(_))) {
                    k += 3;
                    path.push(texts[k].clone());
                }
                self.import(path, None, token.span(), true);
            }
        }
    }

    /// Collects the file's items, unless the whole file is `#![cfg(test)]`.
    fn read(&mut self, file: &syn::File) {
        if !test_only(&file.attrs) {
            self.visit_file(file);
        }
    }
}

/// The attributes of the items a `#[cfg(test)]` is seen on.
macro_rules! item_attrs {
    ($item:expr, $($kind:ident)*) => {
        match $item { $(syn::Item::$kind(i) => &i.attrs[..],)* _ => &[] }
    };
}

impl<'ast> Visit<'ast> for Module {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs =
            item_attrs!(item, Const Enum Fn Impl Macro Mod Static Struct Trait Type Use Union);
        if !test_only(attrs) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !test_only(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if !test_only(&local.attrs) {
            visit::visit_local(self, local);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&item.tree, &mut Vec::new());
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.mods
            .push((item.ident.to_string(), item.content.is_some()));
        visit::visit_item_mod(self, item);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 && ["crate", "super"].contains(&segments[0].as_str()) {
            self.import(segments, None, path.segments[0].ident.span(), true);
        }
        visit::visit_path(self, path);
    }

    // `pub(in crate::a)` is a visibility, not a dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.macro_paths(mac.tokens.clone());
    }
}

/// Reads the module tree from `src/lib.rs` down.
fn load(root: &Path) -> Result<Vec<Module>> {
    let mut modules = Vec::new();
    let mut todo: Vec<(_, PathBuf, PathBuf)> = vec![(vec![], "src/lib.rs".into(), "src".into())];
    while let Some((path, file, children_dir)) = todo.pop() {
        let source = fs::read_to_string(root.join(&file))
            .with_context(|| format!("reading {}", file.display()))?;
        let parsed = syn::parse_file(&source)
            .map_err(|e| anyhow!("{}:{}: {e}", file.display(), line(e.span())))?;
        let mut module = Module {
            path,
            file,
            ..Default::default()
        };
        module.read(&parsed);
        for (name, _) in module.mods.iter().filter(|(_, inline)| !inline) {
            let dir = children_dir.join(name);
            let candidates = [children_dir.join(format!("{name}.rs")), dir.join("mod.rs")];
            // A module whose file is elsewhere (`#[path]`) is not followed.
            if let Some(child) = candidates.into_iter().find(|f| root.join(f).is_file()) {
                let child_path = [module.path.clone(), vec![name.clone()]].concat();
                todo.push((child_path, child, dir));
            }
        }
        modules.push(module);
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(modules)
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
            Some([source, &target[k + 1..]].concat())
        });
        match hop {
            Some(next) if next != target => target = next,
            _ => break,
        }
    }
    target
}

/// What the check found: a block of lines per import circle, a line per upward import.
struct Findings {
    circles: Vec<String>,
    upward: Vec<String>,
}

impl Findings {
    fn render(&self) -> String {
        let mut out = self.circles.concat();
        if !self.upward.is_empty() {
            out += "upward imports through crate-root re-exports (import from the defining module instead):\n";
            self.upward
                .iter()
                .for_each(|l| out += &format!("    {l}\n"));
        }
        out
    }
}

/// A folder's children; an edge holds the imports that make it: file, line,
/// `file:line: a -> b (use ..)`.
type Graph<'a> = DiGraphMap<&'a str, Vec<(&'a Path, usize, String)>>;

/// Checks the library under `root/src`.
fn findings(root: &Path) -> Result<Findings> {
    let modules = load(root)?;
    let children: BTreeMap<&[String], Vec<&str>> = (modules.iter())
        .map(|m| (&m.path[..], m.mods.iter().map(|(n, _)| &n[..]).collect()))
        .collect();
    // Per module, the names its `use` items bind (children aside): each one's source.
    let bound: Bound = modules
        .iter()
        .map(|m| {
            let kids = &children[&m.path[..]];
            let names = m.imports.iter().filter_map(|i| {
                let name = i.binds.as_deref().filter(|n| !kids.contains(n))?;
                Some((name, resolve(&m.path, &i.path, &children)?))
            });
            (&m.path[..], names.collect())
        })
        .collect();
    let root_names = &bound[&[][..]];

    let mut upward = Vec::new();
    // Per folder (the crate root too), the graph of its children.
    let mut graphs: BTreeMap<&[String], Graph> = BTreeMap::new();
    for module in &modules {
        for import in &module.imports {
            let Some(target) = resolve(&module.path, &import.path, &children) else {
                continue;
            };
            let at = format!("{}:{}", module.file.display(), import.line);
            let path = import.path.join("::");
            let through_root = target.first().and_then(|n| root_names.get(n.as_str()));
            if let (Some(source), false) = (through_root, module.path.is_empty()) {
                let source = source.join("::");
                upward.push(format!(
                    "{at}: `{path}` is `crate::{source}` re-exported by lib.rs"
                ));
            }
            let target = defining_path(target, &bound);
            // The folder that holds both ends in different children.
            let shared = module
                .path
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            let folder = &module.path[..shared];
            let to = target
                .get(shared)
                .and_then(|to| children[folder].iter().find(|c| *c == to));
            let (Some(from), Some(to)) = (module.path.get(shared), to) else {
                continue;
            };
            let shown = match import.in_code {
                true => format!("{path} in code"),
                false => format!("use {path}"),
            };
            let graph = graphs.entry(folder).or_default();
            if !graph.contains_edge(from, to) {
                graph.add_edge(from, to, Vec::new());
            }
            let line = format!("{at}: {from} -> {to} ({shown})");
            graph[(&from[..], *to)].push((&module.file, import.line, line));
        }
    }
    let mut circles = Vec::new();
    for (folder, graph) in &graphs {
        let scope = match folder {
            [] => "the top-level modules".to_string(),
            path => format!("the submodules of crate::{}", path.join("::")),
        };
        let mut groups: Vec<_> = tarjan_scc(graph)
            .into_iter()
            .filter(|g| g.len() > 1)
            .collect();
        groups.iter_mut().for_each(|g| g.sort());
        groups.sort();
        for group in groups {
            // A circle through the group's first member with the fewest edges: `[a, b, a]`.
            let back = |from| astar(graph, from, |n| n == group[0], |_| 1, |_| 0);
            let shortest = graph
                .neighbors(group[0])
                .filter_map(back)
                .min_by_key(|(cost, _)| *cost);
            let circle = [vec![group[0]], shortest.unwrap_or_default().1].concat();
            let mut out = format!("import circle among {scope}: {}\n", circle.join(" -> "));
            if group.len() + 1 > circle.len() {
                let (n, all) = (group.len(), group.join(", "));
                out += &format!("  these {n} reach each other: {all}\n");
            }
            let within = graph
                .all_edges()
                .filter(|(a, b, _)| group.contains(a) && group.contains(b));
            let mut lines: Vec<_> = within.flat_map(|(_, _, lines)| lines).collect();
            lines.sort();
            lines
                .iter()
                .for_each(|(_, _, l)| out += &format!("    {l}\n"));
            circles.push(out);
        }
    }
    Ok(Findings { circles, upward })
}

/// The check: prints what it found; an error when anything was.
pub fn check(root: &Path) -> Result<()> {
    let findings = findings(root)?;
    if findings.circles.is_empty() && findings.upward.is_empty() {
        println!("module graph of src/: no import circle, no upward import");
        return Ok(());
    }
    print!("{}", findings.render());
    let (circles, upward) = (findings.circles.len(), findings.upward.len());
    bail!("{circles} import circle(s) and {upward} upward import(s) in src/")
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

    fn rendered(files: &[(&str, &str)]) -> Vec<String> {
        let found = findings(tree(files).path()).unwrap();
        found.render().lines().map(String::from).collect()
    }

    fn module(source: &str) -> Module {
        let mut module = Module::default();
        module.read(&syn::parse_file(source).unwrap());
        module
    }

    /// `path@line` (in code), `path::*@line` (a glob), `path=name@line` (a rename).
    fn imports(source: &str) -> String {
        let text = |i: Import| {
            let binds = match (&i.binds, i.in_code) {
                (None, false) => "::*".into(),
                (Some(b), _) if Some(b) != i.path.last() => format!("={b}"),
                _ => String::new(),
            };
            format!("{}{binds}@{}", i.path.join("::"), i.line)
        };
        module(source)
            .imports
            .into_iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn grouped_renamed_glob_and_multi_line_uses() {
        let source =
            "use crate::{a::B, c,\n    d::{self, e::*, F as G}};\npub(crate) use super::h::I;\n";
        let expect =
            "crate::a::B@1 crate::c@1 crate::d@2 crate::d::e::*@2 crate::d::F=G@2 super::h::I@3";
        assert_eq!(imports(source), expect);
    }

    #[test]
    fn paths_in_code_and_macros() {
        let source = "fn f() {\n    crate::drain::watch(x);\n    let m = super::y::Z::new();\n}\n\
                      pub(crate) fn g() {}\npub(in crate::a) fn h() {}\nmacro_rules! m { () => { $crate::no::X }; }\n\
                      fn k() { format!(\"{}\", crate::w::v()); }\n";
        assert_eq!(
            imports(source),
            "crate::drain::watch@2 super::y::Z::new@3 crate::w::v@8"
        );
    }

    #[test]
    fn test_items_are_left_out_and_cfg_gated_kept() {
        let source = "#[cfg(feature = \"io\")]\nmod io;\n#[cfg(test)]\nmod tests {\n    use crate::x::Y;\n}\n\
                      #[cfg(all(test, feature = \"a\"))]\nuse crate::{p, q};\n#[cfg(not(test))]\nuse crate::r::S;\n\
                      fn f() {\n    #[cfg(test)]\n    use crate::t;\n    use crate::u;\n}\n/// use crate::doc;\nmod inline { use crate::v; }\n\
                      #[cfg(doc)]\nuse crate::linked;\nimpl A {\n    #[cfg(test)]\n    fn t() { crate::w::x(); }\n}\n\
                      #[cfg(any(test, doc))]\nuse crate::y;\n#[cfg(any(test, feature = \"z\"))]\nuse crate::z;\n";
        assert_eq!(
            imports(source),
            "crate::r::S@10 crate::u@14 crate::v@17 crate::z@27"
        );
        assert_eq!(
            module(source).mods,
            [("io".into(), false), ("inline".into(), true)]
        );
        assert!(imports("#![cfg(test)]\nuse crate::a::B;\n").is_empty());
    }

    #[test]
    fn a_clean_tree_passes() {
        let found = rendered(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::A;\npub use b::B;\n"),
            (
                "a.rs",
                "use crate::b::B;\npub struct A;\n#[cfg(test)]\nmod tests { use crate::A; }\n",
            ),
            ("b/mod.rs", "mod x;\nmod y;\npub use x::B;\n"),
            ("b/x.rs", "use super::y::Y;\npub struct B;\n"),
            ("b/y.rs", "pub struct Y;\n"),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn re_exports_of_a_folder_lead_to_their_module() {
        let lines = rendered(&[
            ("lib.rs", "mod t;\n"),
            (
                "t/mod.rs",
                "mod a;\nmod b;\npub use a::A;\npub(crate) use b::B;\n",
            ),
            ("t/a.rs", "use super::B;\npub struct A;\n"),
            ("t/b.rs", "use crate::t::A;\npub struct B;\n"),
        ]);
        assert_eq!(
            lines[0],
            "import circle among the submodules of crate::t: a -> b -> a"
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
    }

    #[test]
    fn circles_through_re_exports_and_in_folders() {
        let lines = rendered(&[
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
            (
                "c.rs",
                "/// use crate::a::A;\nconst S: &str = \"use crate::a::A;\";\n",
            ),
        ]);
        let expect = [
            "import circle among the top-level modules: a -> b -> a",
            "    src/a.rs:2: a -> b (use crate::b::B)",
            "    src/b/mod.rs:4: b -> a (use crate::A)",
            "import circle among the submodules of crate::b: x -> y -> x",
            "    src/b/x.rs:1: x -> y (use super::y::Y)",
            "    src/b/y.rs:2: y -> x (use crate::b::x::B)",
            "upward imports through crate-root re-exports (import from the defining module instead):",
            "    src/b/mod.rs:4: `crate::A` is `crate::a::A` re-exported by lib.rs",
        ];
        assert_eq!(lines, expect);
    }

    #[test]
    fn a_longer_circle_names_its_members_and_a_shortest_way_round() {
        let lines = rendered(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\n"),
            ("a.rs", "use crate::b::B;\n"),
            ("b.rs", "use crate::c::C;\nfn f() { crate::d::g(); }\n"),
            ("c.rs", "use crate::a::A;\n"),
            ("d.rs", "use crate::b::B;\n"),
        ]);
        let expect = [
            "import circle among the top-level modules: a -> b -> c -> a",
            "  these 4 reach each other: a, b, c, d",
            "    src/a.rs:1: a -> b (use crate::b::B)",
            "    src/b.rs:1: b -> c (use crate::c::C)",
            "    src/b.rs:2: b -> d (crate::d::g in code)",
            "    src/c.rs:1: c -> a (use crate::a::A)",
            "    src/d.rs:1: d -> b (use crate::b::B)",
        ];
        assert_eq!(lines, expect);
        let two = [
            ("lib.rs", "mod a;\nmod b;\n"),
            ("a.rs", "use crate::b::B;\n"),
            ("b.rs", "use super::a::X;\n"),
        ];
        assert!(check(tree(&two).path()).is_err());
    }
}
