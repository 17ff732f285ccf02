//! The rewrites on small modules built here.

use super::*;
use wasm_encoder::{FunctionSection, NameMap, NameSection, TypeSection, ValType};

#[test]
fn only_the_panic_entry_points_are_chosen() {
    for yes in [
        "core[c5930c85a12de822]::panicking::panic_bounds_check",
        "core[c5930c85a12de822]::panicking::panic_fmt",
        "core[c5930c85a12de822]::panicking::panic_const::panic_const_async_fn_resumed",
        "core[c5930c85a12de822]::slice::index::slice_index_fail",
        "core[c5930c85a12de822]::str::slice_error_fail",
        "core[c5930c85a12de822]::cell::panic_already_borrowed",
        "alloc[3ca501edff3f0c7c]::alloc::handle_alloc_error",
        "alloc::raw_vec::handle_error::h0123456789abcdef",
    ] {
        assert!(is_entry_point(yes), "{yes}");
    }
    for no in [
        "core::slice::<impl [T]>::split_at::haaf24be378fadc36",
        "core[c5930c85a12de822]::fmt::write",
        "<core::ops::range::Range<usize> as core::slice::index::SliceIndex<[T]>>::index::h1",
        "core[c5930c85a12de822]::slice::index::into_range",
        "consent_widget::panicking::panic_fmt",
        "alloc::raw_vec::RawVecInner<A>::shrink::h737ccb4a372b2772",
    ] {
        assert!(!is_entry_point(no), "{no}");
    }
}

/// f0 `core::fmt::write`, f1 `caller` (calls f0 when `direct`), a table holding f0.
fn with_fmt(direct: bool) -> Vec<u8> {
    use wasm_encoder::{ConstExpr, Elements, TableSection, TableType};
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    funcs.function(0).function(0);
    m.section(&funcs);
    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: wasm_encoder::RefType::FUNCREF,
        table64: false,
        minimum: 2,
        maximum: None,
        shared: false,
    });
    m.section(&tables);
    let mut elements = ElementSection::new();
    elements.active(Some(0), &ConstExpr::i32_const(1), Elements::Functions(vec![0].into()));
    m.section(&elements);
    let mut code = CodeSection::new();
    let mut fmt = Function::new([]);
    fmt.instructions().nop().end();
    let mut caller = Function::new([]);
    if direct {
        caller.instructions().call(0);
    }
    caller.instructions().end();
    code.function(&fmt).function(&caller);
    m.section(&code);
    let mut map = NameMap::new();
    map.append(0, "core[c5930c85a12de822]::fmt::write");
    map.append(1, "consent_widget::caller");
    let mut section = NameSection::new();
    section.functions(&map);
    m.section(&section);
    m.finish()
}

#[test]
fn a_table_slot_of_an_unused_fmt_function_points_at_a_trap() {
    let (out, slots) = trap_fmt_slots(&with_fmt(false)).unwrap();
    assert_eq!(slots, 1);
    wasmparser::Validator::new().validate_all(&out).unwrap();
    let mut in_table = Vec::new();
    for p in Parser::new(0).parse_all(&out) {
        if let Payload::ElementSection(reader) = p.unwrap() {
            for e in reader {
                if let wasmparser::ElementItems::Functions(f) = e.unwrap().items {
                    in_table.extend(f.into_iter().map(|f| f.unwrap()));
                }
            }
        }
    }
    assert_eq!(in_table, [2], "the slot holds the appended trap, not core::fmt::write");
}

#[test]
fn a_function_that_formats_stops_the_build() {
    let err = trap_fmt_slots(&with_fmt(true)).unwrap_err();
    assert!(err.contains("consent_widget::caller calls core[c5930c85a12de822]::fmt::write"), "{err}");
}

#[test]
fn an_entry_point_becomes_a_trap_and_the_rest_is_kept() {
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], []);
    types.ty().function([], [ValType::I32]);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    funcs.function(0).function(1).function(0);
    m.section(&funcs);
    let mut code = CodeSection::new();
    let mut panics = Function::new([]);
    panics.instructions().call(1).drop().unreachable().end();
    let mut answer = Function::new([]);
    answer.instructions().i32_const(42).end();
    // Named like an entry point but returns a value: left alone.
    code.function(&panics).function(&answer).function(&panics);
    m.section(&code);
    let mut map = NameMap::new();
    map.append(0, "core[c5930c85a12de822]::panicking::panic_bounds_check");
    map.append(1, "core::panicking::panic_fmt");
    map.append(2, "consent_widget::ok");
    let mut section = NameSection::new();
    section.functions(&map);
    m.section(&section);
    let wasm = m.finish();
    let (out, rewritten) = trap_at_entry_points(&wasm).unwrap();
    assert_eq!(rewritten, ["core[c5930c85a12de822]::panicking::panic_bounds_check"]);
    wasmparser::Validator::new().validate_all(&out).unwrap();
    let bodies: Vec<Vec<u8>> = Parser::new(0)
        .parse_all(&out)
        .filter_map(|p| match p.unwrap() {
            Payload::CodeSectionEntry(b) => Some(out[b.range()].to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies[0], [0x00, 0x00, 0x0b], "no locals, unreachable, end");
    assert_eq!(bodies[1], [0x00, 0x41, 42, 0x0b]);
    assert_eq!(bodies[2], [0x00, 0x10, 0x01, 0x1a, 0x00, 0x0b], "kept as it was");
}
