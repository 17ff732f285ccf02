//! The npm package `cargo xtask dist` writes beside `www/widget/`: the same widget as an ES
//! module, for sites built with a bundler (Vite, webpack, …) rather than a script tag.
//!
//! `index.js` is `widget.js` with two lines of the loader changed: the wasm files are found
//! with `new URL("./…", import.meta.url)` (the form bundlers recognise and copy as assets),
//! and there is no script tag whose origin would be the default verifier, so pages give
//! `data-verifier` (or the `verifier` option). It exports `ConsentWidget`, which is also
//! `window.ConsentWidget`.

use std::path::{Path, PathBuf};

use crate::{Result, root};

/// Where the package is written: `npm pack` or `npm publish` it from there.
pub fn dir() -> PathBuf {
    root().join("target/npm/consent-widget")
}

/// The loader's lines the module form replaces, each present exactly once.
const SCRIPT_LINES: [(&str, &str); 2] = [
    ("var src = (script && script.src) || location.href;", "var src = import.meta.url;"),
    (
        "var url = function (name) { return new URL(name, src); };",
        "var url = function (name) { return name == \"sign_bg.wasm\" ? new URL(\"./sign_bg.wasm\", import.meta.url) \
         : new URL(\"./widget_bg.wasm\", import.meta.url); };",
    ),
];

/// The ES module from the classic script (glue + stripped loader).
fn module(script: &str) -> Result<String> {
    let mut js = script.to_string();
    for (from, to) in SCRIPT_LINES {
        if js.matches(from).count() != 1 {
            return Err(format!("widget/loader.js must hold `{from}` exactly once (the npm module replaces it)"));
        }
        js = js.replace(from, to);
    }
    js.push_str(
        "var ConsentWidget = window.ConsentWidget;\nexport { ConsentWidget };\nexport default ConsentWidget;\n",
    );
    Ok(js)
}

fn package_json() -> String {
    format!(
        r#"{{
  "name": "consent-widget",
  "version": "{version}",
  "description": "Unticked per-purpose consent boxes that sign a consent receipt in the browser (Rust/WebAssembly)",
  "license": "Apache-2.0",
  "type": "module",
  "main": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {{ "types": "./index.d.ts", "default": "./index.js" }},
    "./package.json": "./package.json"
  }},
  "files": ["index.js", "index.d.ts", "widget_bg.wasm", "sign_bg.wasm", "README.md"],
  "sideEffects": true
}}
"#,
        version = env!("CARGO_PKG_VERSION")
    )
}

const README: &str = "# consent-widget\n\n\
The consent widget as an ES module. Importing it starts the widget (once) and gives\n\
`ConsentWidget`, the same object as `window.ConsentWidget`:\n\n\
```js\nimport { ConsentWidget } from \"consent-widget\";\n\
const id = ConsentWidget.render(element, { notice: \"newsletter\", verifier: \"https://consent.example.com\" });\n\
// later: ConsentWidget.remove(id)\n```\n\n\
Give the verifier's URL (`verifier`, or `data-verifier` on the container): with a bundler there is\n\
no script tag whose origin would be the default. The embedding guide is at `/guide.html` on any\n\
running verifier.\n";

/// Writes the package; returns its directory.
pub fn write(script: &str, wasm: &[u8], sign: &[u8], types: &[u8]) -> Result<PathBuf> {
    let out = dir();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut dts = String::from_utf8_lossy(types).into_owned();
    dts.push_str("\nexport declare const ConsentWidget: ConsentWidgetApi;\nexport default ConsentWidget;\n");
    let (js, manifest) = (module(script)?, package_json());
    let files: [(&str, &[u8]); 6] = [
        ("index.js", js.as_bytes()),
        ("index.d.ts", dts.as_bytes()),
        ("widget_bg.wasm", wasm),
        ("sign_bg.wasm", sign),
        ("package.json", manifest.as_bytes()),
        ("README.md", README.as_bytes()),
    ];
    for (name, bytes) in files {
        write_file(&out.join(name), bytes)?;
    }
    Ok(out)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result {
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_finds_its_wasm_next_to_itself_and_exports_the_api() {
        let loader = std::fs::read_to_string(root().join("widget/loader.js")).unwrap();
        let js = module(&loader).unwrap();
        assert_eq!(js.matches("new URL(\"./widget_bg.wasm\", import.meta.url)").count(), 1);
        assert_eq!(js.matches("new URL(\"./sign_bg.wasm\", import.meta.url)").count(), 1);
        assert!(!js.contains("document.currentScript.src") && js.contains("var src = import.meta.url;"));
        assert!(js.ends_with("export { ConsentWidget };\nexport default ConsentWidget;\n"));
        assert!(module("no such lines").is_err(), "a loader without the lines is refused");
    }
}
