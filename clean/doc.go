// Package clean holds sift's row-level cleaning stages: the length filter
// (stage "length_filter") and PII and secret redaction (stage "pii_redact",
// [NewRedactor]). [Redact] redacts one string without Arrow, and
// [NewTextRedactor] builds a reusable redactor for strings; the stage runs
// the same detection over the text of a batch.
//
// The redactor finds e-mail addresses (in any script), phone numbers
// (Chinese mobile and landline, UK national, NANP, E.164), Chinese
// resident ID numbers, payment cards, IBANs, IP addresses and secrets
// (AWS, GitHub, OpenAI, Stripe, Google and Slack keys and tokens, Slack
// webhooks, PEM and OpenPGP private-key blocks, JWTs, credentials in URLs)
// in English and Chinese text, and leaves documentation placeholders
// ("AKIAXXXXXXXXXXXXXXXX") and section or version numbers alone. Every
// recognizer is a github.com/dlclark/regexp2 pattern whose lookarounds give
// digit and word boundaries that work without spaces ("手机13812345678。"),
// followed by a validator where the format has one (Luhn, ISO 7064
// MOD 11-2, mod-97, net/netip, base64url JSON). A byte-level prefilter
// runs a pattern only on the windows around its trigger bytes (a token's
// window grows to the token's end, however long), which makes the stage
// tens of times faster than running every pattern over the whole text, and
// finds the same values.
//
// Importing the package registers its stages with the recipe registry.
package clean
