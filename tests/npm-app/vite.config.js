// Unminified: the test needs no small bundle, and the build stays fast.
export default { build: { minify: false, target: "es2020" }, logLevel: "warn" };
