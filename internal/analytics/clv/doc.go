// Package clv fits the non-contractual ("buy till you die") customer-base
// models that Rapport uses for customer lifetime value: BG/NBD and
// Pareto/NBD for the number of repeat transactions, and Gamma-Gamma for the
// value of a transaction. It also turns raw transactions into the
// per-customer recency/frequency summaries the models need, scores customers
// (P(alive), expected transactions, expected spend, CLV) and checks a fit
// against a holdout period.
//
// The package is pure computation: it knows nothing of storage or HTTP and
// holds no published reference figures (those live in the tests). Every
// likelihood is evaluated in log space; the fits maximise it with gonum's
// BFGS over the logarithms of the parameters. Large inputs are split into
// fixed-size chunks evaluated on all cores and summed in chunk order, so a
// fit gives bit-identical results whatever the number of workers.
package clv
