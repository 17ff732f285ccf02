//! `cargo xtask dist`: the widget built for the web (wasm-bindgen, wasm-opt, the loader),
//! with sizes and SRI hashes.

use std::io::Write;
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha384};

use crate::tools::{
    WASM_OPT_FEATURES, ensure_wasm_bindgen, ensure_wasm_opt, ensure_wasm_target, on_path, wasm_opt_version,
};
use crate::{Result, cargo_with, root, run, say, wasm};

fn sri(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(enc.finish().map_err(|e| e.to_string())?.len())
}

/// The most the widget may ship (JavaScript + wasm, gzipped); `cargo xtask test` fails
/// above it. Lowered with every change that makes the widget smaller, never raised
/// without a reason in the commit; the target is 35 KB.
pub const BUDGET_GZIP: usize = 70 * 1024;
/// The size the widget aims for.
pub const TARGET_GZIP: usize = 35 * 1024;

/// What `dist` built.
pub struct Built {
    pub total_gzip: usize,
}

pub fn dist() -> Result<Built> {
    say("Building the widget for WebAssembly (release: opt-level z, LTO, panic=abort)");
    ensure_wasm_target()?;
    run(cargo_with(&["build", "-p", "consent-widget", "--target", "wasm32-unknown-unknown", "--profile", "wasm"]))?;
    ensure_wasm_bindgen()?;
    let target = root().join("target");
    let bindgen_out = target.join("widget-bindgen");
    let _ = std::fs::remove_dir_all(&bindgen_out);
    say("Generating the JavaScript glue (wasm-bindgen, classic script)");
    let mut wb = Command::new("wasm-bindgen");
    wb.arg(target.join("wasm32-unknown-unknown/wasm/consent_widget.wasm"))
        .arg("--out-dir")
        .arg(&bindgen_out)
        .args(["--target", "no-modules", "--no-modules-global", "__consentWidgetWasm", "--no-typescript"])
        .args(["--out-name", "widget"]);
    run(wb)?;
    let raw_wasm = bindgen_out.join("widget_bg.wasm");
    let opt_wasm = bindgen_out.join("widget_bg.opt.wasm");
    ensure_wasm_opt()?;
    let wasm_path = if on_path("wasm-opt") {
        say("Shrinking the wasm (wasm-opt -Oz)");
        let mut c = Command::new("wasm-opt");
        c.arg("-Oz").args(WASM_OPT_FEATURES).arg(&raw_wasm).arg("-o").arg(&opt_wasm);
        run(c)?;
        opt_wasm
    } else {
        println!("    wasm-opt not found and not root: skipping it (install Debian's binaryen for a smaller widget)");
        raw_wasm
    };
    let mut wasm = std::fs::read(&wasm_path).map_err(|e| format!("reading {}: {e}", wasm_path.display()))?;
    if wasm::fix_externref_export(&mut wasm)? {
        println!(
            "    repaired the __wbindgen_externrefs export that wasm-opt {} pointed at the wrong table",
            wasm_opt_version()
        );
    }
    let glue = std::fs::read_to_string(bindgen_out.join("widget.js")).map_err(|e| format!("reading the glue: {e}"))?;
    // Stripping indentation is only safe without multi-line template literals: every code
    // line must open and close its own.
    let code_lines = glue.lines().filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'));
    if code_lines.into_iter().any(|l| l.matches('`').count() % 2 == 1) {
        return Err("the wasm-bindgen glue now has template literals: review strip_comments".into());
    }
    let (wasm_before, glue) = (wasm.len(), strip_comments(&glue));
    let short_glue = wasm::minify_imports(&mut wasm, &glue, "./widget_bg.js")?;
    println!(
        "    renamed the wasm's imports to short names: wasm {wasm_before} -> {} bytes, glue {} -> {} bytes",
        wasm.len(),
        glue.len(),
        short_glue.len()
    );
    let glue = short_glue;
    let loader =
        std::fs::read_to_string(root().join("widget/loader.js")).map_err(|e| format!("reading loader.js: {e}"))?;
    // The glue is stripped already (the import rename needs it so); only the loader is left.
    let script = format!("{glue}{}", strip_comments(&loader.replace("__WASM_SRI__", &sri(&wasm))));
    let types = std::fs::read(root().join("widget/widget.d.ts")).map_err(|e| format!("reading widget.d.ts: {e}"))?;

    let out = root().join("www/widget");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let files: [(&str, &[u8]); 3] =
        [("widget.js", script.as_bytes()), ("widget_bg.wasm", &wasm), ("widget.d.ts", &types)];
    let mut manifest = String::from("{\n  \"files\": {\n");
    say("Widget written to www/widget/");
    println!("    {:<16} {:>9} {:>9}  SRI", "file", "bytes", "gzip");
    let mut total_gzip = 0;
    for (i, (name, bytes)) in files.iter().enumerate() {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("writing {name}: {e}"))?;
        let gz = gzip_len(bytes)?;
        if *name != "widget.d.ts" {
            total_gzip += gz;
        }
        println!("    {:<16} {:>9} {:>9}  {}", name, bytes.len(), gz, sri(bytes));
        manifest.push_str(&format!(
            "    \"{name}\": {{\"bytes\": {}, \"gzip\": {gz}, \"integrity\": \"{}\"}}{}\n",
            bytes.len(),
            sri(bytes),
            if i + 1 < files.len() { "," } else { "" }
        ));
    }
    manifest.push_str(&format!("  }},\n  \"version\": \"{}\"\n}}\n", env!("CARGO_PKG_VERSION")));
    std::fs::write(out.join("build.json"), manifest).map_err(|e| format!("writing build.json: {e}"))?;
    println!(
        "    total shipped (js + wasm, gzip): {total_gzip} bytes = {:.1} KB (budget {} KB, target {} KB)",
        total_gzip as f64 / 1024.0,
        BUDGET_GZIP / 1024,
        TARGET_GZIP / 1024
    );
    println!(
        "    embed: <script src=\".../widget/widget.js\" integrity=\"{}\" crossorigin=\"anonymous\" async></script>",
        sri(script.as_bytes())
    );
    Ok(Built { total_gzip })
}

/// Drops comment lines, indentation and blank lines from generated JavaScript: a safe
/// subset of minification (the glue has no multi-line strings or template literals,
/// checked below), worth about 1 KB gzipped.
fn strip_comments(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    let mut in_block = false;
    for line in js.lines() {
        let t = line.trim();
        if in_block {
            in_block = !t.ends_with("*/");
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.ends_with("*/");
            continue;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}
