package partition

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// A transactions import with --item and --item-name keeps each line's item
// and quantity, and one name per item: the first non-blank in file order,
// on every row of the item in every shard.
func TestSplitTransactionsItems(t *testing.T) {
	csv := "inv,cust,when,code,desc,qty,price\n" +
		"1,a,2011-01-01,X, ,2,1.5\n" + // X's first row has a blank name
		"1,a,2011-01-01,Y,WHITE MUG,1,3\n" +
		"2,b,2011-01-02,X,RED BOX,4,1.5\n" + // X is named here
		"2,b,2011-01-02,X,red box (old),1,1.5\n" + // a later name is ignored
		"3,c,2011-01-03,,NO CODE,1,2\n" + // a line without an item
		"C4,a,2011-01-04,Y,WHITE MUG,-1,3\n" +
		"5,d,2011-01-05,Z,,3,1\n" // Z has no name
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			res, err := splitTransactions(t, "tx.csv", csv, TransactionOptions{Key: "cust", Time: "when", Invoice: "inv",
				Quantity: "qty", Price: "price", Item: "code", ItemName: "desc", Shards: shards})
			if err != nil {
				t.Fatal(err)
			}
			if res.Items != 3 || res.Named != 2 || res.Rows != 7 {
				t.Fatalf("Items, Named, Rows = %d, %d, %d, want 3, 2, 7", res.Items, res.Named, res.Rows)
			}
			type line struct {
				item string
				qty  float64
			}
			got := map[string][]line{}
			names := map[string]string{}
			for _, sf := range res.Shards {
				s := readTransactionsFile(t, sf)
				checkTransactionsShape(t, s)
				if len(s.Item) != s.Rows() || len(s.Quantity) != s.Rows() || s.ItemNames == nil {
					t.Fatalf("shard %d: %d items, %d quantities, names %v for %d rows", sf.Index, len(s.Item), len(s.Quantity), s.ItemNames, s.Rows())
				}
				for k, key := range s.Keys {
					for r := s.Ptr[k]; r < s.Ptr[k+1]; r++ {
						got[key] = append(got[key], line{s.Item[r], s.Quantity[r]})
					}
				}
				for it, name := range s.ItemNames {
					if old, ok := names[it]; ok && old != name {
						t.Fatalf("item %s named %q and %q", it, old, name)
					}
					names[it] = name
				}
			}
			want := map[string][]line{"a": {{"X", 2}, {"Y", 1}, {"Y", -1}}, "b": {{"X", 4}, {"X", 1}}, "c": {{"", 1}}, "d": {{"Z", 3}}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("lines %v, want %v", got, want)
			}
			if fmt.Sprint(names) != fmt.Sprint(map[string]string{"X": "RED BOX", "Y": "WHITE MUG"}) {
				t.Fatalf("names %v", names)
			}
		})
	}
}

// Without --item a shard reads as before: no items, no quantities, no
// names; with --item but no --item-name there are items and no names.
func TestSplitTransactionsItemOptional(t *testing.T) {
	csv := "cust,when,code,amount\na,2011-01-01,X,2\nb,2011-01-02,Y,3\n"
	res, err := splitTransactions(t, "tx.csv", csv, TransactionOptions{Key: "cust", Time: "when", Amount: "amount", Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, sf := range res.Shards {
		if s := readTransactionsFile(t, sf); s.Item != nil || s.Quantity != nil || s.ItemNames != nil {
			t.Fatalf("shard without items has items %v, quantities %v, names %v", s.Item, s.Quantity, s.ItemNames)
		}
	}
	res, err = splitTransactions(t, "tx.csv", csv, TransactionOptions{Key: "cust", Time: "when", Amount: "amount", Item: "code", Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := readTransactionsFile(t, res.Shards[0])
	if strings.Join(s.Item, ",") != "X,Y" || s.Quantity != nil || s.ItemNames != nil || res.Items != 2 || res.Named != 0 {
		t.Fatalf("items %v, quantities %v, names %v, result %d items %d named", s.Item, s.Quantity, s.ItemNames, res.Items, res.Named)
	}
}

func TestTransactionOptionsItems(t *testing.T) {
	base := TransactionOptions{Key: "cust", Time: "when", Amount: "amount", TempDir: t.TempDir()}
	for _, tc := range []struct {
		item, name, want string
	}{
		{"", "desc", "ItemName needs Item"},
		{"cust", "", `Key and Item name the same column "cust"`},
		{"code", "code", `Item and ItemName name the same column "code"`},
	} {
		o := base
		o.Item, o.ItemName = tc.item, tc.name
		err := o.Validate()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Item %q ItemName %q: %v, want %q", tc.item, tc.name, err, tc.want)
		}
	}
	_, err := splitTransactions(t, "tx.csv", "cust,when,amount\na,2011-01-01,2\n",
		TransactionOptions{Key: "cust", Time: "when", Amount: "amount", Item: "code"})
	if !errors.Is(err, ErrNoColumn) || !strings.Contains(err.Error(), "code") {
		t.Fatalf("missing item column: %v", err)
	}
}

// itemShardBytes is a transactions shard with items, names and
// quantities.
func itemShardBytes(t testing.TB) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("cust,when,inv,code,desc,qty,price\n")
	for i := range 200 {
		fmt.Fprintf(&b, "c%d,2011-01-%02d,%d,P%d,NAME %d,%d,1.25\n", i%17, 1+i%28, 500+i/3, i%11, i%11, 1+i%5-(i%13)/12*9)
	}
	res, err := splitTransactions(t, "tx.csv", b.String(), TransactionOptions{Key: "cust", Time: "when", Invoice: "inv",
		Quantity: "qty", Price: "price", Item: "code", ItemName: "desc", Shards: 1, RowGroupRows: 32})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzReadTransactionItems feeds mutations of a shard with items to
// ReadTransactions: an error wrapping ErrCorrupt, or a shard whose item
// columns have a value per row and whose names are of its items.
func FuzzReadTransactionItems(f *testing.F) {
	good := itemShardBytes(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(transactionShardBytes(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadTransactions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkTransactionsShape(t, s)
		if s.Item != nil && len(s.Item) != s.Rows() || s.Quantity != nil && len(s.Quantity) != s.Rows() {
			t.Fatalf("%d items, %d quantities for %d rows", len(s.Item), len(s.Quantity), s.Rows())
		}
		if s.Item == nil && (s.Quantity != nil || s.ItemNames != nil) {
			t.Fatal("quantities or names without items")
		}
		for it := range s.ItemNames {
			if !slices.Contains(s.Item, it) {
				t.Fatalf("name of %q, an item no row has", it)
			}
		}
	})
}
