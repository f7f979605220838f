package clv

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cdnowCalEnd is the calibration end of the published CDNOW fits.
var cdnowCalEnd = mustDate("1997-09-30")

func mustDate(s string) int64 {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

// txRow is one transaction of a test dataset.
type txRow struct {
	key    string
	time   int64
	amount float64
}

// loadCDNOW reads testdata/cdnow/CDNOW_sample.txt: customer (master id),
// date, amount.
func loadCDNOW(t testing.TB) []txRow {
	t.Helper()
	f, err := os.Open("testdata/cdnow/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []txRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("bad line %q", sc.Text())
		}
		d, err := time.Parse("20060102", fs[2])
		if err != nil {
			t.Fatal(err)
		}
		a, err := strconv.ParseFloat(fs[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, txRow{key: fs[0], time: d.Unix(), amount: a})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(rows, func(a, b txRow) int {
		return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.time, b.time))
	})
	return rows
}

// shardRows splits rows (grouped by key, keys ascending, times ascending
// within a key) into n shards by customer, round-robin over the customers
// in key order, and returns them as Tx.
func shardRows(rows []txRow, n int) []*Tx {
	shards := make([]*Tx, n)
	for i := range shards {
		shards[i] = &Tx{Ptr: []int32{0}}
	}
	c := -1
	for i, r := range rows {
		if i == 0 || r.key != rows[i-1].key {
			c++
			s := shards[c%n]
			s.Keys = append(s.Keys, r.key)
			s.Ptr = append(s.Ptr, s.Ptr[len(s.Ptr)-1])
		}
		s := shards[c%n]
		s.Time = append(s.Time, r.time)
		s.Amount = append(s.Amount, r.amount)
		s.Ptr[len(s.Ptr)-1]++
	}
	return shards
}

var cdnowHoldoutEnd = mustDate("1998-06-30")

// cdnowFits memoises the CDNOW fits the tests share.
var cdnowFits = map[string]*Model{}

// cdnowFit returns the fit of CDNOW (calibration end 1997-09-30, holdout
// to 1998-06-30, weeks) over n shards.
func cdnowFit(t *testing.T, model string, penalty float64, n int) *Model {
	t.Helper()
	key := fmt.Sprint(model, penalty, n)
	if m, ok := cdnowFits[key]; ok {
		return m
	}
	cfg := Config{CalibrationEnd: cdnowCalEnd, HoldoutEnd: cdnowHoldoutEnd, Model: model, Penalty: penalty}
	m, err := Reference(cfg, shardRows(loadCDNOW(t), n)...)
	if err != nil {
		t.Fatal(err)
	}
	cdnowFits[key] = m
	return m
}
