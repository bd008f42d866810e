//! Rust source as a flat list of tokens with their line numbers: enough to find `mod` and
//! `use` items. Comments (doc comments too), strings and char literals are dropped, so
//! nothing inside them is taken for code.

/// A token: an identifier or keyword, `::`, or one punctuation character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub line: usize,
}

impl Token {
    pub fn is(&self, text: &str) -> bool {
        self.text == text
    }

    pub fn is_ident(&self) -> bool {
        self.text
            .starts_with(|c: char| c.is_alphabetic() || c == '_')
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `source` into tokens.
pub fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    // Skips to just past `end` (a char sequence), counting lines.
    let skip_past = |i: &mut usize, line: &mut usize, end: &[char]| {
        while *i < chars.len() && !chars[*i..].starts_with(end) {
            *line += usize::from(chars[*i] == '\n');
            *i += 1;
        }
        *i = (*i + end.len()).min(chars.len());
    };
    while i < chars.len() {
        let c = chars[i];
        let prev_ident = i > 0 && is_ident_char(chars[i - 1]);
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            // The newline is left for the arm above to count.
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                // Block comments nest.
                let mut depth = 0;
                while i < chars.len() {
                    match (chars[i], at(i + 1)) {
                        ('/', '*') => (depth, i) = (depth + 1, i + 2),
                        ('*', '/') => (depth, i) = (depth - 1, i + 2),
                        (c, _) => (line, i) = (line + usize::from(c == '\n'), i + 1),
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    line += usize::from(chars[i] == '\n');
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            // Raw strings: r"..", r#".."#, br#".."#.
            'r' if (!prev_ident
                || (chars[i - 1] == 'b' && (i < 2 || !is_ident_char(chars[i - 2]))))
                && matches!(at(i + 1), '"' | '#') =>
            {
                let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                if at(i + 1 + hashes) != '"' {
                    tokens.push(Token {
                        text: "r".into(),
                        line,
                    });
                    i += 1;
                    continue;
                }
                i += 2 + hashes;
                let end: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                skip_past(&mut i, &mut line, &end);
            }
            // A char literal ('x', '\n', '\u{..}'); a lifetime ('a) is left as a quote and a name.
            '\'' if at(i + 1) == '\\' => {
                // Past the quote, the backslash and the escaped character.
                i += 3;
                skip_past(&mut i, &mut line, &['\'']);
            }
            '\'' if at(i + 2) == '\'' => i += 3,
            c if is_ident_char(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token {
                    text: chars[start..i].iter().collect(),
                    line,
                });
            }
            ':' if at(i + 1) == ':' => {
                tokens.push(Token {
                    text: "::".into(),
                    line,
                });
                i += 2;
            }
            c if c.is_whitespace() => i += 1,
            c => {
                tokens.push(Token {
                    text: c.to_string(),
                    line,
                });
                i += 1;
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        tokenize(source).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn drops_comments_strings_and_chars() {
        let source = "/// use crate::a;\nuse /* use crate::b; /* nested */ */ x::y; // use crate::c;\n\
                      let s = \"use crate::d; \\\" {\"; let r = r#\"use \"crate::e\"#; let c = '{'; let e = '\\'';\n\
                      fn f<'a>(x: &'a str) {}";
        assert_eq!(
            texts(source),
            [
                "use", "x", "::", "y", ";", "let", "s", "=", ";", "let", "r", "=", ";", "let", "c",
                "=", ";", "let", "e", "=", ";", "fn", "f", "<", "'", "a", ">", "(", "x", ":", "&",
                "'", "a", "str", ")", "{", "}"
            ]
        );
    }

    #[test]
    fn counts_lines_across_comments_and_strings() {
        let tokens = tokenize("a\n/* x\ny */ b // c\n\"s\nt\" d\n");
        let lines: Vec<(String, usize)> = tokens.into_iter().map(|t| (t.text, t.line)).collect();
        assert_eq!(lines, [("a".into(), 1), ("b".into(), 3), ("d".into(), 5)]);
    }
}
