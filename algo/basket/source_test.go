package basket

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// basketLists lists b's baskets as item ids.
func basketLists(b *Baskets) [][]string {
	var out [][]string
	for k := 0; k < b.Len(); k++ {
		var l []string
		for _, i := range b.Idx[b.Ptr[k]:b.Ptr[k+1]] {
			l = append(l, b.Items[i])
		}
		out = append(out, l)
	}
	return out
}

func TestFromInteractions(t *testing.T) {
	s := &partition.Interactions{
		Keys:  []string{"inv1", "inv2", "inv3"},
		Ptr:   []int32{0, 3, 5, 6},
		Other: []string{"a", "a", "c", "b", "c", "a"},
		Value: []float64{2, 1, -1, 0, 5, -3},
	}
	if got := basketLists(FromInteractions(s, false)); !reflect.DeepEqual(got, [][]string{{"a", "c"}, {"b", "c"}, {"a"}}) {
		t.Fatalf("baskets %v", got)
	}
	// Returns out: inv1 keeps a (one of its lines is positive), inv2 keeps
	// c, inv3 keeps nothing and is no basket.
	if got := basketLists(FromInteractions(s, true)); !reflect.DeepEqual(got, [][]string{{"a"}, {"c"}}) {
		t.Fatalf("baskets without returns %v", got)
	}
}

// Transactions whose lines carry items (as a shard imported with --item
// reads them) make a basket per invoice, or per customer and day.
func TestFromTransactions(t *testing.T) {
	day := int64(86400)
	s := &partition.Transactions{
		Keys:    []string{"c1", "c2"},
		Ptr:     []int32{0, 4, 6},
		Time:    []int64{day + 10, day + 20, 2*day + 5, 2*day + 6, day, day + 1},
		Invoice: []string{"i1", "i1", "i2", "", "i3", "i3"},
		Return:  []bool{false, false, false, true, false, false},
	}
	items := []string{"a", "b", "a", "c", "b", ""}
	if got := basketLists(FromTransactions(s, items, BasketInvoice, false)); !reflect.DeepEqual(got, [][]string{{"a", "b"}, {"a"}, {"c"}, {"b"}}) {
		t.Fatalf("by invoice %v", got)
	}
	if got := basketLists(FromTransactions(s, items, BasketCustomer, true)); !reflect.DeepEqual(got, [][]string{{"a", "b"}, {"a"}, {"b"}}) {
		t.Fatalf("by customer and day, returns out %v", got)
	}
}

// A transactions version with items is a source: by invoice when it has
// an invoice column, else by customer and day; --basket invoice without
// invoices, --basket user, and a version without items are refused.
func TestSourceOfTransactions(t *testing.T) {
	tx := &proto.DatasetVersion{Version: 1, Transactions: &proto.TransactionsInfo{Key: "c", Item: "sku", Invoice: "inv"}}
	for _, tc := range []struct {
		basket, invoice, item, want, err string
	}{
		{"", "inv", "sku", BasketInvoice, ""},
		{"", "", "sku", BasketCustomer, ""},
		{BasketCustomer, "inv", "sku", BasketCustomer, ""},
		{BasketInvoice, "", "sku", "", "has no invoice column: --basket invoice needs an import with --invoice"},
		{BasketUser, "inv", "sku", "", "a basket is an invoice or a customer's day"},
		{"", "inv", "", "", "dataset d has no items: import it with --item"},
	} {
		tx.Transactions.Invoice, tx.Transactions.Item = tc.invoice, tc.item
		src, err := sourceOf("d", tx, &Params{Basket: tc.basket, ExcludeReturns: true})
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: %v, want %q", tc, err, tc.err)
		case tc.err == "" && (err != nil || src != Source{Kind: proto.KindTransactions, Basket: tc.want, ExcludeReturns: true}):
			t.Errorf("%+v: %+v, %v", tc, src, err)
		}
	}
}
