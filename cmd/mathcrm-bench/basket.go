package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

func init() { register("basket", benchBasket) }

var (
	basketData   = flag.String("baskets", "", "invoice,item CSV from deploy/bench_basket.py gen, for the basket benchmark")
	basketScript = flag.String("basket-ref", "deploy/bench_basket.py", "the Python reference of the basket benchmark")
)

// Parameters of the basket benchmark (issue 14's).
const (
	basketSupport = 0.001
	basketConf    = 0.5
	basketMaxLen  = 3
	basketShards  = 32
)

// basketRef is one line of bench_basket.py mine.
type basketRef struct {
	Seconds  float64 `json:"seconds"`
	Baskets  int64   `json:"baskets"`
	MinCount int64   `json:"min_count"`
	Itemsets []int   `json:"itemsets"`
	SHA256   string  `json:"sha256"`
}

// benchBasket mines the generated invoices (imported as invoice × item
// interactions) with `train basket` end to end — submit until the model is
// committed — on the workers, and the Python reference (scipy sparse pairs,
// longer itemsets by counting) on the same file, rounds interleaved; it
// checks that both found the same itemsets with the same counts and reads
// the workers' peak memory.
func benchBasket(ctx context.Context, env *benchEnv) error {
	if *basketData == "" {
		return nil
	}
	rounds := max(1, flag.Lookup("rounds").Value.(flag.Getter).Get().(int))
	t0 := time.Now()
	ds, err := env.cl.Import(ctx, "bench-invoices", *basketData, client.ImportOptions{Kind: proto.KindInteractions,
		Options:      partition.Options{Shards: basketShards, TempDir: env.dir},
		Interactions: partition.InteractionOptions{User: "invoice", Item: "item"}})
	if err != nil {
		return err
	}
	v := ds.Latest()
	emit(map[string]any{"bench": "basket_import", "lines": v.Rows, "invoices": v.Interactions.Users, "items": v.Interactions.Items,
		"shards": len(v.Shards), "seconds": round(time.Since(t0).Seconds(), 2)})
	spec := basket.Spec("bench-invoices", basket.Params{MinSupport: basketSupport, MinConfidence: basketConf, MaxLen: basketMaxLen,
		MaxCandidates: 20_000_000})
	var ours, theirs []float64
	for r := range rounds + 1 {
		env.wp.resetPeaks()
		stop, err := startProfile(fmt.Sprintf("%s.basket.%d", profile, r))
		if err != nil {
			return err
		}
		start := time.Now()
		j, err := trainJob(ctx, env.cl, spec)
		stop()
		if err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		var passes []float64
		for _, p := range j.History {
			passes = append(passes, round(p.Seconds, 3))
		}
		m, err := minedModel(ctx, env.cl, j.Model)
		if err != nil {
			return err
		}
		sum, lens := itemsetDigest(m)
		line := map[string]any{"bench": "basket_mine", "impl": "mathcrm dev", "round": r, "invoices": m.Baskets,
			"min_support": basketSupport, "max_len": basketMaxLen, "workers": env.workers, "shards": len(v.Shards),
			"seconds": round(secs, 3), "pass_s": passes, "itemsets": lens, "rules": len(m.Rules),
			"worker_peak_rss_mib": env.wp.peaks()}
		if r == 0 {
			line["what"] = "first job after the import: shards read from the object store"
		} else {
			ours = append(ours, secs)
		}
		emit(line)
		if r == 0 {
			continue
		}
		ref, err := basketReference(env.python, *basketScript, *basketData)
		if err != nil {
			return err
		}
		theirs = append(theirs, ref.Seconds)
		emit(map[string]any{"bench": "basket_mine", "impl": "python scipy sparse pairs + counting", "round": r,
			"invoices": ref.Baskets, "seconds": ref.Seconds, "itemsets": ref.Itemsets,
			"same_itemsets_and_counts": ref.SHA256 == sum && ref.MinCount == m.MinCount})
	}
	if len(theirs) > 0 {
		emit(map[string]any{"bench": "basket_mine_ratio", "what": "mathcrm dev job / Python reference, same run",
			"ratio_best": round(minOf(ours)/minOf(theirs), 3), "ratio_median": round(median(ours)/median(theirs), 3),
			"mathcrm_s": ours, "python_s": theirs, "target": "<= 0.5"})
	}
	return nil
}

func minedModel(ctx context.Context, cl *client.Client, id string) (*basket.Mined, error) {
	var d proto.ModelDetail
	if err := cl.Call(ctx, proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		return nil, err
	}
	v, err := builtin.Detail(&d)
	if err != nil {
		return nil, err
	}
	m, ok := v.(*basket.Mined)
	if !ok {
		return nil, fmt.Errorf("model %s is not a basket model", id)
	}
	return m, nil
}

// itemsetDigest is bench_basket.py's digest of a model's itemsets, and
// their number per length.
func itemsetDigest(m *basket.Mined) (string, []int) {
	lines := make([]string, len(m.Itemsets))
	var lens []int
	for i, is := range m.Itemsets {
		lines[i] = strings.Join(is.Items, ",") + "=" + strconv.FormatInt(is.Count, 10)
		for len(lens) < len(is.Items) {
			lens = append(lens, 0)
		}
		lens[len(is.Items)-1]++
	}
	slices.Sort(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:]), lens
}

func basketReference(python, script, data string) (*basketRef, error) {
	out, err := exec.Command(python, script, "mine", "--data", data, "--min-support", fmt.Sprint(basketSupport),
		"--max-len", strconv.Itoa(basketMaxLen)).Output()
	if err != nil {
		return nil, fmt.Errorf("%s mine: %w", script, err)
	}
	var r basketRef
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("%s mine printed %q: %w", script, out, err)
	}
	return &r, nil
}
