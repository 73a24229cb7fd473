// Package layering holds the test that enforces cairn's dependency rules
// (DESIGN.md: dependencies point down and inward only). It has no code.
package layering
