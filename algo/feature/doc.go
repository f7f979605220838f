// Package feature turns dataset columns into the numbers models read, the
// same way in training and in scoring: a numeric column as it is, a
// categorical column as its one-hot columns "c=v" (1 where the row holds v,
// 0 elsewhere, missing where c is), standardised with the training
// version's means and scales when a model asks, and back again (Invert).
//
// On the leader it resolves a spec's column names against a version's
// statistics (Expand, Stats, Categories); on the workers it builds a shard's
// training matrix from a recipe, proto.Prep (BuildMatrix), or a model's
// input rows for scoring (ScoreRows).
package feature

import "errors"

// ErrColumn reports a shard that lacks a column the step needs, or a
// category value the step's dictionary does not hold: the dataset does not
// have the schema the job was planned for. It is a step.Error: the same
// step fails the same way on every worker.
var ErrColumn = errors.New("feature: column missing")
