// Intentionally empty: the import case's floor, what importing any ES module
// costs on top of `node -e 0` (Node starts its ESM loader for the first one).
export {};
