package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/spf13/cobra"
)

func newTrainALS() *cobra.Command {
	spec := proto.JobSpec{Algo: alsjob.Name}
	as := new(alsjob.Params)
	var wait bool
	cmd := &cobra.Command{
		Use:   "als --dataset NAME --rank R --lambda L --iterations N [--implicit --alpha A] [--seed S] [--holdout F] [--wait]",
		Short: "Factorise a user × item interactions (or customer × item transactions) dataset with ALS",
		Long: `als submits an ALS job on an interactions dataset. Users and items are both
sharded: each half-iteration solves one side's factors shard by shard on the
workers from the other side's factors, which the workers read from the object
store; no factor matrix goes through the coordinator.

Explicit ratings (default): weighted-λ regularisation (Zhou et al. 2008), λ·n
for a row with n ratings; --reg-scaling none uses plain λ. Implicit counts
(--implicit, Hu, Koren & Volinsky 2008): confidence 1 + α·count over every
user × item pair, with YᵀY computed once per half-iteration.

--holdout F keeps a fraction F of the (user, item) pairs out of training,
chosen by a hash of the pair and the seed (the same on every run and cluster
size). Every iteration reports the objective and, on the held-out pairs, RMSE
(explicit) or precision@10, recall@10 and NDCG@10 (implicit).

On a transactions dataset imported with --item, customers are the users and
--value says what a customer × item cell holds: count (lines, a return line
counting −1), quantity or amount, summed over the customer's lines of the
item with returns netted; a cell whose net is 0 or less is left out. Both
sides read the customer shards (each worker reads every shard once for the
item side).`,
		Example: `  mathcrm train als --dataset ratings --rank 10 --lambda 0.1 --iterations 10 --holdout 0.2 --wait
  mathcrm train als --dataset purchases --implicit --alpha 40 --rank 32 --lambda 1 --iterations 10 --holdout 0.1 --wait
  mathcrm train als --dataset retail --value quantity --implicit --alpha 10 --rank 16 --iterations 10 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Params = proto.MustJSON(as)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "interactions dataset, or transactions dataset imported with --item (required)")
	f.StringVar(&as.Value, "value", "", "transactions: what a customer × item cell holds: count (default), quantity or amount, returns netted")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	d := als.DefaultConfig()
	f.IntVar(&as.Rank, "rank", d.Rank, "number of latent factors")
	f.Float64Var(&as.Lambda, "lambda", d.Lambda, "regularisation λ")
	f.IntVar(&as.Iterations, "iterations", d.Iterations, "iterations (each solves users, then items)")
	f.BoolVar(&as.Implicit, "implicit", false, "implicit feedback: values are counts (Hu, Koren & Volinsky)")
	f.Float64Var(&as.Alpha, "alpha", d.Alpha, "implicit: confidence 1 + alpha × count")
	f.StringVar(&as.RegScaling, "reg-scaling", d.RegScaling, "weighted (λ × the row's interaction count) or none (plain λ)")
	f.Float64Var(&as.Holdout, "holdout", 0, "fraction of user × item pairs held out for evaluation")
	f.Uint64Var(&spec.Seed, "seed", 1, "random seed (initial factors, held-out split)")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	return cmd
}

func printALS(w io.Writer, d *proto.ModelDetail) {
	m := detailOf[alsjob.Factorization](d)
	cfg := m.Summary.Config
	kind := "explicit ratings, "
	if cfg.Implicit {
		kind = fmt.Sprintf("implicit counts (alpha %g), ", cfg.Alpha)
	}
	fmt.Fprintf(w, "model %s: ALS, rank %d, lambda %g (%s), %s%d iterations, from job %s on %s version %d\n",
		d.Model.ID, cfg.Rank, cfg.Lambda, cfg.RegScaling, kind, m.Summary.Iterations, d.Model.Job, m.Dataset, m.Version)
	if value, ok := m.TxValue(); ok {
		fmt.Fprintf(w, "from transactions: customers (%s) × items (%s), each cell the %s of the customer's lines, returns netted\n", m.User, m.Item, value)
	}
	fmt.Fprintf(w, "%d users × %d items; %d training interactions, %d held out\n\n", m.Users, m.Items, m.Summary.NTrain, m.Summary.NHoldout)
	tw := table(w)
	if cfg.Implicit {
		fmt.Fprintln(tw, "ITERATION\tOBJECTIVE\tPRECISION@K\tRECALL@K\tNDCG@K\tUSERS EVALUATED")
		for _, it := range m.Summary.History {
			fmt.Fprintf(tw, "%d\t%.10g\t%s\t%s\t%s\t%s\n", it.Iteration, it.Objective, optional(it.EvalUsers > 0, it.Precision),
				optional(it.EvalUsers > 0, it.Recall), optional(it.EvalUsers > 0, it.NDCG), optionalInt(it.EvalUsers > 0, it.EvalUsers))
		}
	} else {
		fmt.Fprintln(tw, "ITERATION\tOBJECTIVE\tTRAIN RMSE\tHOLDOUT RMSE")
		for _, it := range m.Summary.History {
			fmt.Fprintf(tw, "%d\t%.10g\t%.6f\t%s\n", it.Iteration, it.Objective, it.TrainRMSE, optional(it.NHoldout > 0, it.HoldoutRMSE))
		}
	}
	_ = tw.Flush()
	if len(m.Summary.Popular) > 0 {
		fmt.Fprint(w, "\nmost popular items:")
		for i, p := range m.Summary.Popular {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, " %s (%d)", p.ID, p.Count)
		}
		fmt.Fprintln(w)
	}
}

func optionalInt(ok bool, x int64) string {
	if !ok {
		return "-"
	}
	return strconv.FormatInt(x, 10)
}

func newRecommend() *cobra.Command {
	var model, user, items string
	var n int
	cmd := &cobra.Command{
		Use:   "recommend --model M (--user U | --items A,B) [--n 10]",
		Short: "Print a user's top-N items from an ALS model, excluding items the user already has",
		Long: `recommend reads the user's factor and every item factor of an ALS model from
the object store, and the user's interactions from the training dataset, and
prints the N items with the highest scores that the user has no interaction
with. A user the model does not know (or has no training interaction for) gets
the most popular items, scored by their interaction counts, and a note saying so.

For a basket model, --items names the items in a basket: recommend ranks the
consequents of the rules that fire (every antecedent item in the basket) by
confidence, then lift, leaving out the items already there.`,
		Example: `  mathcrm recommend --model model-3 --user 17850
  mathcrm recommend --model model-5 --items 22386,85099B --n 5
  mathcrm recommend --model model-3 --user 17850 --n 5 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return fmt.Errorf("--n must be at least 1")
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := getModel(ctx, c, model)
				if err != nil {
					return err
				}
				if m := detailOf[basket.Mined](d); m != nil {
					return recommendBasket(os.Stdout, model, m, splitList(items), n)
				}
				m := detailOf[alsjob.Factorization](d)
				if m == nil {
					return fmt.Errorf("model %s is %s, not an ALS or a basket model", model, d.Model.Kind)
				}
				if user == "" {
					return fmt.Errorf("--user is required for ALS model %s", model)
				}
				recs, known, err := recommend(ctx, c, m, user, n)
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, map[string]any{"model": model, "user": user, "known_user": known, "items": named(recs, m.ItemNames)})
				}
				if !known {
					fmt.Printf("user %s is not in model %s (or has no training interaction): the most popular items instead\n", user, model)
				}
				return printScored(os.Stdout, "SCORE", "%.6g", recs, m.ItemNames)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "ALS model id (required)")
	f.StringVar(&user, "user", "", "ALS: user id")
	f.StringVar(&items, "items", "", "basket model: the items in the basket, comma separated")
	f.IntVar(&n, "n", 10, "number of items")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

// recommend computes a user's top n items: it reads the user's factor shard,
// every item factor shard and the user's interactions shard.
func recommend(ctx context.Context, c *client.Client, m *alsjob.Factorization, user string, n int) ([]als.Scored, bool, error) {
	sum := &m.Summary
	var ds proto.Dataset
	if err := c.Call(ctx, proto.APIDatasetShow, proto.Named{Name: m.Dataset}, &ds); err != nil {
		return nil, false, err
	}
	ver := ds.Version(m.Version)
	if ver == nil {
		return nil, false, fmt.Errorf("dataset %s has no version %d", m.Dataset, m.Version)
	}
	shard := partition.ShardOf(user, len(ver.Shards))
	var seen []string
	if value, ok := m.TxValue(); ok {
		ref := ver.Shards[shard]
		b, err := c.Blob(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, false, err
		}
		tx, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, false, fmt.Errorf("dataset %s shard %d: %w", m.Dataset, ref.Index, err)
		}
		if i := sort.SearchStrings(tx.Keys, user); i < len(tx.Keys) && tx.Keys[i] == user && tx.Item != nil {
			seen = alsjob.CustomerItems(tx, i, value)
		}
	} else {
		inter, err := c.Interactions(ctx, ver.Shards[shard])
		if err != nil {
			return nil, false, err
		}
		if i := sort.SearchStrings(inter.Keys, user); i < len(inter.Keys) && inter.Keys[i] == user {
			seen = dedup(inter.Other[inter.Ptr[i]:inter.Ptr[i+1]])
		}
	}
	uf, err := readFactors(ctx, c, sum.Users[shard])
	if err != nil {
		return nil, false, err
	}
	i := sort.SearchStrings(uf.IDs, user)
	if i == len(uf.IDs) || uf.IDs[i] != user || uf.Count == nil || uf.Count[i] == 0 {
		return als.PopularTopN(nil, sum.Popular, seen, n), false, nil
	}
	items := make([]*als.Factors, len(sum.Items))
	for s, ref := range sum.Items {
		if items[s], err = readFactors(ctx, c, ref); err != nil {
			return nil, false, err
		}
	}
	tab, err := als.NewTable(nil, items)
	if err != nil {
		return nil, false, err
	}
	return als.TopN(nil, uf.Row(i), tab, seen, n), true, nil
}

// namedItem is a scored item with its name, where the model has one.
type namedItem struct {
	ID    string  `json:"id"`
	Name  string  `json:"name,omitempty"`
	Score float64 `json:"score"`
}

func named(s []als.Scored, names map[string]string) []namedItem {
	out := make([]namedItem, len(s))
	for i, x := range s {
		out[i] = namedItem{ID: x.ID, Name: names[x.ID], Score: x.Score}
	}
	return out
}

// printScored prints ranked items with their scores, and their names when
// the model has some.
func printScored(w io.Writer, head, format string, s []als.Scored, names map[string]string) error {
	tw := table(w)
	if names == nil {
		fmt.Fprintf(tw, "RANK\tITEM\t%s\n", head)
		for i, r := range s {
			fmt.Fprintf(tw, "%d\t%s\t"+format+"\n", i+1, r.ID, r.Score)
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "RANK\tITEM\tNAME\t%s\n", head)
	for i, r := range s {
		fmt.Fprintf(tw, "%d\t%s\t%s\t"+format+"\n", i+1, r.ID, names[r.ID], r.Score)
	}
	return tw.Flush()
}

// readFactors reads one factor shard of an ALS model from the object
// store, verified.
func readFactors(ctx context.Context, c *client.Client, ref als.FactorRef) (*als.Factors, error) {
	b, err := c.Blob(ctx, alsjob.BlobRef(ref))
	if err != nil {
		return nil, err
	}
	return als.DecodeFactors(b)
}

// dedup drops adjacent duplicates of a sorted list.
func dedup(s []string) []string {
	out := make([]string, 0, len(s))
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// exportALS writes an ALS model. JSON streams one document,
// {"kind":"als","rank":..,"users":[..],"items":[..],"user_factors":[[..]],
// "item_factors":[[..]]}, reading one factor shard at a time. Parquet writes
// a directory: users.parquet and items.parquet (id, count, f0..f{rank-1})
// and model.json (everything but the factors).
func exportALS(ctx context.Context, c *client.Client, d *proto.ModelDetail, m *alsjob.Factorization, format, out string) error {
	sum := &m.Summary
	switch format {
	case "json":
		return writeOut(out, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<20)
			head, _ := json.Marshal(map[string]any{"kind": "als", "model": d.Model.ID, "rank": sum.Config.Rank,
				"config": sum.Config, "dataset": m.Dataset, "dataset_version": m.Version, "user_column": m.User,
				"item_column": m.Item, "item_names": m.ItemNames, "popular": sum.Popular, "history": sum.History})
			bw.Write(head[:len(head)-1])
			for _, part := range []struct {
				name  string
				refs  []als.FactorRef
				facts bool
			}{{"users", sum.Users, false}, {"items", sum.Items, false}, {"user_factors", sum.Users, true}, {"item_factors", sum.Items, true}} {
				fmt.Fprintf(bw, ",%q:[", part.name)
				first := true
				for _, ref := range part.refs {
					f, err := readFactors(ctx, c, ref)
					if err != nil {
						return err
					}
					for i, id := range f.IDs {
						if !first {
							bw.WriteByte(',')
						}
						first = false
						var b []byte
						if part.facts {
							b, _ = json.Marshal(f.Row(i))
						} else {
							b, _ = json.Marshal(id)
						}
						bw.Write(b)
					}
				}
				bw.WriteByte(']')
			}
			bw.WriteString("}\n")
			return bw.Flush()
		})
	case "parquet":
		if out == "" || out == "-" {
			return fmt.Errorf("--format parquet writes a directory: give it with --out DIR")
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		cols := []partition.ExportColumn{{Name: "count"}}
		for k := range sum.Config.Rank {
			cols = append(cols, partition.ExportColumn{Name: "f" + strconv.Itoa(k)})
		}
		for _, side := range []struct {
			file, key string
			refs      []als.FactorRef
		}{{"users.parquet", m.User, sum.Users}, {"items.parquet", m.Item, sum.Items}} {
			err := writeOut(filepath.Join(out, side.file), func(w io.Writer) error {
				e, err := partition.NewExporter("parquet", w, side.key, cols)
				if err != nil {
					return err
				}
				row := make([]float64, len(cols))
				for _, ref := range side.refs {
					f, err := readFactors(ctx, c, ref)
					if err != nil {
						return err
					}
					for i, id := range f.IDs {
						row[0] = float64(f.Count[i])
						copy(row[1:], f.Row(i))
						if err := e.Write(id, row); err != nil {
							return err
						}
					}
				}
				return e.Close()
			})
			if err != nil {
				return err
			}
		}
		return writeOut(filepath.Join(out, "model.json"), func(w io.Writer) error {
			return printJSON(w, map[string]any{"kind": "als", "model": d.Model.ID, "rank": sum.Config.Rank, "config": sum.Config,
				"dataset": m.Dataset, "dataset_version": m.Version, "user_column": m.User, "item_column": m.Item,
				"item_names": m.ItemNames, "popular": sum.Popular, "history": sum.History, "users": "users.parquet", "items": "items.parquet"})
		})
	}
	return fmt.Errorf("--format %q is not supported (json, parquet)", format)
}
