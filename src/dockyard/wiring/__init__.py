"""The composition roots: where the server is built from its parts, and the adapters that
let services meet through the ports in `core` without importing each other."""
