// Package churn models churn risk for contractual and subscription
// customers: it reads any customer table (CSV with a header row), turns its
// columns into features (numeric columns imputed and standardized,
// categorical columns one-hot encoded with a capped number of levels),
// fits an L2-regularized logistic regression on a deterministic stratified
// training split, and reports held-out discrimination (AUC), log-loss,
// Brier score and calibration, the coefficients on the original feature
// names, and for each scored customer the features that push the risk up.
//
// The package is pure computation: it knows nothing of storage or HTTP and
// holds no reference figures (those live in the tests). Bad input rows and
// malformed values are counted and reported, never fatal. Fits are
// deterministic: the same input and seed give bit-identical results
// whatever the number of workers, because work is split into fixed chunks
// whose partial sums are added in chunk order.
package churn
