// Package clean holds sift's row-level cleaning stages: the length filter
// (stage "length_filter") and PII and secret redaction (stage "pii_redact",
// [NewRedactor]).
//
// The redactor finds e-mail addresses, phone numbers (Chinese mobile and
// landline, NANP, E.164), Chinese resident ID numbers, payment cards,
// IBANs, IP addresses and secrets (cloud and API keys, tokens, private-key
// blocks, JWTs, credentials in URLs) in English and Chinese text. Every
// recognizer is a github.com/dlclark/regexp2 pattern whose lookarounds give
// digit and word boundaries that work without spaces ("手机13812345678。"),
// followed by a validator where the format has one (Luhn, ISO 7064
// MOD 11-2, mod-97, net/netip, base64url JSON). A byte-level prefilter
// runs a pattern only on the short windows around its trigger bytes, which
// makes the stage tens of times faster than running every pattern over the
// whole text, and finds the same values.
//
// Importing the package registers its stages with the recipe registry.
package clean
