//! Panics that trap where they start, as nightly's `panic_immediate_abort` makes them.
//!
//! The shipped widget is `no_std` with a panic handler that traps without reading its
//! argument. But `core` and `alloc` come precompiled: their panic entry points
//! (`panic_bounds_check`, `slice_error_fail`, `panic_already_borrowed`, the default
//! out-of-memory handler, …) still build a formatted message for that handler, and so keep
//! `core::fmt` (several KB) linked for a message nobody reads. Stable Rust cannot rebuild
//! them; this rewrite gives each of those functions the body `unreachable`: the same trap,
//! without the message. wasm-opt then drops the formatting code nothing calls any more.
//!
//! Only the functions named in [`ENTRY_POINTS`] are rewritten; each diverges (`-> !`) and
//! does nothing but build its message and call the panic handler.
//!
//! That leaves `core::fmt` functions whose address sits in the function table (the
//! linker lists every function whose address some code or vtable took) but that nothing
//! calls any more. [`trap_fmt_slots`] points those table slots at a trap of the same type,
//! after checking that no function outside `core::fmt` calls one directly: a real use of
//! formatting stops the build instead, naming the caller. wasm-opt then drops the
//! formatting code, and `check::refuse` confirms none is left.

use std::collections::{HashMap, HashSet};

use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{CodeSection, ElementSection, Function, FunctionSection, Module, RawSection};
use wasmparser::{Operator, Parser, Payload, TypeRef};

use crate::Result;

fn read_err(e: impl std::fmt::Display) -> String {
    format!("reading the wasm: {e}")
}

/// Demangled names (crate hashes `[…]` and the trailing `::h…` removed) of `core`'s and
/// `alloc`'s diverging panic entry points. A name ending in `::` covers the functions in
/// that module whose names end in `_fail`, `_failed` or `_error`.
pub const ENTRY_POINTS: &[&str] = &[
    "core::panicking::",
    "core::slice::index::",
    "core::str::slice_error_fail",
    "core::str::slice_error_fail_rt",
    "core::cell::panic_already_borrowed",
    "core::cell::panic_already_mutably_borrowed",
    "core::cell::lazy::panic_poisoned",
    "core::option::expect_failed",
    "core::option::unwrap_failed",
    "core::result::unwrap_failed",
    "core::slice::<impl [T]>::copy_from_slice::len_mismatch_fail",
    "core::slice::copy_from_slice_impl::len_mismatch_fail",
    "alloc::alloc::handle_alloc_error",
    "alloc::raw_vec::handle_error",
    "alloc::raw_vec::capacity_overflow",
];

/// `core[c5930c85a12de822]::panicking::panic_fmt::h01` → `core::panicking::panic_fmt`.
fn plain(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '[' if depth > 0 || out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') => depth += 1,
            ']' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    match out.rfind("::h") {
        Some(at) if out[at + 3..].chars().all(|c| c.is_ascii_hexdigit()) && out.len() - at > 3 => out[..at].to_string(),
        _ => out,
    }
}

/// Whether a function of this name is a panic entry point to turn into a trap.
pub fn is_entry_point(name: &str) -> bool {
    let name = plain(name);
    ENTRY_POINTS.iter().any(|e| match e.strip_suffix("::") {
        Some(module) => {
            name.strip_prefix(module).and_then(|rest| rest.strip_prefix("::")).is_some_and(|f| {
                !f.contains("::") && !f.contains('<') && (module == "core::panicking" || f.ends_with("_fail"))
            }) || (module == "core::panicking" && name.starts_with("core::panicking::panic_const::"))
        }
        None => name == *e,
    })
}

/// Gives every panic entry point of `wasm` (found by its name section) the body
/// `unreachable`. Returns the module and the names rewritten.
pub fn trap_at_entry_points(wasm: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
    let mut imported = 0u32;
    let names = crate::check::named_functions(wasm)?;
    let mut bodies = Vec::new();
    let mut func_types = Vec::new();
    let mut results = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(read_err)? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    results.push(ty.map_err(read_err)?.results().len());
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.map_err(read_err)?.ty, TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_types.push(ty.map_err(read_err)?);
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.range()),
            _ => {}
        }
    }
    if names.is_empty() {
        return Err("the wasm has no name section: cannot find its panic entry points".into());
    }
    let mut rewritten = Vec::new();
    let mut code = CodeSection::new();
    for (i, range) in bodies.iter().enumerate() {
        let index = imported + i as u32;
        let name = names.get(&index).filter(|n| is_entry_point(n));
        // A diverging function returns nothing; anything else is not one of ours to rewrite.
        let returns_nothing = func_types.get(i).and_then(|t| results.get(*t as usize)) == Some(&0);
        match name {
            Some(name) if returns_nothing => {
                let mut f = Function::new([]);
                f.instructions().unreachable().end();
                code.function(&f);
                rewritten.push(name.clone());
            }
            _ => {
                code.raw(&wasm[range.clone()]);
            }
        }
    }
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(read_err)?;
        if let Payload::CodeSectionStart { .. } = payload {
            module.section(&code);
            continue;
        }
        let Some((id, range)) = payload.as_section() else { continue };
        module.section(&RawSection { id, data: &wasm[range] });
    }
    Ok((module.finish(), rewritten))
}

/// Maps function indices in the element section: formatting functions to their trap.
struct Slots<'a>(&'a HashMap<u32, u32>);

impl Reencode for Slots<'_> {
    type Error = std::convert::Infallible;
    fn function_index(&mut self, func: u32) -> std::result::Result<u32, ReencodeError<Self::Error>> {
        Ok(*self.0.get(&func).unwrap_or(&func))
    }
}

/// Points every table slot holding a `core::fmt` function at a trap of its type (see the
/// module's documentation). Fails when a function outside `core::fmt` calls one directly.
/// Returns the module and how many slots now trap.
pub fn trap_fmt_slots(wasm: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut imported = 0u32;
    let names = crate::check::named_functions(wasm)?;
    let mut func_types = Vec::new();
    let mut bodies = Vec::new();
    let mut elements = None;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(read_err)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.map_err(read_err)?.ty, TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_types.push(ty.map_err(read_err)?);
                }
            }
            Payload::ElementSection(reader) => elements = Some(reader),
            Payload::CodeSectionEntry(body) => bodies.push(body),
            _ => {}
        }
    }
    let is_fmt = |i: &u32| names.get(i).is_some_and(|n| crate::check::FMT.patterns.iter().any(|p| n.contains(p)));
    let fmt: HashSet<u32> = names.keys().copied().filter(is_fmt).collect();
    let mut uses = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let caller = imported + i as u32;
        if fmt.contains(&caller) {
            continue;
        }
        for op in body.get_operators_reader().map_err(read_err)? {
            if let Operator::Call { function_index } = op.map_err(read_err)? {
                if fmt.contains(&function_index) {
                    let name = |i: &u32| names.get(i).map_or("?", String::as_str).to_string();
                    uses.push(format!("{} calls {}", name(&caller), name(&function_index)));
                }
            }
        }
    }
    if !uses.is_empty() {
        uses.sort();
        uses.dedup();
        return Err(format!(
            "the widget formats (core::fmt is used, not only by panics):\n      {}",
            uses.join("\n      ")
        ));
    }
    let Some(elements) = elements else { return Ok((wasm.to_vec(), 0)) };
    // One trap per function type, appended after the module's own functions.
    let mut traps: Vec<u32> = Vec::new();
    let mut remap = HashMap::new();
    for segment in elements.clone() {
        if let wasmparser::ElementItems::Functions(funcs) = segment.map_err(read_err)?.items {
            for f in funcs {
                let f = f.map_err(read_err)?;
                if !fmt.contains(&f) || f < imported {
                    continue;
                }
                let ty = func_types[(f - imported) as usize];
                let at = traps.iter().position(|t| *t == ty).unwrap_or_else(|| {
                    traps.push(ty);
                    traps.len() - 1
                });
                remap.insert(f, imported + (bodies.len() + at) as u32);
            }
        }
    }
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(read_err)?;
        match &payload {
            Payload::FunctionSection(_) => {
                let mut section = FunctionSection::new();
                for ty in func_types.iter().chain(&traps) {
                    section.function(*ty);
                }
                module.section(&section);
            }
            Payload::ElementSection(reader) => {
                let mut section = ElementSection::new();
                Slots(&remap).parse_element_section(&mut section, reader.clone()).map_err(|e| format!("{e:?}"))?;
                module.section(&section);
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = CodeSection::new();
                for body in &bodies {
                    code.raw(&wasm[body.range()]);
                }
                for _ in &traps {
                    let mut f = Function::new([]);
                    f.instructions().unreachable().end();
                    code.function(&f);
                }
                module.section(&code);
            }
            _ => {
                let Some((id, range)) = payload.as_section() else { continue };
                module.section(&RawSection { id, data: &wasm[range] });
            }
        }
    }
    Ok((module.finish(), remap.len()))
}

#[cfg(test)]
mod tests;
