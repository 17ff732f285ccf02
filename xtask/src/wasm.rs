//! Small, checked rewrites of the built wasm that wasm-bindgen and wasm-opt do not make.
//! Reading through `wasmparser`, writing through `wasm-encoder`: a rewrite re-encodes the
//! one section it changes and copies every other byte for byte.

use std::collections::HashMap;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ExportSection, ImportSection, Module, RawSection};
use wasmparser::{Parser, Payload, RefType, TypeRef};

use crate::Result;

fn read_err(e: impl std::fmt::Display) -> String {
    format!("reading the wasm: {e}")
}

/// Rebuilds `wasm` section by section: `replace` writes its own encoding of a section into
/// the module and says so; every other section is copied as it is.
fn rebuild(wasm: &[u8], mut replace: impl FnMut(&Payload<'_>, &mut Module) -> Result<bool>) -> Result<Vec<u8>> {
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(read_err)?;
        let Some((id, range)) = payload.as_section() else { continue };
        if !replace(&payload, &mut module)? {
            module.section(&RawSection { id, data: &wasm[range] });
        }
    }
    Ok(module.finish())
}

/// The module's imports, in order.
fn imports(wasm: &[u8]) -> Result<Vec<wasmparser::Import<'_>>> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(reader) = payload.map_err(read_err)? {
            for import in reader.into_imports() {
                out.push(import.map_err(read_err)?);
            }
        }
    }
    Ok(out)
}

/// Binaryen 108 (Debian's) keeps every `table.get`/`table.set` on wasm-bindgen's externref
/// table but writes the `__wbindgen_externrefs` export against the funcref table, which
/// browsers then refuse ("function-typed object must be null"). Points the export back at
/// the externref table. Returns whether anything changed.
pub fn fix_externref_export(wasm: &mut Vec<u8>) -> Result<bool> {
    let imported_tables = imports(wasm)?.iter().filter(|i| matches!(i.ty, TypeRef::Table(_))).count() as u32;
    let mut externref_table = None;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::TableSection(reader) = payload.map_err(read_err)? {
            for (i, table) in reader.into_iter().enumerate() {
                if table.map_err(read_err)?.ty.element_type == RefType::EXTERNREF && externref_table.is_none() {
                    externref_table = Some(imported_tables + i as u32);
                }
            }
        }
    }
    let Some(table) = externref_table else { return Ok(false) };
    let mut changed = false;
    let rebuilt = rebuild(wasm, |payload, module| {
        let Payload::ExportSection(reader) = payload else { return Ok(false) };
        let mut exports = ExportSection::new();
        for export in reader.clone() {
            let e = export.map_err(read_err)?;
            let mut index = e.index;
            if e.kind == wasmparser::ExternalKind::Table && e.name == "__wbindgen_externrefs" && index != table {
                index = table;
                changed = true;
            }
            let kind = RoundtripReencoder.export_kind(e.kind).map_err(|e| e.to_string())?;
            exports.export(e.name, kind, index);
        }
        module.section(&exports);
        Ok(true)
    })?;
    if changed {
        *wasm = rebuilt;
    }
    Ok(changed)
}

/// The `n`th short name: `a` … `z`, `A` … `Z`, `ba` …: valid unquoted JavaScript keys.
fn short_name(mut n: usize) -> String {
    const ALPHABET: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(ALPHABET[n % 52]);
        n /= 52;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// wasm-bindgen names each import `__wbg_<method>_<16 hex digits>` in module
/// `./widget_bg.js`, in the wasm and again in the glue: about 4 KB each, and the hashes do
/// not compress. Renames every import to a short name in both files, so they still agree.
///
/// The glue must hold each import's key exactly once, at the start of a line (after
/// `strip_comments`), and the module name exactly once as `"<module>": import0`: anything
/// else means wasm-bindgen's output changed, and the build stops rather than guess.
/// Returns the rewritten glue.
pub fn minify_imports(wasm: &mut Vec<u8>, js: &str, module: &str) -> Result<String> {
    let short_module = "w";
    // The same function may be imported twice: one key in the glue, one short name.
    let mut renames: Vec<(String, String)> = Vec::new();
    for import in imports(wasm)?.iter().filter(|i| i.module == module) {
        if !renames.iter().any(|(long, _)| long == import.name) {
            renames.push((import.name.to_string(), short_name(renames.len())));
        }
    }
    if renames.is_empty() {
        return Ok(js.to_string());
    }
    let short: HashMap<&str, &str> = renames.iter().map(|(l, s)| (l.as_str(), s.as_str())).collect();
    let rebuilt = rebuild(wasm, |payload, out| {
        let Payload::ImportSection(reader) = payload else { return Ok(false) };
        let mut section = ImportSection::new();
        for import in reader.clone().into_imports() {
            let i = import.map_err(read_err)?;
            let ty = RoundtripReencoder.entity_type(i.ty).map_err(|e| e.to_string())?;
            match short.get(i.name).filter(|_| i.module == module) {
                Some(name) => section.import(short_module, name, ty),
                None => section.import(i.module, i.name, ty),
            };
        }
        out.section(&section);
        Ok(true)
    })?;
    let glue = rename_in_glue(js, module, short_module, &renames)?;
    *wasm = rebuilt;
    Ok(glue)
}

/// The glue with every import key and the module name renamed, or why it cannot be.
fn rename_in_glue(js: &str, module: &str, short_module: &str, renames: &[(String, String)]) -> Result<String> {
    let mut keys: HashMap<&str, &str> = renames.iter().map(|(long, short)| (long.as_str(), short.as_str())).collect();
    let mut out = String::with_capacity(js.len());
    let mut module_seen = 0;
    let module_key = format!("\"{module}\": import0");
    for line in js.lines() {
        let key =
            line.split_once(':').map(|(k, _)| k).filter(|k| k.starts_with("__wbg") || k.starts_with("__wbindgen"));
        if let Some(short) = key.and_then(|k| keys.remove(k)) {
            out.push_str(short);
            out.push_str(&line[key.map_or(0, str::len)..]);
        } else if line.contains(&module_key) {
            module_seen += 1;
            out.push_str(&line.replace(&module_key, &format!("\"{short_module}\": import0")));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if module_seen != 1 {
        return Err(format!("the glue names the import module {module:?} {module_seen} times, expected once"));
    }
    if let Some(missing) = keys.keys().next() {
        return Err(format!("the glue does not define the import {missing} at the start of a line"));
    }
    for (long, _) in renames {
        if out.contains(long.as_str()) {
            return Err(format!("the glue uses the import {long} somewhere else too: not renaming"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CustomSection, EntityType, ExportKind, MemoryType, RefType as ERefType, TableSection, TableType, TypeSection,
    };

    const M: &str = "./widget_bg.js";

    /// A module with a type section, imports, and a custom section after.
    fn module(imported: &[(&str, &str, EntityType)]) -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut imports = ImportSection::new();
        for (module, name, ty) in imported {
            imports.import(module, name, *ty);
        }
        m.section(&imports);
        m.section(&CustomSection { name: "name".into(), data: b"XYZ".as_slice().into() });
        m.finish()
    }

    fn memory() -> EntityType {
        EntityType::Memory(MemoryType {
            minimum: 1,
            maximum: Some(2),
            memory64: false,
            shared: false,
            page_size_log2: None,
        })
    }

    fn imports_of(wasm: &[u8]) -> Vec<(String, String)> {
        imports(wasm).unwrap().into_iter().map(|i| (i.module.to_string(), i.name.to_string())).collect()
    }

    const GLUE: &str = "const import0 = {\n__wbg_origin_dafa41a3ee9236b1: function(arg0) {\nreturn arg0.origin;\n},\n__wbindgen_init_externref_table: function() {\n},\n__wbg_memory_0123456789abcdef: new WebAssembly.Memory({initial: 1}),\n};\nreturn {\n\"./widget_bg.js\": import0,\n};\n";

    fn sample() -> Vec<u8> {
        module(&[
            (M, "__wbg_origin_dafa41a3ee9236b1", EntityType::Function(0)),
            (M, "__wbindgen_init_externref_table", EntityType::Function(0)),
            ("env", "keep_me", EntityType::Function(0)),
            (M, "__wbg_memory_0123456789abcdef", memory()),
        ])
    }

    #[test]
    fn minified_imports_agree_between_the_wasm_and_the_glue() {
        let mut wasm = sample();
        let js = minify_imports(&mut wasm, GLUE, M).unwrap();
        let w = |f: &str| ("w".to_string(), f.to_string());
        assert_eq!(imports_of(&wasm), [w("a"), w("b"), ("env".into(), "keep_me".into()), w("c")]);
        assert!(matches!(imports(&wasm).unwrap()[3].ty, TypeRef::Memory(m) if m.maximum == Some(2)), "types kept");
        assert!(js.contains("\na: function(arg0) {\nreturn arg0.origin;"), "{js}");
        assert!(js.contains("\nb: function() {"), "{js}");
        assert!(js.contains("\nc: new WebAssembly.Memory"), "{js}");
        assert!(js.contains("\"w\": import0"), "{js}");
        assert!(!js.contains("__wbg") && !js.contains("widget_bg.js"), "{js}");
        assert!(wasm.ends_with(b"\x04nameXYZ"), "the sections after the imports are kept");
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
    }

    #[test]
    fn a_function_imported_twice_keeps_one_name() {
        let f = EntityType::Function(0);
        let mut wasm = module(&[
            (M, "__wbg_origin_dafa41a3ee9236b1", f),
            (M, "__wbindgen_init_externref_table", f),
            (M, "__wbg_origin_dafa41a3ee9236b1", f),
        ]);
        let glue = GLUE.replace("__wbg_memory_0123456789abcdef: new WebAssembly.Memory({initial: 1}),\n", "");
        let js = minify_imports(&mut wasm, &glue, M).unwrap();
        let fields: Vec<String> = imports_of(&wasm).into_iter().map(|(_, f)| f).collect();
        assert_eq!(fields, ["a", "b", "a"]);
        assert!(js.contains("\na: function(arg0)") && js.contains("\nb: function()"), "{js}");
    }

    #[test]
    fn a_glue_that_does_not_match_the_wasm_stops_the_build() {
        let without_one = GLUE.replace("__wbindgen_init_externref_table: function() {\n},\n", "");
        assert!(minify_imports(&mut sample(), &without_one, M).is_err());
        let used_twice = GLUE.replace("};\nreturn", "};\nimport0.__wbg_origin_dafa41a3ee9236b1();\nreturn");
        assert!(minify_imports(&mut sample(), &used_twice, M).is_err());
        assert!(minify_imports(&mut sample(), &GLUE.replace("\"./widget_bg.js\": import0", ""), M).is_err());
        let mut wasm = sample();
        let before = wasm.clone();
        let _ = minify_imports(&mut wasm, &without_one, M);
        assert_eq!(wasm, before, "a refused rename leaves the wasm as it was");
    }

    #[test]
    fn the_externref_export_is_pointed_back_at_the_externref_table() {
        let table = |element_type| TableType { element_type, table64: false, minimum: 1, maximum: None, shared: false };
        let build = |index| {
            let mut m = Module::new();
            let mut tables = TableSection::new();
            tables.table(table(ERefType::FUNCREF)).table(table(ERefType::EXTERNREF));
            m.section(&tables);
            let mut exports = ExportSection::new();
            exports.export("__wbindgen_externrefs", ExportKind::Table, index);
            m.section(&exports);
            m.finish()
        };
        let mut wrong = build(0);
        assert!(fix_externref_export(&mut wrong).unwrap());
        assert_eq!(wrong, build(1));
        let mut right = build(1);
        assert!(!fix_externref_export(&mut right).unwrap(), "a right export is left alone");
    }

    #[test]
    fn short_names_are_distinct_javascript_identifiers() {
        let names: std::collections::HashSet<String> = (0..3000).map(short_name).collect();
        assert_eq!(names.len(), 3000);
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphabetic())));
    }
}
