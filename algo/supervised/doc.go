// Package supervised runs linear and logistic regression on the cluster:
// the two algorithms share their parameters (Params, under "linear" or
// "logistic" in a job spec), the checks of a spec against a dataset
// version, the leader's job, the worker's step and the exported model
// (Model, one blob kind for both). The arithmetic is algo/linear's and
// algo/logistic's; this package adapts it to algo/job.
//
// The features default to every column of the dataset but the target (and
// the categorical column it is one value of); a categorical feature enters
// one-hot. A linear model scores a features dataset into predictions, a
// logistic model into probabilities with their deciles (score.Ranker).
package supervised
