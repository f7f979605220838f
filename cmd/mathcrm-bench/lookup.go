package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// lookupTargets are issue 15's: one customer's rows in milliseconds.
const (
	lookupP99Target  = 0.010 // seconds
	lookupRateTarget = 2000  // lookups per second
)

// sampleKeys reads the keys of the first n rows of a CSV (the first
// column): the file's rows are spread over the shards by their key's hash.
func sampleKeys(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // header
	var keys []string
	for len(keys) < n && sc.Scan() {
		k, _, _ := strings.Cut(sc.Text(), ",")
		keys = append(keys, k)
	}
	return keys, sc.Err()
}

// benchLookup looks customers up in the score sets of the cluster (the
// scoring benchmark's, up to 10M rows) through the API `customer show`
// and `GET /v1/customers/{key}` use, from 8 clients at once: after a warm-up
// in which every shard's owner loads and sorts its score shard, it reports
// the latency percentiles and the throughput.
func benchLookup(ctx context.Context, env *benchEnv, data string, rows int64) error {
	keys, err := sampleKeys(data, 200000)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(15, 15))
	pick := func() string { return keys[r.IntN(len(keys))] }
	lookup := func(key string) (time.Duration, error) {
		t0 := time.Now()
		_, err := env.cl.Customer(ctx, key)
		return time.Since(t0), err
	}
	t0 := time.Now()
	for range 2000 { // warm-up: every shard indexed by its owner
		if _, err := lookup(pick()); err != nil {
			return err
		}
	}
	warm := time.Since(t0).Seconds()
	const clients, per = 8, 2500
	lat := make([][]time.Duration, clients)
	work := make([][]string, clients)
	for c := range work {
		for range per {
			work[c] = append(work[c], pick())
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, clients)
	t0 = time.Now()
	for c := range clients {
		wg.Go(func() {
			for _, k := range work[c] {
				d, err := lookup(k)
				if err != nil {
					errs[c] = fmt.Errorf("lookup %s: %w", k, err)
					return
				}
				lat[c] = append(lat[c], d)
			}
		})
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return all[min(len(all)-1, int(p*float64(len(all))))].Seconds() }
	rate := float64(len(all)) / secs
	emit(map[string]any{"bench": "customer_lookup", "impl": "mathcrm dev", "score_set_rows": rows, "workers": env.workers,
		"clients": clients, "lookups": len(all), "warmup_lookups": 2000, "warmup_s": round(warm, 2),
		"p50_ms": round(q(0.5)*1e3, 3), "p99_ms": round(q(0.99)*1e3, 3), "max_ms": round(all[len(all)-1].Seconds()*1e3, 3),
		"lookups_per_s": round(rate, 0), "target": "p99 <= 10 ms and >= 2000 lookups/s",
		"met": q(0.99) <= lookupP99Target && rate >= lookupRateTarget, "worker_peak_rss_mib": env.wp.peaks()})
	return nil
}
