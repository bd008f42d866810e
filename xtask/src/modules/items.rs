//! The `mod` declarations and `use` imports of one source file, leaving out `#[cfg(test)]`
//! and `#[cfg(doc)]` items (a test module sees everything, and imports for doc links are no
//! dependency; neither is part of the library's graph).

use super::tokens::{tokenize, Token};

/// `mod name;` (a file) or `mod name { .. }` (inline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    pub inline: bool,
}

/// One imported path of a `use` item (`use a::{b::C, d as e}` gives `a::b::C` and `a::d`),
/// or a `crate::` / `super::` path written in code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub path: Vec<String>,
    /// The name it binds (the last segment, or its `as` rename); `None` for a glob or a
    /// path in code.
    pub binds: Option<String>,
    pub line: usize,
    /// Written in code rather than imported with `use`.
    pub in_code: bool,
}

/// What a file declares and imports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Items {
    pub mods: Vec<ModDecl>,
    pub imports: Vec<Import>,
}

/// Reads the items of a file's source.
pub fn items(source: &str) -> Items {
    let tokens = tokenize(source);
    let mut items = Items::default();
    let mut i = 0;
    let mut test_only = false;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is("#") {
            let (attr, next) = attribute(&tokens, i);
            test_only |= is_test_cfg(attr);
            i = next;
        } else if test_only && t.is_ident() && !is_visibility(&tokens, i) {
            test_only = false;
            i = skip_item(&tokens, i);
        } else if t.is("use") {
            let end = find(&tokens, i, ";");
            let mut prefix = Vec::new();
            tree(&tokens[i + 1..end], &mut prefix, &mut items.imports);
            i = end + 1;
        } else if is_path_start(&tokens, i) {
            // A path written in code (`crate::drain::watch(..)`) depends like a `use`.
            let mut path = vec![t.text.clone()];
            let mut k = i + 1;
            while tokens.get(k).is_some_and(|t| t.is("::"))
                && tokens.get(k + 1).is_some_and(Token::is_ident)
            {
                path.push(tokens[k + 1].text.clone());
                k += 2;
            }
            items.imports.push(Import {
                path,
                binds: None,
                line: t.line,
                in_code: true,
            });
            i = k;
        } else if t.is("mod") && tokens.get(i + 1).is_some_and(Token::is_ident) {
            let inline = tokens.get(i + 2).is_some_and(|t| t.is("{"));
            items.mods.push(ModDecl {
                name: tokens[i + 1].text.clone(),
                inline,
            });
            // An inline module's body is read on as part of this file.
            i += 3;
        } else {
            i += 1;
        }
    }
    items
}

/// `crate::` or `super::` opening a path in code; `$crate` belongs to a macro's caller.
fn is_path_start(tokens: &[Token], i: usize) -> bool {
    let before = |k: usize, text: &str| i >= k && tokens[i - k].is(text);
    let after_dollar = before(1, "$");
    // `pub(in crate::a)` is a visibility, not a dependency.
    let restricted = before(1, "in") && before(2, "(") && before(3, "pub");
    (tokens[i].is("crate") || tokens[i].is("super"))
        && tokens.get(i + 1).is_some_and(|t| t.is("::"))
        && !after_dollar
        && !restricted
}

/// `pub`, `pub(crate)` and the like come before the item they belong to.
fn is_visibility(tokens: &[Token], i: usize) -> bool {
    tokens[i].is("pub")
        || (tokens[i].is_ident()
            && i > 0
            && tokens[i - 1].is("(")
            && i > 1
            && tokens[i - 2].is("pub"))
}

/// The attribute starting at `#` at `i` (`#[..]` or `#![..]`): its tokens inside the
/// brackets, and the index after it.
fn attribute(tokens: &[Token], i: usize) -> (&[Token], usize) {
    let open = i + if tokens.get(i + 1).is_some_and(|t| t.is("!")) {
        2
    } else {
        1
    };
    if !tokens.get(open).is_some_and(|t| t.is("[")) {
        return (&[], i + 1);
    }
    let close = matching(tokens, open, "[", "]");
    (&tokens[open + 1..close.min(tokens.len())], close + 1)
}

/// `cfg(test)`, `cfg(doc)` (imports for doc links only), or `cfg(all(test, ..))`; not
/// `cfg(not(test))`.
fn is_test_cfg(attr: &[Token]) -> bool {
    attr.first().is_some_and(|t| t.is("cfg"))
        && attr
            .iter()
            .enumerate()
            .any(|(k, t)| (t.is("test") || t.is("doc")) && !(k >= 2 && attr[k - 2].is("not")))
}

/// Index after the item starting at `i`: past its `;`, or past its `{ .. }` body.
fn skip_item(tokens: &[Token], i: usize) -> usize {
    let mut k = i;
    while k < tokens.len() {
        match tokens[k].text.as_str() {
            ";" => return k + 1,
            // A `use` group's braces are not a body.
            "{" if !tokens[i].is("use") => return matching(tokens, k, "{", "}") + 1,
            _ => k += 1,
        }
    }
    k
}

/// Index of the first `text` token from `i` (or the end).
fn find(tokens: &[Token], i: usize, text: &str) -> usize {
    (i..tokens.len())
        .find(|&k| tokens[k].is(text))
        .unwrap_or(tokens.len())
}

/// Index of the bracket closing the one opened at `open` (or the end).
fn matching(tokens: &[Token], open: usize, opening: &str, closing: &str) -> usize {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        if t.is(opening) {
            depth += 1;
        } else if t.is(closing) {
            depth -= 1;
            if depth == 0 {
                return k;
            }
        }
    }
    tokens.len()
}

/// Reads a use tree (`a::b::{c, d::*, e as f, self}`) below `prefix` into `out`.
fn tree(tokens: &[Token], prefix: &mut Vec<String>, out: &mut Vec<Import>) {
    let depth = prefix.len();
    let mut k = 0;
    while k < tokens.len() {
        let t = &tokens[k];
        match t.text.as_str() {
            "::" => k += 1,
            "*" => {
                out.push(Import {
                    path: prefix.clone(),
                    binds: None,
                    line: t.line,
                    in_code: false,
                });
                k += 1;
            }
            "{" => {
                let close = matching(tokens, k, "{", "}");
                // Split the group at its top-level commas.
                let inner = &tokens[k + 1..close.min(tokens.len())];
                let mut level = 0i32;
                for part in inner.split(|t| {
                    level += i32::from(t.is("{")) - i32::from(t.is("}"));
                    level == 0 && t.is(",")
                }) {
                    tree(part, prefix, out);
                }
                k = close + 1;
            }
            "as" => {
                if let (Some(last), Some(name)) = (out.last_mut(), tokens.get(k + 1)) {
                    last.binds = Some(name.text.clone());
                }
                k += 2;
            }
            // `self` in a group names the group's own path.
            "self" if depth > 0 && k == 0 => {
                let binds = prefix.last().cloned();
                out.push(Import {
                    path: prefix.clone(),
                    binds,
                    line: t.line,
                    in_code: false,
                });
                k += 1;
            }
            _ if t.is_ident() => {
                prefix.push(t.text.clone());
                let leaf = !tokens.get(k + 1).is_some_and(|n| n.is("::"));
                if leaf {
                    out.push(Import {
                        path: prefix.clone(),
                        binds: Some(t.text.clone()),
                        line: t.line,
                        in_code: false,
                    });
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    prefix.truncate(depth);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str) -> Vec<(String, Option<String>, usize)> {
        let imports = items(source).imports;
        imports
            .into_iter()
            .map(|i| (i.path.join("::"), i.binds, i.line))
            .collect()
    }

    #[test]
    fn grouped_renamed_glob_and_multi_line_uses() {
        let source =
            "use crate::{a::B, c,\n    d::{self, e::*, F as G}};\npub(crate) use super::h::I;\n";
        let found = paths(source);
        let expect = [
            ("crate::a::B", Some("B"), 1),
            ("crate::c", Some("c"), 1),
            ("crate::d", Some("d"), 2),
            ("crate::d::e", None, 2),
            ("crate::d::F", Some("G"), 2),
            ("super::h::I", Some("I"), 3),
        ];
        let expect: Vec<_> = expect
            .iter()
            .map(|(p, b, l)| (p.to_string(), b.map(str::to_string), *l))
            .collect();
        assert_eq!(found, expect);
    }

    #[test]
    fn paths_in_code() {
        let source = "fn f() {\n    crate::drain::watch(x);\n    let m = super::y::Z::new();\n    $crate::no::thing!();\n}\n\
                      pub(crate) fn g() {}\npub(in crate::a) fn h() {}\n";
        let found: Vec<(String, usize)> = paths(source).into_iter().map(|p| (p.0, p.2)).collect();
        assert_eq!(
            found,
            [
                ("crate::drain::watch".into(), 2),
                ("super::y::Z::new".into(), 3)
            ]
        );
    }

    #[test]
    fn test_items_are_left_out_and_cfg_gated_kept() {
        let source = "#[cfg(feature = \"io\")]\nmod io;\n#[cfg(test)]\nmod tests {\n    use crate::x::Y;\n}\n\
                      #[cfg(all(test, feature = \"a\"))]\nuse crate::{p, q};\n#[cfg(not(test))]\nuse crate::r::S;\n\
                      fn f() {\n    #[cfg(test)]\n    use crate::t;\n    use crate::u;\n}\n/// use crate::doc;\nmod inline { use crate::v; }\n#[cfg(doc)]\nuse crate::linked;";
        let found: Vec<String> = paths(source).into_iter().map(|p| p.0).collect();
        assert_eq!(found, ["crate::r::S", "crate::u", "crate::v"]);
        let mods: Vec<(String, bool)> = items(source)
            .mods
            .into_iter()
            .map(|m| (m.name, m.inline))
            .collect();
        assert_eq!(
            mods,
            [("io".to_string(), false), ("inline".to_string(), true)]
        );
    }
}
