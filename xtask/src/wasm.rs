//! Small, checked rewrites of the built wasm that wasm-bindgen and wasm-opt do not make.

use crate::Result;

pub fn read_leb(bytes: &[u8], at: &mut usize) -> Result<u32> {
    let (mut value, mut shift) = (0u32, 0);
    loop {
        let b = *bytes.get(*at).ok_or("truncated wasm")?;
        *at += 1;
        if shift == 28 && b & 0x70 != 0 {
            return Err("LEB128 value over 32 bits in wasm".into());
        }
        value |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 28 {
            return Err("bad LEB128 in wasm".into());
        }
    }
}

fn write_leb(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// One section of a module: its id, where its header starts, and its body.
struct Section {
    id: u8,
    header: usize,
    body: std::ops::Range<usize>,
}

/// The module's sections, in order.
fn sections(wasm: &[u8]) -> Result<Vec<Section>> {
    let mut at = 8;
    let mut out = Vec::new();
    while at < wasm.len() {
        let header = at;
        let id = wasm[at];
        at += 1;
        let size = read_leb(wasm, &mut at)? as usize;
        let body = at..at + size;
        if body.end > wasm.len() {
            return Err("truncated wasm".into());
        }
        at = body.end;
        out.push(Section { id, header, body });
    }
    Ok(out)
}

/// A section with its header: id, then the body's size.
fn section(id: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    write_leb(body.len() as u32, &mut out);
    out.extend_from_slice(body);
    out
}

/// Moves past table or memory limits: flags, minimum, and a maximum when flagged.
fn skip_limits(wasm: &[u8], p: &mut usize) -> Result {
    let flags = read_leb(wasm, p)?;
    read_leb(wasm, p)?;
    if flags & 1 == 1 {
        read_leb(wasm, p)?;
    }
    Ok(())
}

/// Binaryen 108 (Debian's) keeps every `table.get`/`table.set` on wasm-bindgen's externref
/// table but writes the `__wbindgen_externrefs` export against the funcref table, which
/// browsers then refuse ("function-typed object must be null"). Points the export back at
/// the externref table. Returns whether anything changed.
pub fn fix_externref_export(wasm: &mut Vec<u8>) -> Result<bool> {
    let (mut imported_tables, mut externref_table, mut export_section) = (0u32, None, None);
    for Section { id, header, body } in sections(wasm)? {
        match id {
            2 => {
                let mut p = body.start;
                for _ in 0..read_leb(wasm, &mut p)? {
                    let import = read_import(wasm, &mut p)?;
                    if import.kind == 1 {
                        imported_tables += 1;
                    }
                }
            }
            4 => {
                let mut p = body.start;
                for i in 0..read_leb(wasm, &mut p)? {
                    let elem = wasm[p];
                    p += 1;
                    skip_limits(wasm, &mut p)?;
                    if elem == 0x6f && externref_table.is_none() {
                        externref_table = Some(imported_tables + i);
                    }
                }
            }
            7 => export_section = Some((header, body.start, body.end)),
            _ => {}
        }
    }
    let (Some(table), Some((section_at, start, end))) = (externref_table, export_section) else { return Ok(false) };
    let mut p = start;
    let mut body = Vec::new();
    let count = read_leb(wasm, &mut p)?;
    write_leb(count, &mut body);
    let mut changed = false;
    for _ in 0..count {
        let len = read_leb(wasm, &mut p)? as usize;
        let name = wasm[p..p + len].to_vec();
        p += len;
        let kind = wasm[p];
        p += 1;
        let mut index = read_leb(wasm, &mut p)?;
        if kind == 1 && name == b"__wbindgen_externrefs" && index != table {
            index = table;
            changed = true;
        }
        write_leb(len as u32, &mut body);
        body.extend_from_slice(&name);
        body.push(kind);
        write_leb(index, &mut body);
    }
    if changed {
        wasm.splice(section_at..end, section(7, &body));
    }
    Ok(changed)
}

/// One entry of the import section: where its names are, and its kind.
struct Import {
    module: std::ops::Range<usize>,
    field: std::ops::Range<usize>,
    kind: u8,
}

/// Reads one import at `p` and moves past it.
fn read_import(wasm: &[u8], p: &mut usize) -> Result<Import> {
    let name = |p: &mut usize| -> Result<std::ops::Range<usize>> {
        let len = read_leb(wasm, p)? as usize;
        let range = *p..*p + len;
        if range.end > wasm.len() {
            return Err("truncated wasm".into());
        }
        *p = range.end;
        Ok(range)
    };
    let module = name(p)?;
    let field = name(p)?;
    let kind = *wasm.get(*p).ok_or("truncated wasm")?;
    *p += 1;
    match kind {
        0 => {
            read_leb(wasm, p)?;
        }
        1 => {
            *p += 1;
            skip_limits(wasm, p)?;
        }
        2 => skip_limits(wasm, p)?,
        3 => *p += 2,
        4 => {
            *p += 1;
            read_leb(wasm, p)?;
        }
        _ => return Err("unknown import kind in wasm".into()),
    }
    Ok(Import { module, field, kind })
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
    let Some(Section { header: section_at, body: std::ops::Range { start, end }, .. }) =
        sections(wasm)?.into_iter().find(|s| s.id == 2)
    else {
        return Ok(js.to_string());
    };
    let short_module = "w";
    let mut p = start;
    let count = read_leb(wasm, &mut p)?;
    let mut body = Vec::new();
    write_leb(count, &mut body);
    let mut renames: Vec<(String, String)> = Vec::new();
    for _ in 0..count {
        let import = read_import(wasm, &mut p)?;
        let desc_start = import.field.end;
        let module_name = &wasm[import.module.clone()];
        let field = String::from_utf8(wasm[import.field.clone()].to_vec()).map_err(|_| "non-UTF-8 import name")?;
        let (m, f) = if module_name == module.as_bytes() {
            // The same function may be imported twice: one key in the glue, one short name.
            let short = match renames.iter().find(|(long, _)| *long == field) {
                Some((_, short)) => short.clone(),
                None => {
                    let short = short_name(renames.len());
                    renames.push((field, short.clone()));
                    short
                }
            };
            (short_module.as_bytes().to_vec(), short.into_bytes())
        } else {
            (module_name.to_vec(), field.into_bytes())
        };
        for name in [&m, &f] {
            write_leb(name.len() as u32, &mut body);
            body.extend_from_slice(name);
        }
        body.extend_from_slice(&wasm[desc_start..p]);
    }
    if p != end {
        return Err("the import section has trailing bytes".into());
    }
    let mut keys: std::collections::HashMap<&str, &str> =
        renames.iter().map(|(long, short)| (long.as_str(), short.as_str())).collect();
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
    for (long, _) in &renames {
        if out.contains(long.as_str()) {
            return Err(format!("the glue uses the import {long} somewhere else too: not renaming"));
        }
    }
    wasm.splice(section_at..end, section(2, &body));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, out: &mut Vec<u8>) {
        write_leb(n.len() as u32, out);
        out.extend_from_slice(n.as_bytes());
    }

    /// A module with a type section, two function imports and a memory import from
    /// `./widget_bg.js`, one import from elsewhere, and a custom section after.
    fn module() -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend(section(1, &[1, 0x60, 0, 0]));
        let mut imports = vec![4];
        for (m, f, desc) in [
            ("./widget_bg.js", "__wbg_origin_dafa41a3ee9236b1", vec![0u8, 0]),
            ("./widget_bg.js", "__wbindgen_init_externref_table", vec![0, 0]),
            ("env", "keep_me", vec![0, 0]),
            ("./widget_bg.js", "__wbg_memory_0123456789abcdef", vec![2, 1, 1, 2]),
        ] {
            name(m, &mut imports);
            name(f, &mut imports);
            imports.extend(desc);
        }
        wasm.extend(section(2, &imports));
        wasm.extend(section(0, b"\x04nameXYZ"));
        wasm
    }

    fn imports_of(wasm: &[u8]) -> Vec<(String, String, u8)> {
        let all = sections(wasm).unwrap();
        assert_eq!(all.last().map_or(8, |s| s.body.end), wasm.len());
        let mut out = Vec::new();
        for s in all.iter().filter(|s| s.id == 2) {
            let mut p = s.body.start;
            for _ in 0..read_leb(wasm, &mut p).unwrap() {
                let i = read_import(wasm, &mut p).unwrap();
                let s = |r: std::ops::Range<usize>| String::from_utf8(wasm[r].to_vec()).unwrap();
                out.push((s(i.module), s(i.field), i.kind));
            }
            assert_eq!(p, s.body.end);
        }
        out
    }

    const GLUE: &str = "const import0 = {\n__wbg_origin_dafa41a3ee9236b1: function(arg0) {\nreturn arg0.origin;\n},\n__wbindgen_init_externref_table: function() {\n},\n__wbg_memory_0123456789abcdef: new WebAssembly.Memory({initial: 1}),\n};\nreturn {\n\"./widget_bg.js\": import0,\n};\n";

    #[test]
    fn minified_imports_agree_between_the_wasm_and_the_glue() {
        let mut wasm = module();
        let js = minify_imports(&mut wasm, GLUE, "./widget_bg.js").unwrap();
        assert_eq!(
            imports_of(&wasm),
            [
                ("w".into(), "a".into(), 0),
                ("w".into(), "b".into(), 0),
                ("env".into(), "keep_me".into(), 0),
                ("w".into(), "c".into(), 2)
            ]
        );
        assert!(js.contains("\na: function(arg0) {\nreturn arg0.origin;"), "{js}");
        assert!(js.contains("\nb: function() {"), "{js}");
        assert!(js.contains("\nc: new WebAssembly.Memory"), "{js}");
        assert!(js.contains("\"w\": import0"), "{js}");
        assert!(!js.contains("__wbg") && !js.contains("widget_bg.js"), "{js}");
        assert!(wasm.ends_with(b"\x04nameXYZ"), "the sections after the imports are kept");
    }

    #[test]
    fn a_function_imported_twice_keeps_one_name() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend(section(1, &[1, 0x60, 0, 0]));
        let mut imports = vec![3];
        for f in ["__wbg_origin_dafa41a3ee9236b1", "__wbindgen_init_externref_table", "__wbg_origin_dafa41a3ee9236b1"] {
            name("./widget_bg.js", &mut imports);
            name(f, &mut imports);
            imports.extend([0, 0]);
        }
        // The section size padded to five bytes, as some tools write it.
        let n = imports.len();
        wasm.extend([2, 0x80 | (n & 0x7f) as u8, 0x80 | (n >> 7) as u8, 0x80, 0x80, 0]);
        wasm.extend(&imports);
        let js = minify_imports(
            &mut wasm,
            GLUE.replace("__wbg_memory_0123456789abcdef: new WebAssembly.Memory({initial: 1}),\n", "").as_str(),
            "./widget_bg.js",
        )
        .unwrap();
        let fields: Vec<String> = imports_of(&wasm).into_iter().map(|(_, f, _)| f).collect();
        assert_eq!(fields, ["a", "b", "a"]);
        assert!(js.contains("\na: function(arg0)") && js.contains("\nb: function()"), "{js}");
    }

    #[test]
    fn over_long_leb128_is_refused() {
        assert!(read_leb(&[0xff, 0xff, 0xff, 0xff, 0x0f], &mut 0).is_ok());
        assert!(read_leb(&[0xff, 0xff, 0xff, 0xff, 0x1f], &mut 0).is_err());
        assert!(read_leb(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], &mut 0).is_err());
    }

    #[test]
    fn a_glue_that_does_not_match_the_wasm_stops_the_build() {
        let mut wasm = module();
        let without_one = GLUE.replace("__wbindgen_init_externref_table: function() {\n},\n", "");
        assert!(minify_imports(&mut wasm, &without_one, "./widget_bg.js").is_err());
        let mut wasm = module();
        let used_twice = GLUE.replace("};\nreturn", "};\nimport0.__wbg_origin_dafa41a3ee9236b1();\nreturn");
        assert!(minify_imports(&mut wasm, &used_twice, "./widget_bg.js").is_err());
        let mut wasm = module();
        assert!(minify_imports(&mut wasm, &GLUE.replace("\"./widget_bg.js\": import0", ""), "./widget_bg.js").is_err());
    }

    #[test]
    fn short_names_are_distinct_javascript_identifiers() {
        let names: std::collections::HashSet<String> = (0..3000).map(short_name).collect();
        assert_eq!(names.len(), 3000);
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphabetic())));
    }
}
