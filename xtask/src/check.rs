//! What the built wasm must not hold, checked on the optimised module while it still has
//! its function names; then the names are stripped for shipping.
//!
//! - No `core::fmt` in either module: the widget is `no_std` as shipped, its panic handler
//!   prints nothing, and nothing formats. A `format!`, a `{:?}`, an `unwrap()` or an
//!   indexing that can fail brings the formatting machinery back (several KB): the build
//!   stops and names the functions.
//! - No Ed25519 code in the main module: it lives in the fallback module, which only
//!   browsers without WebCrypto Ed25519 fetch.
//! - The fallback module imports nothing and exports exactly what the loader calls.

use std::collections::BTreeMap;

use wasm_encoder::{Module, RawSection};
use wasmparser::{KnownCustom, Name, Parser, Payload};

use crate::Result;

fn read_err(e: impl std::fmt::Display) -> String {
    format!("reading the wasm: {e}")
}

/// What a function name must not contain, and why.
#[derive(Debug, Clone, Copy)]
pub struct Forbidden {
    pub what: &'static str,
    /// Any of these substrings (demangled, and Rust's v0 or legacy mangling).
    pub patterns: &'static [&'static str],
}

/// The formatting machinery.
pub const FMT: Forbidden = Forbidden { what: "core::fmt", patterns: &["core::fmt::", "]::fmt::", "4core3fmt"] };
/// Ed25519, its curve and its hash: the fallback module's, never the main one's.
pub const ED25519: Forbidden = Forbidden {
    what: "Ed25519 code (ed25519-dalek, curve25519-dalek, sha2)",
    patterns: &["ed25519_dalek", "curve25519_dalek", "sha2::", "4sha2"],
};

/// A function name demangled (`rustc-demangle`, without hashes); names wasm-bindgen
/// already demangled come back as they are.
pub fn demangled(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The module's function names by function index, demangled (from its `name` section;
/// none when it has none).
pub fn named_functions(wasm: &[u8]) -> Result<BTreeMap<u32, String>> {
    let mut out = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CustomSection(custom) = payload.map_err(read_err)? else { continue };
        let KnownCustom::Name(reader) = custom.as_known() else { continue };
        for name in reader {
            if let Name::Function(map) = name.map_err(read_err)? {
                for naming in map {
                    let n = naming.map_err(read_err)?;
                    out.insert(n.index, demangled(n.name));
                }
            }
        }
    }
    Ok(out)
}

/// The module's function names, demangled, in index order.
pub fn function_names(wasm: &[u8]) -> Result<Vec<String>> {
    Ok(named_functions(wasm)?.into_values().collect())
}

/// Fails, naming a few offenders, when a function of `module` matches a `forbidden` set.
/// A module without names cannot be checked: that fails too.
pub fn refuse(wasm: &[u8], module: &str, forbidden: &[Forbidden]) -> Result {
    let names = function_names(wasm)?;
    if names.is_empty() {
        return Err(format!("{module} has no name section: cannot check what it holds"));
    }
    for f in forbidden {
        let found: Vec<&String> = names.iter().filter(|n| f.patterns.iter().any(|p| n.contains(p))).collect();
        if !found.is_empty() {
            let shown: Vec<&str> = found.iter().take(8).map(|s| s.as_str()).collect();
            return Err(format!(
                "{module} holds {} {} function(s), which must not ship; for example:\n      {}\n    \
                 (a panic path with a message, a format!, a {{:?}} or an unwrap brings core::fmt back)",
                found.len(),
                f.what,
                shown.join("\n      ")
            ));
        }
    }
    Ok(())
}

/// The module without its `name` section (and any DWARF), every other byte as it was.
pub fn strip_names(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(read_err)?;
        if let Payload::CustomSection(c) = &payload {
            if c.name() == "name" || c.name().starts_with(".debug") {
                continue;
            }
        }
        let Some((id, range)) = payload.as_section() else { continue };
        module.section(&RawSection { id, data: &wasm[range] });
    }
    Ok(module.finish())
}

/// The module's imports (`module.name`) and exports, in order.
pub fn interface(wasm: &[u8]) -> Result<(Vec<String>, Vec<String>)> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(read_err)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let i = import.map_err(read_err)?;
                    imports.push(format!("{}.{}", i.module, i.name));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    exports.push(export.map_err(read_err)?.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{CodeSection, Function, FunctionSection, IndirectNameMap, NameMap, NameSection, TypeSection};

    fn module(names: &[&str]) -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        for _ in names {
            funcs.function(0);
            let mut f = Function::new([]);
            f.instructions().end();
            code.function(&f);
        }
        m.section(&funcs);
        m.section(&code);
        let mut map = NameMap::new();
        for (i, n) in names.iter().enumerate() {
            map.append(i as u32, n);
        }
        let mut section = NameSection::new();
        section.functions(&map);
        section.locals(&IndirectNameMap::new());
        m.section(&section);
        m.finish()
    }

    #[test]
    fn a_module_with_core_fmt_is_refused_and_one_without_passes() {
        let clean = module(&["consent_widget::boot::h1", "<u64 as itoa::Unsigned>::fmt::h2"]);
        refuse(&clean, "clean", &[FMT, ED25519]).unwrap();
        for bad in
            ["core[c5930c85a12de822]::fmt::write", "<u32 as core::fmt::Display>::fmt::h3", "_RNvNtCs1_4core3fmt5write"]
        {
            let err = refuse(&module(&["ok", bad]), "bad", &[FMT]).unwrap_err();
            assert!(err.contains("fmt::") && err.contains("1 core::fmt function"), "{err}");
        }
        let signer = module(&["ed25519_dalek::signing::SigningKey::sign::h4"]);
        assert!(refuse(&signer, "main", &[FMT, ED25519]).unwrap_err().contains("Ed25519"));
    }

    #[test]
    fn a_module_without_names_cannot_pass_the_check() {
        let stripped = strip_names(&module(&["core::fmt::write"])).unwrap();
        assert!(function_names(&stripped).unwrap().is_empty());
        assert!(refuse(&stripped, "m", &[FMT]).is_err());
        wasmparser::Validator::new().validate_all(&stripped).unwrap();
    }
}
