//! The proof checker of `/verify.html`: the `consent-receipt` crate compiled to
//! WebAssembly (`receipt/wasm`), its wasm-bindgen glue, and the module embedded in the same
//! classic script, `www/verify/check.js`, so that the page also works saved to disk and
//! opened offline (a `file://` page can run a script next to it but not fetch a module).

use std::process::Command;

use base64::Engine as _;

use crate::tools::{WASM_OPT_FEATURES, ensure_wasm_opt, on_path};
use crate::{Result, cargo_with, root, run, say};

/// Builds `www/verify/check.js`; returns its size and gzipped size. Its own cargo run:
/// built with the widget, the receipt crate's features would be unified with this crate's.
pub fn build(gzip_len: impl Fn(&[u8]) -> Result<usize>) -> Result<(usize, usize)> {
    say("Building the proof checker of /verify.html (the consent-receipt crate for WebAssembly)");
    run(cargo_with(&[
        "build",
        "-p",
        "consent-receipt-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm",
    ]))?;
    let out = crate::dist::bindgen("consent_receipt_wasm", "verify-bindgen", "__consentCheckWasm", "check")?;
    let raw = out.join("check_bg.wasm");
    let opt = out.join("check_bg.opt.wasm");
    ensure_wasm_opt()?;
    let module = if on_path("wasm-opt") {
        let mut c = Command::new("wasm-opt");
        c.arg("-Oz").args(WASM_OPT_FEATURES).arg(&raw).arg("-o").arg(&opt);
        run(c)?;
        opt
    } else {
        raw
    };
    let mut wasm = std::fs::read(&module).map_err(|e| format!("reading {}: {e}", module.display()))?;
    // The same repair as the widget's: wasm-opt 108 can point this export at the wrong table.
    crate::wasm::fix_externref_export(&mut wasm)?;
    let glue = std::fs::read_to_string(out.join("check.js")).map_err(|e| format!("reading the checker's glue: {e}"))?;
    let embedded = base64::engine::general_purpose::STANDARD.encode(&wasm);
    let script = format!(
        "{glue}\n(function () {{\n  var bin = atob(\"{embedded}\");\n  var bytes = new Uint8Array(bin.length);\n  \
         for (var i = 0; i < bin.length; i++) {{ bytes[i] = bin.charCodeAt(i); }}\n  \
         window.consentCheckReady = __consentCheckWasm({{ module_or_path: bytes }})\
         .then(function () {{ return __consentCheckWasm.check; }});\n}})();\n"
    );
    let dir = root().join("www/verify");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::write(dir.join("check.js"), &script).map_err(|e| format!("writing check.js: {e}"))?;
    let sizes = (script.len(), gzip_len(script.as_bytes())?);
    println!(
        "    www/verify/check.js: {} bytes, {} gzipped (the checker's wasm, {} bytes, embedded)",
        sizes.0,
        sizes.1,
        wasm.len()
    );
    Ok(sizes)
}
