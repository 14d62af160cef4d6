// Package clean holds sift's row-level cleaning stages: the length filter
// (stage "length_filter") and, later, PII redaction.
//
// Importing the package registers its stages with the recipe registry.
package clean
