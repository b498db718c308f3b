// Package dedupe finds customers that are probably the same person although
// they share no identity (no common email, phone or external id): a
// probabilistic duplicate finder in the Fellegi–Sunter tradition.
//
// Find blocks the records on several keys (national id, phone, email, birth
// date, phonetic codes of the names, postcode with name initials, and a
// sorted neighbourhood over name keys), so it compares a few dozen
// candidates per record instead of all pairs, and caps every block so a
// common key cannot explode the work. Each candidate pair is compared field
// by field (Jaro–Winkler, Levenshtein, swapped given name and surname,
// transposed or day/month-swapped dates, one-edit phone, email and id
// typos, pinyin for Chinese names), each outcome adds a log-likelihood
// weight, and the sum becomes a score in [0, 1] with the per-field evidence
// a reviewer needs.
//
// The package only proposes pairs; merging is someone else's job. It knows
// nothing about storage or HTTP, and its output is deterministic.
package dedupe
