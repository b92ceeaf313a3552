// Intentionally empty: the daemonize-ready-cjs case's floor, a start of a
// CommonJS program (node empty.cjs), which loads no ES module loader.
