//! Minifies `src/widget.css` into `$OUT_DIR/widget.min.css`, which `style.rs` embeds: the
//! stylesheet's comments and indentation would otherwise ship in the wasm (about 1 KB gzip).
//! Comments go, runs of whitespace become one space, and the spaces around `{ } ; ,` and
//! after `:` go; text inside quotes is kept as written.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo::rerun-if-changed=src/widget.css");
    let css = fs::read_to_string("src/widget.css").expect("src/widget.css is readable");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("widget.min.css");
    fs::write(out, minify(&css)).expect("OUT_DIR is writable");
}

fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    while let Some(character) = chars.next() {
        if let Some(open) = quote {
            out.push(character);
            if character == open {
                quote = None;
            }
            continue;
        }
        if character == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut last = ' ';
            for inner in chars.by_ref() {
                if last == '*' && inner == '/' {
                    break;
                }
                last = inner;
            }
            pending_space = true;
            continue;
        }
        if character.is_whitespace() {
            pending_space = true;
            continue;
        }
        let tight = |c: char| matches!(c, '{' | '}' | ';' | ',');
        if pending_space
            && !out.is_empty()
            && !tight(character)
            && !out.ends_with(|c: char| tight(c) || c == ':')
        {
            out.push(' ');
        }
        pending_space = false;
        if character == '"' || character == '\'' {
            quote = Some(character);
        }
        out.push(character);
    }
    out
}
