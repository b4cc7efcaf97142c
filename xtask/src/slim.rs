//! What wasm-bindgen writes but the widget never uses, taken out of the bundle.
//!
//! Two things, measured on the bundle (gzip, wasm + glue):
//! - **wasm-streams' JS classes.** leptos depends on `server_fn` with its `browser` feature
//!   (not optional), which links `wasm-streams`; its `#[wasm_bindgen]` structs become exports of
//!   our module and classes in our glue (`IntoUnderlyingSource`, `…Sink`, `…ByteSource`). The
//!   widget streams nothing. Removing the exports (wasm-opt `--remove-exports`, before `-Oz` so
//!   the code behind them goes too) and the classes saves 1.9 KB.
//! - **Import names.** Every function the wasm imports from the glue is named
//!   `__wbg_<name>_<16 hex digits>` twice, once in the wasm and once in the glue; the hex
//!   digits do not compress. Renaming them to one or two letters in both files saves 6 KB.
//!
//! Both steps check what they expect to find and fail with a message naming it, so a
//! wasm-bindgen with a different glue layout stops the build instead of shipping a broken one.

use std::collections::BTreeSet;

/// The exports nobody calls: wasm-streams' classes, and wasm-bindgen/leptos internals the
/// glue does not reference (a wildcard list for wasm-opt's `--remove-exports`).
pub const UNUSED_EXPORTS: &str =
    "*intounderlying*,__abort_handler,__instance_terminated,_WASM_SPLIT_MARKER_*";

/// The wasm-streams classes of the glue, with their finalizers and dispose hooks.
const STREAM_CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

/// One import renamed: the name wasm-bindgen gave it and the short one it has now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

/// The glue without wasm-streams' classes (see the module note).
pub fn drop_stream_classes(glue: &str) -> Result<String, String> {
    let mut glue = glue.to_owned();
    for class in STREAM_CLASSES {
        let start_marker = format!("export class {class} {{\n");
        let start = glue.find(&start_marker).ok_or_else(|| {
            format!("the glue has no `export class {class}`: the wasm-bindgen glue layout changed; update xtask/src/slim.rs")
        })?;
        // The class body ends at the first closing brace in the first column.
        let end = glue[start..]
            .find("\n}\n")
            .map(|offset| start + offset + 3)
            .ok_or_else(|| format!("the glue's class {class} has no end"))?;
        glue.replace_range(start..end, "");
        remove_line_starting(&mut glue, &format!("if (Symbol.dispose) {class}.prototype"))?;
        remove_statement_starting(&mut glue, &format!("const {class}Finalization = "))?;
        if glue.contains(class) {
            return Err(format!(
                "the glue still mentions {class} after its class was removed"
            ));
        }
    }
    Ok(glue)
}

fn remove_line_starting(text: &mut String, prefix: &str) -> Result<(), String> {
    let start = find_line_start(text, prefix)?;
    let end = text[start..]
        .find('\n')
        .map_or(text.len(), |offset| start + offset + 1);
    text.replace_range(start..end, "");
    Ok(())
}

fn remove_statement_starting(text: &mut String, prefix: &str) -> Result<(), String> {
    let start = find_line_start(text, prefix)?;
    let end = text[start..]
        .find(";\n")
        .map(|offset| start + offset + 2)
        .ok_or_else(|| format!("the glue's `{prefix}` statement has no end"))?;
    text.replace_range(start..end, "");
    Ok(())
}

fn find_line_start(text: &str, prefix: &str) -> Result<usize, String> {
    if text.starts_with(prefix) {
        return Ok(0);
    }
    text.find(&format!("\n{prefix}"))
        .map(|index| index + 1)
        .ok_or_else(|| format!("the glue has no line starting `{prefix}`: the wasm-bindgen glue layout changed; update xtask/src/slim.rs"))
}

/// The wasm with every import renamed to a short name (`a`, `b`, … `Z`, `ba`, …), in the
/// order the import section lists them, and without custom sections; and the renames.
pub fn shorten_imports(wasm: &[u8]) -> Result<(Vec<u8>, Vec<Renamed>), String> {
    use wasmparser::{Parser, Payload};
    let invalid = |error: wasmparser::BinaryReaderError| format!("reading the wasm: {error}");
    let mut module = wasm_encoder::Module::new();
    let mut renamed: Vec<Renamed> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        if let Payload::ImportSection(reader) = &payload {
            let mut imports = wasm_encoder::ImportSection::new();
            for import in reader.clone().into_imports() {
                let import = import.map_err(invalid)?;
                let short = match renamed.iter().find(|rename| rename.from == import.name) {
                    Some(rename) => rename.to.clone(),
                    None => {
                        let short = short_name(renamed.len());
                        renamed.push(Renamed {
                            from: import.name.to_owned(),
                            to: short.clone(),
                        });
                        short
                    }
                };
                let ty = wasm_encoder::EntityType::try_from(import.ty)
                    .map_err(|error| format!("re-encoding import {}: {error:?}", import.name))?;
                imports.import(import.module, &short, ty);
            }
            module.section(&imports);
        } else if let Payload::CustomSection(_) = &payload {
            // `producers`, `target_features`, wasm-split's marker: tooling metadata the
            // browser never reads (~280 bytes).
        } else if let Some((id, range)) = payload.as_section() {
            let data = &wasm[range.start as usize..range.end as usize];
            module.section(&wasm_encoder::RawSection { id, data });
        }
    }
    Ok((module.finish(), renamed))
}

/// What is left of wasm-streams once its exports are gone: the promise closures its methods
/// made (`js_sys::futures::future_to_promise`), with the stream code they run. Their only
/// reference is their slot in the function table (a closure's address, handed to JS), which
/// keeps them alive through `-Oz` although nothing can ever call them: measured, 6 KB of
/// wasm. The widget itself never turns a future into a promise (its tasks go through
/// `spawn_local`), which a test of this module checks in its sources.
const DEAD_TABLE_ENTRIES: &str = "js_sys::futures::future_to_promise::";

/// The wasm (as wasm-bindgen wrote it, with its name section) with the table slots of
/// [`DEAD_TABLE_ENTRIES`] pointed at a live function instead, so that wasm-opt removes their
/// code; and without its name section. Returns how many slots changed. Slots are never
/// removed (indices stay), only retargeted: a call through one would trap on the signature
/// check, and none is made.
pub fn drop_dead_table_entries(wasm: &[u8]) -> Result<(Vec<u8>, usize), String> {
    use wasmparser::{ElementItems, ElementKind, KnownCustom, Name, Parser, Payload};
    let invalid = |error: wasmparser::BinaryReaderError| format!("reading the wasm: {error}");
    let mut dead = BTreeSet::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CustomSection(reader) = payload.map_err(invalid)?
            && let KnownCustom::Name(names) = reader.as_known()
        {
            for name in names {
                if let Name::Function(map) = name.map_err(invalid)? {
                    for naming in map {
                        let naming = naming.map_err(invalid)?;
                        if naming.name.starts_with(DEAD_TABLE_ENTRIES) {
                            dead.insert(naming.index);
                        }
                    }
                }
            }
        }
    }
    if dead.is_empty() {
        return Err(format!(
            "no function named {DEAD_TABLE_ENTRIES}* (keep wasm-bindgen's name section for this step, or update slim.rs)"
        ));
    }
    let mut changed = 0;
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        if let Payload::ElementSection(reader) = &payload {
            let mut elements = wasm_encoder::ElementSection::new();
            for element in reader.clone() {
                let element = element.map_err(invalid)?;
                let (
                    ElementKind::Active {
                        table_index,
                        offset_expr,
                    },
                    ElementItems::Functions(functions),
                ) = (element.kind, element.items)
                else {
                    return Err("an element segment that is not an active list of functions: update slim.rs".to_string());
                };
                let functions: Vec<u32> = functions
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(invalid)?;
                let Some(live) = functions
                    .iter()
                    .copied()
                    .find(|index| !dead.contains(index))
                else {
                    return Err(
                        "an element segment of dead functions only: update slim.rs".to_string()
                    );
                };
                let retargeted: Vec<u32> = functions
                    .iter()
                    .map(|index| {
                        if dead.contains(index) {
                            changed += 1;
                            live
                        } else {
                            *index
                        }
                    })
                    .collect();
                let mut offset = offset_expr.get_binary_reader();
                let bytes = offset
                    .read_bytes(offset.bytes_remaining())
                    .map_err(invalid)?;
                // The expression's bytes end with `end`, which the encoder writes itself.
                let offset = wasm_encoder::ConstExpr::raw(bytes[..bytes.len() - 1].iter().copied());
                elements.active(
                    table_index,
                    &offset,
                    wasm_encoder::Elements::Functions(retargeted.into()),
                );
            }
            module.section(&elements);
        } else if let Payload::CustomSection(reader) = &payload
            && reader.name() == "name"
        {
            // Names go here; `target_features` stays (wasm-opt reads it), the rest after.
        } else if let Some((id, range)) = payload.as_section() {
            let data = &wasm[range.start as usize..range.end as usize];
            module.section(&wasm_encoder::RawSection { id, data });
        }
    }
    Ok((module.finish(), changed))
}

/// `0 → a`, `51 → Z`, `52 → ba`: letters only, so every name is a plain JS property name.
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[index % LETTERS.len()]);
        index /= LETTERS.len();
        if index == 0 {
            break;
        }
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// The glue with its import object following the renames: each entry the wasm still imports
/// takes its short name; an entry the wasm no longer imports (its only callers were removed)
/// is dropped.
pub fn rename_glue_imports(glue: &str, renamed: &[Renamed]) -> Result<String, String> {
    const OBJECT_START: &str = "    const import0 = {\n";
    const OBJECT_END: &str = "\n    };\n";
    const ENTRY_INDENT: &str = "        ";
    let start = glue
        .find(OBJECT_START)
        .map(|index| index + OBJECT_START.len())
        .ok_or("the glue has no `const import0 = {`: the wasm-bindgen glue layout changed; update xtask/src/slim.rs")?;
    let end = glue[start..]
        .find(OBJECT_END)
        .map(|offset| start + offset + 1)
        .ok_or("the glue's import object has no end")?;

    // An entry is its header line (`        name: function(…`) and every line up to the next
    // header: bodies and closing braces are indented deeper or start with `}`.
    let is_header = |line: &str| {
        line.strip_prefix(ENTRY_INDENT)
            .and_then(|entry| entry.chars().next())
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == '"')
    };
    let mut entries: Vec<Vec<&str>> = Vec::new();
    for line in glue[start..end].split_inclusive('\n') {
        match entries.last_mut() {
            Some(entry) if !is_header(line) => entry.push(line),
            None if !is_header(line) => {
                return Err(format!(
                    "unexpected line in the glue's import object: {line:?}"
                ));
            }
            _ => entries.push(vec![line]),
        }
    }

    let mut object = String::with_capacity(end - start);
    let mut found = BTreeSet::new();
    for entry in entries {
        let header = entry[0];
        if header.starts_with("        __proto__:") {
            entry.iter().for_each(|line| object.push_str(line));
            continue;
        }
        let Some((name, rest)) = header[ENTRY_INDENT.len()..].split_once(": function(") else {
            return Err(format!(
                "unexpected entry in the glue's import object: {header:?}"
            ));
        };
        if let Some(rename) = renamed.iter().find(|rename| rename.from == name) {
            found.insert(name);
            object.push_str(ENTRY_INDENT);
            object.push_str(&rename.to);
            object.push_str(": function(");
            object.push_str(rest);
            entry[1..].iter().for_each(|line| object.push_str(line));
        }
    }
    if let Some(missing) = renamed
        .iter()
        .find(|rename| !found.contains(rename.from.as_str()))
    {
        return Err(format!(
            "the wasm imports {} but the glue does not define it",
            missing.from
        ));
    }
    Ok(format!("{}{}{}", &glue[..start], object, &glue[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "export class IntoUnderlyingSink {
    free() {
        IntoUnderlyingSinkFinalization.unregister(this);
    }
}
if (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;

export function mount(host, config) {
    wasm.mount(host, config);
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_append_0000000000000000: function() { return handleError(function (arg0, arg1) {
            arg0.append(arg1);
        }, arguments); },
        __wbg_now_463ac581d2fc7ea3: function() {
            const ret = Date.now();
            return ret;
        },
        __wbg_enqueue_c11626eae1c54509: function(arg0, arg1) {
            arg0.enqueue(arg1);
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
        },
    };
    return {
        __proto__: null,
        \"./mighty_bg.js\": import0,
    };
}
const IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_intounderlyingsink_free(ptr >>> 0, 1));
";

    #[test]
    fn short_names_are_letters_and_unique() {
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(51), "Z");
        assert_eq!(short_name(52), "ba");
        let names: BTreeSet<String> = (0..3000).map(short_name).collect();
        assert_eq!(names.len(), 3000);
    }

    #[test]
    fn renaming_keeps_imported_entries_and_drops_the_rest() {
        let renamed = [
            Renamed {
                from: "__wbg_now_463ac581d2fc7ea3".into(),
                to: "a".into(),
            },
            Renamed {
                from: "__wbindgen_init_externref_table".into(),
                to: "b".into(),
            },
        ];
        let glue = rename_glue_imports(GLUE, &renamed).unwrap();
        assert!(glue.contains("        a: function() {\n            const ret = Date.now();"));
        assert!(glue.contains("        b: function() {\n            const table"));
        assert!(!glue.contains("append"), "{glue}");
        assert!(!glue.contains("enqueue"), "{glue}");
        assert!(!glue.contains("__wbg_now"));
        assert!(glue.contains("\"./mighty_bg.js\": import0"));
    }

    #[test]
    fn an_import_missing_from_the_glue_is_an_error() {
        let renamed = [Renamed {
            from: "__wbg_gone_0000000000000000".into(),
            to: "a".into(),
        }];
        let error = rename_glue_imports(GLUE, &renamed).unwrap_err();
        assert!(error.contains("__wbg_gone_0000000000000000"), "{error}");
    }

    #[test]
    fn a_changed_glue_layout_is_an_error_naming_it() {
        let error = drop_stream_classes("export function mount() {}\n").unwrap_err();
        assert!(error.contains("IntoUnderlying"), "{error}");
        let error = rename_glue_imports("const imports = {};\n", &[]).unwrap_err();
        assert!(error.contains("import0"), "{error}");
    }

    /// A class as wasm-bindgen 0.2 writes it, with its dispose hook and finalizer.
    fn stream_class(name: &str) -> String {
        format!(
            "export class {name} {{\n    free() {{\n        {name}Finalization.unregister(this);\n    }}\n}}\n\
             if (Symbol.dispose) {name}.prototype[Symbol.dispose] = {name}.prototype.free;\n\
             const {name}Finalization = (typeof FinalizationRegistry === 'undefined')\n    \
             ? {{ register: () => {{}}, unregister: () => {{}} }}\n    \
             : new FinalizationRegistry(ptr => wasm.free(ptr >>> 0, 1));\n"
        )
    }

    #[test]
    fn the_stream_classes_go_with_their_finalizers() {
        let glue: String = STREAM_CLASSES
            .iter()
            .map(|name| stream_class(name))
            .collect::<String>()
            + "export function mount(host, config) {\n    wasm.mount(host, config);\n}\n";
        let slim = drop_stream_classes(&glue).unwrap();
        assert_eq!(
            slim,
            "export function mount(host, config) {\n    wasm.mount(host, config);\n}\n"
        );
    }

    #[test]
    fn shortened_imports_keep_their_module_and_type_and_custom_sections_go() {
        // (module (import "./m.js" "__wbg_now_463ac581d2fc7ea3" (func (result f64)))
        //         (import "./m.js" "__wbg_log_0000000000000000" (func (param f64))))
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::F64]);
        types.ty().function([wasm_encoder::ValType::F64], []);
        let mut imports = wasm_encoder::ImportSection::new();
        imports.import(
            "./m.js",
            "__wbg_now_463ac581d2fc7ea3",
            wasm_encoder::EntityType::Function(0),
        );
        imports.import(
            "./m.js",
            "__wbg_log_0000000000000000",
            wasm_encoder::EntityType::Function(1),
        );
        let mut module = wasm_encoder::Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&wasm_encoder::CustomSection {
                name: "producers".into(),
                data: b"rustc".as_slice().into(),
            });
        let (wasm, renamed) = shorten_imports(&module.finish()).unwrap();
        assert_eq!(
            renamed,
            [
                Renamed {
                    from: "__wbg_now_463ac581d2fc7ea3".into(),
                    to: "a".into()
                },
                Renamed {
                    from: "__wbg_log_0000000000000000".into(),
                    to: "b".into()
                },
            ]
        );
        let mut seen = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.unwrap() {
                wasmparser::Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.unwrap();
                        seen.push((import.module.to_owned(), import.name.to_owned(), import.ty));
                    }
                }
                wasmparser::Payload::CustomSection(section) => {
                    panic!("custom section {} kept", section.name())
                }
                _ => {}
            }
        }
        assert_eq!(
            seen,
            [
                ("./m.js".into(), "a".into(), wasmparser::TypeRef::Func(0)),
                ("./m.js".into(), "b".into(), wasmparser::TypeRef::Func(1)),
            ]
        );
    }

    /// A module of three functions in one table segment, named like wasm-bindgen's output.
    fn module_with_table(names: &[&str]) -> Vec<u8> {
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut functions = wasm_encoder::FunctionSection::new();
        let mut code = wasm_encoder::CodeSection::new();
        let mut name_map = wasm_encoder::NameMap::new();
        for (index, name) in names.iter().enumerate() {
            functions.function(0);
            let mut body = wasm_encoder::Function::new([]);
            body.instructions().end();
            code.function(&body);
            name_map.append(index as u32, name);
        }
        let mut tables = wasm_encoder::TableSection::new();
        tables.table(wasm_encoder::TableType {
            element_type: wasm_encoder::RefType::FUNCREF,
            table64: false,
            minimum: 4,
            maximum: None,
            shared: false,
        });
        let mut elements = wasm_encoder::ElementSection::new();
        let all: Vec<u32> = (0..names.len() as u32).collect();
        elements.active(
            None,
            &wasm_encoder::ConstExpr::i32_const(1),
            wasm_encoder::Elements::Functions(all.into()),
        );
        let mut name_section = wasm_encoder::NameSection::new();
        name_section.functions(&name_map);
        let mut module = wasm_encoder::Module::new();
        module
            .section(&types)
            .section(&functions)
            .section(&tables)
            .section(&elements)
            .section(&code)
            .section(&name_section);
        module.finish()
    }

    #[test]
    fn dead_promise_closures_leave_the_table_and_live_slots_stay() {
        let wasm = module_with_table(&[
            "mighty_widget::on_click::h1",
            "js_sys::futures::future_to_promise::{{closure}}::{{closure}}::h2",
            "wasm_bindgen::convert::closures::_::invoke::h3",
        ]);
        let (slim, changed) = drop_dead_table_entries(&wasm).unwrap();
        assert_eq!(changed, 1);
        let mut slots = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&slim) {
            match payload.unwrap() {
                wasmparser::Payload::ElementSection(reader) => {
                    for element in reader {
                        let element = element.unwrap();
                        let wasmparser::ElementKind::Active { offset_expr, .. } = element.kind
                        else {
                            panic!("not active")
                        };
                        let mut offset = offset_expr.get_operators_reader();
                        assert!(matches!(
                            offset.read().unwrap(),
                            wasmparser::Operator::I32Const { value: 1 }
                        ));
                        let wasmparser::ElementItems::Functions(functions) = element.items else {
                            panic!("not functions")
                        };
                        slots.extend(functions.into_iter().map(Result::unwrap));
                    }
                }
                wasmparser::Payload::CustomSection(section) => {
                    assert_ne!(section.name(), "name", "the names go")
                }
                _ => {}
            }
        }
        // Same slots, same order; the dead one points at a live function.
        assert_eq!(slots, [0, 0, 2]);
    }

    #[test]
    fn without_names_the_step_says_so() {
        let wasm = module_with_table(&["a", "b"]);
        let error = drop_dead_table_entries(&wasm).unwrap_err();
        assert!(error.contains("future_to_promise"), "{error}");
    }

    /// The step is only right while nothing the widget runs turns a future into a promise.
    #[test]
    fn the_widget_never_makes_a_promise_of_a_future() {
        let sources = crate::run::workspace_root().join("crates/widget/src");
        for entry in std::fs::read_dir(sources).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains("future_to_promise"),
                "{} calls future_to_promise: its closures would be dropped from the table by slim.rs",
                path.display()
            );
        }
    }
}
