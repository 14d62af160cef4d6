// Package augment holds sift's data augmentation stages: EDA-style synonym
// noise injection (stage "augment_synonyms") with protected spans and
// per-row deterministic randomness, and the thesauri it draws on.
//
// Importing the package registers its stages with the recipe registry.
package augment
